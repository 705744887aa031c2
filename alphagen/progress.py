"""Rich progress bars (stderr) fed by the pipeline's progress callback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from alphagen.console import console

STAGE_LABEL = {
    "sample": "sampling programs",
    "filter": "running examples",
    "testgen": "generating tests",
    "cluster": "clustering",
    "limits": "running at the stated limits",
    "speedup": "speeding up slow programs",
}
# What a test-input sub-stage counts ("testgen:<source>" reports come per source, so a slow source shows).
TESTGEN_LABEL = {
    "mutation": "test inputs · mutation",
    "random": "test inputs · random",
    "model": "test inputs · model-written",
    "generator": "test inputs · generator runs",
    "validate": "test inputs · checking",
}


def label(stage: str) -> str:
    """A person's name for a progress stage."""
    if stage.startswith("testgen:"):
        sub = stage.split(":", 1)[1]
        return TESTGEN_LABEL.get(sub, f"test inputs · {sub}")
    return STAGE_LABEL.get(stage, stage)


class StageReporter(Protocol):
    def __call__(self, stage: str, advance: int, total: int | None) -> None: ...

    def finish(self) -> None: ...


class StageBars:
    """One bar per pipeline stage, created on the stage's first report."""

    def __init__(self, progress: Progress, prefix: str = "") -> None:
        self._progress = progress
        self._prefix = prefix
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, advance: int, total: int | None) -> None:
        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(f"{self._prefix}{label(stage)}", total=total)
        task = self._tasks[stage]
        if total is not None:
            self._progress.update(task, total=total)
        if advance:
            self._progress.advance(task, advance)

    def reset(self) -> None:
        """Remove every stage's bar (bench shows the current problem's stages only)."""
        for task_id in self._tasks.values():
            self._progress.remove_task(task_id)
        self._tasks = {}

    def finish(self) -> None:
        # Stages whose totals were unknown or estimates end at 100% so the display never looks stuck.
        for task_id in self._tasks.values():
            task = self._progress.tasks[task_id]
            self._progress.update(task_id, total=task.completed or 1, completed=task.completed or 1)


@contextmanager
def stage_bars(prefix: str = "", enabled: bool = True) -> Iterator[StageBars]:
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not enabled,
    )
    with progress:
        bars = StageBars(progress, prefix)
        try:
            yield bars
        finally:
            bars.finish()


class StageLines:
    """Progress for a log file or a pipe (stderr not a terminal): one line when a stage starts and one when it
    ends, with its count and time, instead of bars nobody sees.

    Sampling and the example filter run at the same time (the filter works while the sampler draws), so their
    updates interleave: both stay open together, and either one's first update after the other is no new stage.
    Any other stage's start ends every open stage.
    """

    OVERLAPPING = frozenset({"sample", "filter"})

    def __init__(self, prefix: str = "") -> None:
        self._prefix = prefix
        self._open: dict[str, list[float]] = {}  # stage -> [count, start time]

    def __call__(self, stage: str, advance: int, total: int | None) -> None:
        if stage not in self._open:
            if not (stage in self.OVERLAPPING and set(self._open) <= self.OVERLAPPING):
                self._end()
            self._open[stage] = [0, time.perf_counter()]
            expected = f" ({total} expected)" if total else ""
            console.print(f"{self._prefix}{label(stage)}…{expected}", highlight=False)
        self._open[stage][0] += advance

    def _end(self) -> None:
        for stage, (count, started) in self._open.items():
            seconds = time.perf_counter() - started
            console.print(f"{self._prefix}{label(stage)}: {int(count)} done in {seconds:.1f}s", highlight=False)
        self._open = {}

    def finish(self) -> None:
        self._end()


@contextmanager
def stage_progress(prefix: str = "") -> Iterator[StageReporter]:
    """Bars on a terminal, one line per stage otherwise."""
    if console.is_terminal:
        with stage_bars(prefix) as bars:
            yield bars
        return
    lines = StageLines(prefix)
    try:
        yield lines
    finally:
        lines.finish()
