"""The model test-input sources' time budget: how long they may spend on a problem (`ModelBudget`), what one
prompt of each source costs on this process's earlier problems (`PromptCosts`, `PROMPT_COSTS`), and a sampler
stopped between decoding steps at the budget's end (`BudgetedSampler`). `alphagen.testgen.sources` uses them."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from alphagen.testgen.config import Source

if TYPE_CHECKING:
    from alphagen.sampling.factory import Sampler
    from alphagen.sampling.params import Completion, PromptRequest, SamplingParams


class ModelBudget:
    """The seconds the model sources may spend on one problem (None: no limit), from `start()` on."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.started = time.perf_counter()
        self.last_batch_s = 0.0
        """How long the previous model batch took: the guess for the next one."""

    def start(self) -> None:
        self.started = time.perf_counter()

    def spent(self) -> bool:
        """Whether a batch as long as the last one would run past the budget."""
        if self.seconds is None:
            return False
        left = self.seconds - (time.perf_counter() - self.started)
        return left <= 0 or left < self.last_batch_s

    def deadline(self) -> float | None:
        """The `time.perf_counter()` at which the budget ends (None: no limit)."""
        return None if self.seconds is None else self.started + self.seconds


FADE = 0.8
"""What a remembered prompt cost is multiplied by each time it keeps a model source from starting."""


class PromptCosts:
    """How long one model prompt of each source took on this process's earlier problems, per sampler: a source
    whose budget cannot cover one such prompt does not start.

    A prompt's encoding cannot be cut (the deadline is checked between decoding steps) and costs about the same
    whatever the budget: on CPU 1.5-3 s for the 0.5B's direct-input prompt. Without this, a problem whose budget
    was smaller (short programs sample fast: HumanEval's first 40 at `-n 16`, 3.6-8.6 s of sampling and a 2 s
    floor) started the prompt anyway and was cut at its deadline or ran past it: the model sources took 14.7% of
    those problems' time on average and 30% at most, for 8 of their 475 kept inputs. Unknown (the first
    problem, or a sampler that cannot be weakly referenced): 0, the source starts as before."""

    def __init__(self) -> None:
        self._seconds: weakref.WeakKeyDictionary[object, dict[Source, float]] = weakref.WeakKeyDictionary()

    def get(self, sampler: object, source: Source) -> float:
        try:
            return self._seconds.get(sampler, {}).get(source, 0.0)
        except TypeError:  # not weakly referenceable: nothing remembered
            return 0.0

    def finished(self, sampler: object, source: Source, seconds: float) -> None:
        """A prompt of `source` ran to its end in `seconds`: the cost of the next one."""
        self._put(sampler, source, seconds)

    def cut_empty(self, sampler: object, source: Source, seconds: float) -> None:
        """A prompt was cut at the deadline before any of its samples finished: it costs more than `seconds`."""
        self._put(sampler, source, max(seconds, self.get(sampler, source)))

    def fade(self, sampler: object, source: Source) -> None:
        """The source was kept off by the remembered cost: remember a fifth less (FADE), so that a later problem
        whose budget covers the smaller figure tries again and measures anew."""
        if (seconds := self.get(sampler, source)) > 0:
            self._put(sampler, source, seconds * FADE)

    def _put(self, sampler: object, source: Source, seconds: float) -> None:
        try:
            self._seconds.setdefault(sampler, {})[source] = seconds
        except TypeError:
            pass


PROMPT_COSTS = PromptCosts()
"""The process's memory of model prompt costs (a bench run's problems share one test-input sampler)."""


class _OutOfTime(Exception):
    """Raised from the sampler's per-step callback at the deadline: it ends the sampling between two steps."""


@dataclass
class BudgetedSampler:
    """The model sources' sampler under their budget: decoding stops at the budget's end and the samples finished
    by then are kept (before, only a batch's start was checked: on 762A a batch that started under a 14 s budget
    ran 39-103 s).

    A call's prompts are drawn one after another, each in its own sampler call with its samples' global indices
    (`first_index`), so a sample is the same as in one call: samples depend only on (seed, sample_index). A prompt
    starts only while the budget left covers one as long as the previous prompt took (the first always starts):
    a prompt's encoding costs more than its short grammar-constrained samples (a 190-token statement about 3
    CPU-s, its four samples 5-10 steps), and one started late is cut before any sample ends. Inside a prompt the
    stop is checked in the sampler's progress callback: after every decoding step on the default (hf) backend,
    after each finished sample on the others."""

    inner: Sampler
    budget: ModelBudget
    source: Source
    """Which model source draws through it: its prompts' costs are remembered under it (`PROMPT_COSTS`)."""
    cut: bool = False
    """Whether a call was stopped at the deadline (reset at each call)."""

    def sample(
        self, requests: list[PromptRequest], params: SamplingParams, progress: Callable[[int], None] | None = None
    ) -> Iterator[Completion]:
        self.cut = False
        deadline = self.budget.deadline()
        if deadline is None or not requests:
            yield from self.inner.sample(requests, params, progress)
            return
        from alphagen.sampling.params import sample_offsets

        last_s = 0.0
        for ri, (req, first) in enumerate(zip(requests, sample_offsets(requests), strict=True)):
            left = deadline - time.perf_counter()
            # The first prompt always starts (the batch was started under the budget: in_batches decides that).
            if ri > 0 and (left <= 0 or left < last_s):
                self.cut = True
                return
            started = time.perf_counter()
            finished = 0
            for c in self._until(deadline, [replace(req, first_index=first)], params, progress):
                finished += 1
                yield replace(c, request_index=ri)
            last_s = time.perf_counter() - started
            # What a prompt costs, for the next problem's decision to start one (a prompt cut after some samples
            # says nothing new: it was worth starting).
            if not self.cut:
                PROMPT_COSTS.finished(self.inner, self.source, last_s)
            elif not finished:
                PROMPT_COSTS.cut_empty(self.inner, self.source, last_s)
            if self.cut:
                return

    def _until(
        self, deadline: float, requests: list[PromptRequest], params: SamplingParams,
        progress: Callable[[int], None] | None,
    ) -> Iterator[Completion]:
        """One sampler call, stopped at the deadline (sets `cut`)."""
        last: list[int] = []
        """Set at the deadline when the step that crossed it finished samples: how many are still to pass on."""

        def tick(done: int) -> None:
            if progress is not None:
                progress(done)
            if time.perf_counter() >= deadline:
                # A step that finished nothing ends the sampling at once; one that did passes its samples on first
                # (the sampler reports a step before it yields the step's samples).
                if not done:
                    raise _OutOfTime
                last.append(done)

        stream = self.inner.sample(requests, params, tick)
        try:
            for completion in stream:
                yield completion
                if last:
                    last[0] -= 1
                    if last[0] == 0:
                        self.cut = True
                        break
        except _OutOfTime:
            self.cut = True
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
