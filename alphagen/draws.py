"""Draw steps: what a solve asks the sampler for, one step at a time, and why.

A solve draws its `cfg.n` model samples in steps: the fresh samples (stage 1), then, when the config gives repairs
a share, repair rounds (fixes of the most promising failures so far), then, if nothing is left to repair, a top-up
(the fresh samples a run without repairs would have drawn with the rest of the budget). Each step is a frozen
`DrawStep` value; the budget is split once, here (`Budget.of`); `next_step` decides the next step from the steps
done and the pool they drew, so a step depends only on what came before it (a stored step replays exactly).
`plan_for` turns a step into the sampler's requests: the fresh prompts are built here, the repair prompts by
`alphagen.repair`. The pipeline runs the steps; the filter (`alphagen.sample_filter`) filters what they draw.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from alphagen import extract, prompting, repair
from alphagen.config import SolveConfig
from alphagen.problems.harness import ProblemHarness
from alphagen.problems.model import Problem
from alphagen.results import Candidate
from sandbox import Language

if TYPE_CHECKING:
    from alphagen.sampling.params import Completion, PromptRequest, SamplingParams


class DrawKind(StrEnum):
    """Why a step draws: the first samples, fixes of failures, or the fresh rest of an unspent repair budget."""

    FRESH = "fresh"
    REPAIR = "repair"
    TOPUP = "topup"
    SPEEDUP = "speedup"
    """After clustering: faster versions of programs that failed at the stated limits (alphagen.limits)."""
    SPEEDUP_TOPUP = "speedup-topup"
    """After clustering, when nothing failed at the limits: the fresh samples of the unspent speed-up share."""


@dataclass(frozen=True)
class Budget:
    """How a solve's n model samples split: `fresh` drawn first, `repair` spent on at most `rounds` repair rounds
    (or, when nothing is left to repair, on a top-up of fresh samples)."""

    n: int
    fresh: int
    repair: int
    rounds: int
    speedup: int = 0
    """Drawn after clustering: speed-ups of programs too slow at the stated limits (or, with none, fresh)."""

    def __post_init__(self) -> None:
        if self.fresh < 1 or self.repair < 0 or self.speedup < 0 or self.fresh + self.repair + self.speedup != self.n:
            raise ValueError(f"budget must be fresh >= 1 plus repair >= 0 plus speedup >= 0 = n, got {self.fresh} + "
                             f"{self.repair} + {self.speedup} for n={self.n}")
        if self.rounds < 1:
            raise ValueError(f"repair rounds must be >= 1, got {self.rounds}")

    @classmethod
    def split(cls, n: int, share: float, rounds: int = 1) -> Budget:
        """round(n * share) (halves up) go to repairs; at least one sample stays fresh (something has to fail
        before it can be repaired)."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        if not 0.0 <= share < 1.0:
            raise ValueError(f"repair share must be in [0, 1), got {share}")
        repairs = min(n - 1, math.floor(n * share + 0.5))
        return cls(n=n, fresh=n - repairs, repair=repairs, rounds=rounds)

    @classmethod
    def of(cls, cfg: SolveConfig) -> Budget:
        """The one place a solve's budget is split: the speed-up share comes out of the fresh samples, rounded
        like the repair share, and at least one sample stays fresh."""
        base = cls.split(cfg.n, cfg.repair_share, cfg.repair_rounds)
        speedup = min(base.fresh - 1, math.floor(cfg.n * cfg.speedup_share + 0.5))
        return replace(base, fresh=base.fresh - speedup, speedup=speedup)


def round_budget(remaining: int, round_no: int, rounds: int) -> int:
    """Samples for repair round `round_no` (1-based) of `rounds`: the remaining budget split evenly over the rounds
    left, earlier rounds taking the odd sample (their fixes can still be repaired later)."""
    if not 1 <= round_no <= rounds:
        raise ValueError(f"round must be in [1, {rounds}], got {round_no}")
    return math.ceil(remaining / (rounds - round_no + 1))


@dataclass(frozen=True)
class DrawStep:
    """One step of a solve's drawing: `count` samples numbered from `start`, and why."""

    kind: DrawKind
    start: int
    """The first sample index: fresh samples and a top-up take the indices a run without repairs gives them;
    fixes are numbered after all n of those (each sample has its own reproducible random stream)."""
    count: int
    round_no: int = 0
    """1-based repair round (0 for fresh samples and a top-up)."""
    parents: tuple[tuple[Candidate, int], ...] = ()
    """A repair round's parents (most promising first) and how many fixes each gets; empty otherwise."""

    def __post_init__(self) -> None:
        if self.start < 0 or self.count < 1:
            raise ValueError(f"a draw step needs start >= 0 and count >= 1, got {self.start} and {self.count}")
        repairing = self.kind in (DrawKind.REPAIR, DrawKind.SPEEDUP)
        if repairing != bool(self.parents) or repairing != (self.round_no > 0):
            raise ValueError(f"only a repair step has parents and a round, got {self.kind} with "
                             f"{len(self.parents)} parents, round {self.round_no}")
        if self.parents and sum(k for _, k in self.parents) != self.count:
            raise ValueError(f"a repair step's parents must share its {self.count} samples, got "
                             f"{sum(k for _, k in self.parents)}")

    @property
    def name(self) -> str:
        """The step's name in a checkpoint (a bench run's event log): fresh, repair-<round>, topup; fresh-<start>
        for the later fresh samples of a solve that grows its n in rounds (`SolveConfig.settle_min`)."""
        if self.kind is DrawKind.FRESH and self.start:
            return f"fresh-{self.start}"
        return f"repair-{self.round_no}" if self.kind is DrawKind.REPAIR else self.kind.value


def speedup_step(budget: Budget, pool: Sequence[Candidate]) -> DrawStep | None:
    """The step after clustering (None without a speed-up budget): the budget shared over the programs that
    passed the examples but failed at the stated limits, in `pool`'s order (the caller's: best cluster first),
    one parent per cluster signature; with none, the fresh samples a run without it would have drawn."""
    if not budget.speedup:
        return None
    parents: list[Candidate] = []
    seen: set[str | None] = set()
    for c in pool:
        if c.passed_examples and c.limit_status and c.duplicate_of is None and c.signature not in seen:
            seen.add(c.signature)
            parents.append(c)
    if not parents:
        return DrawStep(DrawKind.SPEEDUP_TOPUP, start=budget.fresh + budget.repair, count=budget.speedup)
    parents = parents[: budget.speedup]
    shares = [budget.speedup // len(parents) + (1 if i < budget.speedup % len(parents) else 0)
              for i in range(len(parents))]
    return DrawStep(DrawKind.SPEEDUP, start=budget.n + budget.repair, count=budget.speedup,
                    round_no=budget.rounds + 1, parents=tuple(zip(parents, shares, strict=True)))


def next_step(
    budget: Budget, done: Sequence[DrawStep], pool: Callable[[], Sequence[Candidate]], expected: Sequence[str]
) -> DrawStep | None:
    """The step after `done` (None when the budget is spent). `pool()` gives the deduplicated, filtered pool the
    steps done drew (asked only when a repair round has to choose its parents); `expected` the examples' outputs
    (how close a wrong answer was)."""
    if not done:
        return DrawStep(DrawKind.FRESH, start=0, count=budget.fresh)
    repairs = [s for s in done if s.kind is DrawKind.REPAIR]
    remaining = budget.repair - sum(s.count for s in repairs)
    if remaining == 0 or done[-1].kind is DrawKind.TOPUP:
        return None
    round_no = len(repairs) + 1
    if round_no <= budget.rounds:
        # Each round spends its share of what is left on the most promising failures not repaired yet.
        used = {p.index for s in repairs for p, _ in s.parents}
        chosen = repair.choose_parents(pool(), used, round_budget(remaining, round_no, budget.rounds), expected)
        if chosen:
            return DrawStep(DrawKind.REPAIR, start=budget.n + budget.repair - remaining,
                            count=sum(k for _, k in chosen), round_no=round_no, parents=tuple(chosen))
    # Nothing (left) to repair: the rest of the budget goes to the fresh samples a run without repairs draws.
    return DrawStep(DrawKind.TOPUP, start=budget.fresh, count=remaining)


# -- the requests of a step --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SamplingPlan:
    """What a fresh step asks the sampler for on one problem: the prompt groups, their requests and the params."""

    groups: tuple[prompting.PromptGroup, ...]
    requests: tuple[PromptRequest, ...]
    params: SamplingParams
    stub: tuple[str, str] | None = None
    """(stub, entry point) of a function problem: its imports and helpers complete programs that omit them."""

    def candidate(self, comp: Completion) -> Candidate:
        """The pipeline's record of one finished sample of this plan."""
        g = self.groups[comp.request_index]
        meta = g.meta.as_dict() | {"prefill": g.prefill, "num_tokens": comp.num_tokens,
                                   "finish_reason": comp.finish_reason}
        code = extract.extract_code(comp.text, g.code_prefix)
        if self.stub is not None and not g.stub_prefilled:
            code = extract.with_stub_context(code, *self.stub)
        if g.meta.language is Language.PYTHON:
            code = extract.with_missing_imports(code)
        return Candidate(index=comp.sample_index, language=g.meta.language.value, code=code, meta=meta)


def sampling_params(cfg: SolveConfig) -> SamplingParams:
    """The sampling params of every step of a solve (fresh samples and fixes alike)."""
    # Imported here: the sampling package pulls in torch, which commands that never sample should not pay for.
    from alphagen.sampling.params import SamplingParams

    return SamplingParams(temperature=cfg.temperature, top_p=cfg.top_p, max_new_tokens=cfg.max_new_tokens,
                          seed=cfg.seed, stop=("```",))


def function_stub(problem: Problem) -> tuple[str, str] | None:
    """(stub, entry point) of a function problem whose stub is known; None otherwise."""
    if problem.kind == "function" and problem.signature and problem.entry_point:
        return (problem.signature, problem.entry_point)
    return None


def plan_sampling(problem: Problem, cfg: SolveConfig, tokenizer: prompting.Tokenizer) -> SamplingPlan:
    """The prompts and sampling params of the fresh step for this problem and config (Ray prefetch and the quality
    benchmark plan the same): exactly the first samples of a run without repairs."""
    return plan_slice(problem, cfg, tokenizer, 0, Budget.of(cfg).fresh)


def plan_slice(
    problem: Problem, cfg: SolveConfig, tokenizer: prompting.Tokenizer, start: int, stop: int
) -> SamplingPlan:
    """The fresh samples start..stop-1 of the cfg.n a run without repairs would draw: the same prompt groups
    (metadata draws) and the same sample indices, hence the same programs. From 0 it is the fresh step's plan;
    later slices top a repair run's budget up when nothing is left to repair."""
    from alphagen.sampling.params import PromptRequest

    if not 0 <= start < stop <= cfg.n:
        raise ValueError(f"need 0 <= start < stop <= n={cfg.n}, got {start}..{stop}")
    groups = prompting.build_prompts(
        tokenizer,
        problem.public_view(),
        cfg.n,
        seed=cfg.seed,
        language=cfg.language,
        samples_per_prompt=cfg.samples_per_prompt,
        use_metadata=cfg.use_metadata,
        prefill=cfg.prefill,
    )
    kept: list[prompting.PromptGroup] = []
    requests: list[PromptRequest] = []
    at = 0
    for gi, g in enumerate(groups):
        lo, hi = max(at, start), min(at + g.count, stop)
        if lo < hi:
            kept.append(replace(g, count=hi - lo))
            # From sample 0 the requests number themselves (as they always did); a later slice says where it starts.
            # The group index lets a mix of models give each group to one of them (sampling.mix).
            requests.append(PromptRequest(prompt=g.text, count=hi - lo, first_index=None if start == 0 else lo,
                                          group=gi))
        at += g.count
    return SamplingPlan(groups=tuple(kept), requests=tuple(requests), params=sampling_params(cfg),
                        stub=function_stub(problem))


def plan_for(
    step: DrawStep, harness: ProblemHarness, cfg: SolveConfig, tokenizer: prompting.Tokenizer
) -> SamplingPlan | repair.RepairPlan:
    """The sampler's requests for one step: fresh prompts for fresh samples and a top-up, repair prompts (one per
    parent, `alphagen.repair`) for a repair round."""
    problem = harness.problem
    if step.kind not in (DrawKind.REPAIR, DrawKind.SPEEDUP):
        return plan_slice(problem, cfg, tokenizer, step.start, step.start + step.count)
    return repair.plan_round(tokenizer, problem.public_view(), step.parents, step.round_no, step.start,
                             sampling_params(cfg), harness.limits.time_s, function_stub(problem))
