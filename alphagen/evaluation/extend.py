"""The rest of a grown replay drawn in windows: `bench --replay SRC_RUN -n N` with N above SRC_RUN's n (and the
coverage benchmark's `--extend-from`).

A replayed problem starts with SRC_RUN's fresh samples stored, so the fresh-sample windows (`runner.draw_window`)
pass it by, and its solve drew the samples it still lacks alone: a batch of N - n rows where a window fills 128
(on HumanEval, 8 more samples a problem took 2.2 times the wall time a windowed run took for its first 8). Here
consecutive problems in that state draw their rest together, as a budgeted run's rounds draw theirs
(`draw_runner.sample_slices_together`): each member's slice is stored as the `fresh-<start>` step its solve reads
back after the replayed `fresh` one, so its samples are the ones it would have drawn alone.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from alphagen.draw_runner import Slice, fresh_step_name
from alphagen.draws import Budget
from alphagen.evaluation.runner import BenchConfig, EventCheckpoint
from alphagen.evaluation.store import RunStore
from alphagen.problems.model import Problem
from alphagen.sample_filter import pool_outcomes

if TYPE_CHECKING:
    from alphagen.evaluation.budget import SlicesFn

log = logging.getLogger(__name__)


def open_rest(problem: Problem, cfg: BenchConfig, store: RunStore) -> Slice | None:
    """The fresh samples `problem` still lacks when its stored steps are fresh samples only, fewer than its budget
    (a replay grown to a larger -n); None otherwise (nothing stored, solved, or steps of another kind)."""
    events = store.events(problem.name)
    if any(ev.get("event") == "samples" for ev in events):
        return None
    stages = EventCheckpoint(store, problem.name, events).stored()
    fresh = Budget.of(cfg.solve).fresh
    have = 0
    for stage in stages:
        # Only contiguous fresh slices (fresh, fresh-8, ...): anything else is a solve this does not plan for.
        if stage.name != fresh_step_name(have) or not stage.candidates:
            return None
        have += len(stage.candidates)
    if not 0 < have < fresh:
        return None
    return Slice(problem, have, fresh, pool_outcomes([c for st in stages for c in st.candidates]))


def draw_rest_window(problems: Sequence[Problem], at: int, cfg: BenchConfig, store: RunStore,
                     slices_fn: SlicesFn | None, done: Collection[str]) -> None:
    """Before problem `at` is solved: draw the rest of its window's grown replays together, if it is one.

    Windows are fixed slices of the problem list (as many problems as their rest fits in `window_samples`), so a
    resumed attempt draws the same members; a window's slices are kept only once it is all drawn, and a window that
    fails leaves its members to draw alone, as before. Solves with repairs, speed-ups or rounds keep drawing alone:
    their later steps depend on their pools."""
    solve = cfg.solve
    if slices_fn is None or solve.settle_min is not None or solve.repair_share or solve.speedup_share:
        return
    own = open_rest(problems[at], cfg, store)
    if own is None:
        return
    size = cfg.window_samples // (own.stop - own.start)
    if size < 2:
        return
    first = at - at % size
    members = [own if p is problems[at] else open_rest(p, cfg, store)
               for p in problems[first:first + size] if p is problems[at] or p.name not in done]
    window = [sl for sl in members if sl is not None]
    if len(window) < 2:
        return
    try:
        slices_fn(window, cfg, [EventCheckpoint(store, sl.problem.name, []) for sl in window])
    except Exception as e:  # noqa: BLE001 - each member then draws its rest alone, and records its own failure
        log.warning("drawing the rest of %d replayed problems together failed (%s: %s); each draws alone",
                    len(window), type(e).__name__, e)
