"""Which inputs tell programs apart at all."""

from __future__ import annotations

from collections.abc import Sequence


def normalize_output(text: str) -> str:
    """Whitespace-insensitive form of an output (the token comparison judges use)."""
    return " ".join(text.split())


def distinguishing(outputs_by_program: Sequence[Sequence[str]]) -> list[bool]:
    """Per input: do at least two programs' normalized outputs differ?

    `outputs_by_program[p][i]` is program p's output on input i (a crash or timeout should be passed as a
    marker such as "<time_limit>", so that it differs from every real output). An input on which every
    program agrees cannot move any program to another cluster: the pipeline reports and drops it.
    """
    if not outputs_by_program:
        return []
    width = len(outputs_by_program[0])
    for p, outs in enumerate(outputs_by_program):
        if len(outs) != width:
            raise ValueError(
                f"every program needs one output per input: program 0 has {width}, "
                f"program {p} has {len(outs)}"
            )
    return [len({normalize_output(outs[i]) for outs in outputs_by_program}) > 1 for i in range(width)]
