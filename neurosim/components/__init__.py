"""Component kinds: one module per kind owns its config section, timing, priced events,
static power, area and (where it can be contended) its SimPy model.

`registry` maps each compute `kind` to its class; `compute` holds what every compute kind
answers. SimPy models never import each other: `neurosim.simulate.build` wires them.
"""
