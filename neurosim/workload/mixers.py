"""Recurrent token mixers: the state each block keeps and the element-wise work per token.

A block's token mixer is softmax attention (a KV cache, `neurosim.workload.attention`) or a
recurrence with a fixed state per sequence, updated once per token:

- ``linear``: spike-based linear attention, a heads x key_dim x value_dim state; the update
  and the readout cost one operation each per state element.
- ``hgrn``: HGRN-style gated linear recurrence (MatMul-free LM), one state value per hidden
  channel, ``h_t = f_t * h_{t-1} + (1 - f_t) * c_t`` computed as ``c + f * (h - c)``:
  3 operations per channel (subtract, multiply, add). The gates f and c come out of the
  block's linears.
- ``ssm``: Mamba-style selective state space model. The state is d_inner x d_state values
  plus the causal conv1d's last d_conv - 1 inputs per inner channel. Per token: the conv1d
  (a multiply and an add per tap and channel), the step size (softplus, then delta * x: 2
  per channel), per state element the discretisation (delta * A, exp, delta * B * x: 3),
  the scan update (multiply, add: 2) and the readout C . h (multiply, add: 2), and the skip
  D * x (2 per channel).

All of this work runs on the unit that holds the block's mixer input, charged as the
compute unit's ``state_update`` events.
"""

from __future__ import annotations

from dataclasses import dataclass

from neurosim.config.workload import BlockConfig

HGRN_OPS_PER_CHANNEL = 3
SSM_OPS_PER_STATE_ELEMENT = 7
SSM_OPS_PER_INNER_CHANNEL = 4  # softplus and delta * x, plus the skip D * x
LINEAR_OPS_PER_STATE_ELEMENT = 2


@dataclass(frozen=True, slots=True)
class MixerState:
    """One block's recurrent state: elements, bits per element and operations per token."""

    kind: str
    elements: int
    bits: int
    ops_per_token: int

    @property
    def bytes(self) -> int:
        """Bytes of the state, packed end to end."""
        return self.elements * self.bits // 8


def mixer_state(blocks: BlockConfig, kind: str) -> MixerState | None:
    """The state of one block whose mixer is `kind` (None for softmax attention)."""
    if kind == "linear":
        att = blocks.linear_attention
        elements = att.heads * att.key_dim * att.value_dim
        return MixerState(kind, elements, att.state_bits, LINEAR_OPS_PER_STATE_ELEMENT * elements)
    if kind == "hgrn":
        rec = blocks.gated_recurrence
        return MixerState(kind, rec.channels, rec.state_bits, HGRN_OPS_PER_CHANNEL * rec.channels)
    if kind == "ssm":
        ssm = blocks.selective_ssm
        scan = ssm.d_inner * ssm.d_state
        window = ssm.d_inner * (ssm.d_conv - 1)
        ops = (
            SSM_OPS_PER_STATE_ELEMENT * scan
            + 2 * ssm.d_conv * ssm.d_inner
            + SSM_OPS_PER_INNER_CHANNEL * ssm.d_inner
        )
        return MixerState(kind, scan + window, ssm.state_bits, ops)
    return None
