"""The names of a solve's stages and the one shape of progress callback every stage reports through.

A stage name is a `Stage` (a StrEnum: it equals, prints and serializes as its value, so stored results and the
CLI's labels stay what they were). A test-input source reports as "testgen:<source>" (`Stage.sub`), so a slow
source shows by name instead of one frozen bar.

Stages report through `Progress` (stage, advance, total). The parts a stage calls, which do not know what they
serve (a sampler draws for a fresh step, a repair round, a speed-up step or the test-input model; the validator
checks inputs for whichever source proposed them), report through `Advance` (a count only); the stage that calls
them names them, with `advancing(progress, stage)`.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum


class Stage(StrEnum):
    """The stages of one solve, in order (repair runs between the filter and the test inputs)."""

    SAMPLE = "sample"
    DEDUP = "dedup"
    FILTER = "filter"
    REPAIR = "repair"
    TESTGEN = "testgen"
    CLUSTER = "cluster"
    LIMITS = "limits"
    """Survivors on inputs at the stated limits (opt-in: SolveConfig.limit_probe)."""
    SPEEDUP = "speedup"
    """Faster versions of the programs too slow there, filtered, clustered with the rest (speedup_share)."""

    def sub(self, part: str) -> str:
        """The progress name of one part of this stage ("testgen:mutation")."""
        return f"{self.value}:{part}"


Progress = Callable[[str, int, "int | None"], None]
"""progress(stage, advance, total): `stage` is a Stage or a `Stage.sub` name; `total` is given once when a stage
starts (advance 0, or None when unknown), then advances follow with total None."""


Advance = Callable[[int], None]
"""advance(k): k more units done (samples finished, inputs checked), under the name the caller gave; what
samplers (`sampling.Sampler.sample`) and the test-input checks (`testgen.validate`) report through."""


def noop_progress(stage: str, advance: int, total: int | None) -> None:
    return None


def advancing(progress: Progress, stage: str) -> Advance:
    """The `Advance` that reports its counts to `progress` as advances of `stage` (total None)."""
    return lambda k: progress(stage, k, None)
