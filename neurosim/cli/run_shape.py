"""Options that shape a run the same way on every architecture: the token mixer, the
cached context, the prompt (prefill) and the batch of sequences."""

from __future__ import annotations

import argparse

from neurosim.config.run_shape import MIXERS, RUN_OPTIONS
from neurosim.errors import UsageError


def add_run_shape_options(p: argparse.ArgumentParser) -> None:
    """--attention, --context-tokens, --prompt-tokens and --batch."""
    p.add_argument(
        "--attention",
        choices=MIXERS,
        default=None,
        help="token mixer of every block: linear (a recurrent state per head), softmax (a KV "
        "cache), hgrn (a gated recurrence) or ssm (a selective state space model); default: "
        "the workload's (a hybrid's pattern). Chips run softmax on their attention_engine",
    )
    p.add_argument(
        "--context-tokens",
        type=int,
        default=None,
        help="tokens already in each sequence's KV cache before the prompt "
        "(default: the workload's context_tokens)",
    )
    p.add_argument(
        "--prompt-tokens",
        type=int,
        default=0,
        help="prompt tokens per sequence, processed together in one prefill step that "
        "fetches each weight once (default 0: decode only); gives time to first token",
    )
    p.add_argument(
        "--batch",
        type=int,
        default=1,
        help="sequences decoded together: each step fetches the weights once for all of "
        "them; state and KV cache are per sequence (default 1)",
    )


def check_run_shape(args) -> None:
    """Refuse impossible values before any work (exit 2), as a sweep's `run.` paths do."""
    for option in RUN_OPTIONS.values():
        value = getattr(args, option.name)
        if value is not None:
            try:
                option.check(value, option.flag)
            except ValueError as err:
                raise UsageError(str(err)) from None


def run_shape_kwargs(args) -> dict:
    """The run_system keywords these options set."""
    return {
        "attention": args.attention,
        "context_tokens": args.context_tokens,
        "prompt_tokens": args.prompt_tokens,
        "batch": args.batch,
        "workload_source": str(args.workload),
    }


def run_shape_suffix(args) -> str:
    """What the default results folder adds for a run shape other than the plain decode
    (`__softmax`, `__ctx4096`, `__p1024`, `__b8`), so such runs do not overwrite it."""
    parts = []
    if args.attention is not None:
        parts.append(args.attention)
    if args.context_tokens is not None:
        parts.append(f"ctx{args.context_tokens}")
    if args.prompt_tokens:
        parts.append(f"p{args.prompt_tokens}")
    if args.batch != 1:
        parts.append(f"b{args.batch}")
    return "".join(f"__{part}" for part in parts)
