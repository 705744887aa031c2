"""Rich progress bars (stderr) fed by the pipeline's progress callback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
}


class StageBars:
    """One bar per pipeline stage, created on the stage's first report."""

    def __init__(self, progress: Progress, prefix: str = "") -> None:
        self._progress = progress
        self._prefix = prefix
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, advance: int, total: int | None) -> None:
        if stage not in self._tasks:
            label = f"{self._prefix}{STAGE_LABEL.get(stage, stage)}"
            self._tasks[stage] = self._progress.add_task(label, total=total)
        task = self._tasks[stage]
        if total is not None:
            self._progress.update(task, total=total)
        if advance:
            self._progress.advance(task, advance)

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
