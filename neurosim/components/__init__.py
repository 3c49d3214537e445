"""SimPy models of hardware components; each receives its frozen config class.

Components never import each other: `neurosim.build` wires them. Each module also
holds the pure timing formula of its component, used by both fidelities.
"""
