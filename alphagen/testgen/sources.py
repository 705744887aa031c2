"""The test-input sources, each behind one small interface: `propose(budget) -> Proposals`.

A source proposes raw input texts and says what it did in typed counts (`Proposals`); `generate.py` checks the
shapes, interleaves the sources and validates. The cheap sources (mutation, random) ignore the budget; the model
sources (model, generator) share one `ModelBudget`: a batch starts only while the budget left covers one as long
as the previous model batch (the first starts while the budget covers one prompt as long as this sampler's last
one for that source, on an earlier problem: `PromptCosts`), and a running batch stops at the budget's end
(`BudgetedSampler`: between decoding steps; the samples finished by then are kept). The budget's parts live in
`alphagen.testgen.model_budget`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

import alphagen.testgen.model_inputs as mi
from alphagen.problems.model import PublicView
from alphagen.prompting import Tokenizer
from alphagen.stages import Progress
from alphagen.testgen.config import Source, TestGenConfig
from alphagen.testgen.constraints import Constraint
from alphagen.testgen.generator_skeleton import generator_skeleton
from alphagen.testgen.grammar import input_grammar
from alphagen.testgen.input_format import InputFormat
from alphagen.testgen.model_budget import PROMPT_COSTS, BudgetedSampler, ModelBudget
from alphagen.testgen.mutate_args import ArgsMutator
from alphagen.testgen.mutate_stdio import StdioMutator
from alphagen.testgen.random_inputs import RandomInputs
from alphagen.testgen.signature_args import SignatureArgs
from alphagen.testgen.validate import generator_outputs
from sandbox import BatchExecutor
from sandbox.values import Limits

if TYPE_CHECKING:
    from alphagen.sampling.factory import Sampler


@dataclass
class Proposals:
    """What one source proposed, and what it did (flattened to '<source>_<what>' keys in TestInputs.counts)."""

    source: Source
    texts: list[str] = field(default_factory=list)
    ms: int = 0
    """Milliseconds the source took (sampling, and for generators their sandbox runs)."""
    skipped_budget: bool = False
    """A batch did not start: the model budget could not cover it."""
    stopped_early: bool = False
    """The first (probing) batch had nothing well-formed: the source stopped there."""
    cut_budget: bool = False
    """A running batch was stopped at the budget's end (its finished samples kept)."""
    facts: dict[str, int] = field(default_factory=dict)
    """Source-specific counts ("constrained" for model, "skeleton", "programs", ... for generator)."""

    def counts(self) -> dict[str, int]:
        out = {f"{self.source}_{k}": v for k, v in self.facts.items()}
        out[f"{self.source}_ms"] = self.ms
        if self.skipped_budget:
            out[f"{self.source}_skipped_budget"] = 1
        if self.stopped_early:
            out[f"{self.source}_stopped_early"] = 1
        if self.cut_budget:
            out[f"{self.source}_cut_budget"] = 1
        return out


@dataclass(frozen=True)
class Context:
    """What every source of one problem reads: the public view, the learned format, the config, the seed."""

    view: PublicView
    examples: list[str]
    constraints: list[Constraint]
    fmt: InputFormat | None
    cfg: TestGenConfig
    seed: int
    executor: BatchExecutor
    limits: Limits
    progress: Progress
    shape_ok: Callable[[Source, str], bool]
    """Whether a raw text is a new, well-formed input for this source (a probing batch stops on none)."""
    sampler: Sampler | None = None
    tokenizer: Tokenizer | None = None


class InputSource(Protocol):
    source: Source

    def propose(self, budget: ModelBudget) -> Proposals: ...


@dataclass
class MutationSource:
    """Mutants of the examples (stdio: by the learned format; function: by the argument values)."""

    ctx: Context
    source: Source = Source.MUTATION

    def propose(self, budget: ModelBudget) -> Proposals:
        c, cfg = self.ctx, self.ctx.cfg
        mutator: StdioMutator | ArgsMutator
        if c.view.kind == "function":
            mutator = ArgsMutator(c.examples, c.constraints, cfg.scale_cap)
        else:
            mutator = StdioMutator(c.examples, c.constraints, cfg.scale_cap, cfg.large_scale, c.fmt)
        return _drawn_at_once(c, self.source, mutator.propose, cfg.num_mutations, c.seed)


@dataclass
class RandomSource:
    """Fresh inputs written in the examples' learned format (stdio problems); for a function problem with no
    example, argument lists typed by its stub's annotations (`SignatureArgs`)."""

    ctx: Context
    source: Source = Source.RANDOM

    def propose(self, budget: ModelBudget) -> Proposals:
        c, cfg = self.ctx, self.ctx.cfg
        fresh: RandomInputs | SignatureArgs
        if c.view.kind == "function":
            fresh = SignatureArgs(c.view.signature, c.view.entry_point)
        else:
            fresh = RandomInputs(c.examples, c.constraints, cfg.scale_cap, cfg.large_scale, cfg.max_input_bytes,
                                 c.fmt)
        return _drawn_at_once(c, self.source, fresh.propose, cfg.num_random, c.seed + 1)


def _drawn_at_once(
    ctx: Context, source: Source, propose: Callable[[int, random.Random], list[str]], count: int, seed: int
) -> Proposals:
    """A cheap source's texts, proposed in one call (no model, so no budget and no batches), timed from the
    call (building the proposer is not counted), with the progress reported once."""
    t0 = time.perf_counter()
    texts = propose(count, random.Random(seed))
    out = Proposals(source, texts, ms=int(1000 * (time.perf_counter() - t0)))
    ctx.progress(source, len(texts), None)
    return out


def in_batches(
    ctx: Context, budget: ModelBudget, out: Proposals, total: int, draw: Callable[[int, int], list[str]],
    probe: bool = True, cut: Callable[[], bool] = lambda: False,
) -> Proposals:
    """A model source's texts in at most two batches: a small first one (when probing) that stops the source when
    none of it is well-formed, then the rest; no batch starts once the budget cannot cover it, and none after one
    that `cut` says was stopped at the budget's end."""
    t0 = time.perf_counter()
    first = min(ctx.cfg.first_batch, total) if probe else total
    # The first batch needs room for at least one prompt as long as this source's last one (0 when unknown).
    budget.last_batch_s = max(budget.last_batch_s, PROMPT_COSTS.get(ctx.sampler, out.source))
    for batch, count in enumerate((first, total - first)):
        if count < 1:
            break
        if budget.spent():
            out.skipped_budget = True
            if batch == 0:
                # Kept off by what a prompt cost before: that memory fades, so one slow prompt (the process's
                # first, which pays its warm-up) cannot keep the source off a whole run.
                PROMPT_COSTS.fade(ctx.sampler, out.source)
            break
        b0 = time.perf_counter()
        texts = draw(count, batch)
        budget.last_batch_s = time.perf_counter() - b0
        out.texts += texts
        ctx.progress(out.source, len(texts), None)
        if cut():
            # Stopped at the budget's end: what it finished counts, and no later batch starts.
            out.cut_budget = True
            break
        if batch == 0 and not any(ctx.shape_ok(out.source, t) for t in texts):
            out.stopped_early = True
            break
    # Time per source (sampling, and for generators their sandbox runs): the model sources' cost.
    out.ms = int(1000 * (time.perf_counter() - t0))
    return out


@dataclass
class ModelSource:
    """Inputs the model writes directly, decoded under the learned format's grammar when there is one."""

    ctx: Context
    sampler: Sampler
    source: Source = Source.MODEL

    def propose(self, budget: ModelBudget) -> Proposals:
        c, cfg = self.ctx, self.ctx.cfg
        # Direct inputs are decoded under the grammar of the learned format (well-formed by construction).
        grammar = input_grammar(c.fmt) if c.fmt is not None else None
        why = "a function problem" if c.view.kind == "function" else "no input format learned from the examples"
        out = Proposals(self.source, facts={"constrained": int(grammar is not None)})
        tokens = cfg.direct_max_new_tokens if grammar is not None else cfg.max_new_tokens
        # Decoding stops at the budget's end, keeping the inputs finished by then.
        sampler = BudgetedSampler(self.sampler, budget, self.source)
        # Constrained inputs are well-formed by construction, so a probing first batch would only pay for one more
        # encoding of the prompts: draw them in one batch.
        return in_batches(c, budget, out, cfg.num_model_samples, lambda count, batch: mi.model_inputs(
            sampler, c.tokenizer, c.view, count, cfg.temperature, tokens, c.seed + 1000 * batch, grammar, why),
            probe=grammar is None, cut=lambda: sampler.cut)


@dataclass
class GeneratorLog:
    """What the generator source's programs did, for the per-program counts."""

    printed_by: dict[str, set[int]] = field(default_factory=dict)
    """Canonical input -> the programs (numbered in sampling order) that printed it."""
    copies: set[int] = field(default_factory=set)
    """Programs that are the prompt's plain body verbatim (ours, not the model's)."""


@dataclass
class GeneratorSource:
    """Generator programs the model writes, each run in the sandbox with several seeds."""

    ctx: Context
    sampler: Sampler
    canonical: Callable[[str], str | None]
    log: GeneratorLog = field(default_factory=GeneratorLog)
    source: Source = Source.GENERATOR

    def propose(self, budget: ModelBudget) -> Proposals:
        c, cfg = self.ctx, self.ctx.cfg
        seeds = mi.seed_inputs([c.seed * 1000 + s for s in range(cfg.seeds_per_generator)])
        # The model writes value choices inside a skeleton that reads the seed and prints the learned layout.
        skeleton = generator_skeleton(c.fmt, c.examples[0]) if c.fmt is not None and c.examples else None
        out = Proposals(self.source, facts={"skeleton": int(skeleton is not None)})
        tokens = cfg.gen_body_max_new_tokens if skeleton is not None else max(cfg.max_new_tokens, 384)
        plain = skeleton.program(skeleton.plain) if skeleton is not None else None
        # Decoding stops at the budget's end; the programs finished by then still run.
        sampler = BudgetedSampler(self.sampler, budget, self.source)

        def generated(count: int, batch: int) -> list[str]:
            gens = mi.generator_programs(sampler, c.tokenizer, c.view, count, cfg.temperature, tokens,
                                         c.seed + 1000 * batch, skeleton)
            per_gen = generator_outputs(c.executor, gens, seeds, c.limits, cfg.max_input_bytes, lambda k: None)
            # Which program printed what: the per-program counts ("how many generators print a valid input").
            first = out.facts.get("programs", 0)
            for j, outs in enumerate(per_gen):
                for x in outs:
                    self.log.printed_by.setdefault(self.canonical(x) or "", set()).add(first + j)
            out.facts["sampled"] = out.facts.get("sampled", 0) + count
            # A program that is the prompt's plain body verbatim is ours, not the model's: counted apart.
            self.log.copies |= {first + j for j, g in enumerate(gens) if plain is not None and g == plain}
            out.facts["programs"] = first + len(gens)
            out.facts["programs_printing"] = out.facts.get("programs_printing", 0) + sum(1 for o in per_gen if o)
            return [x for g in per_gen for x in g]

        return in_batches(c, budget, out, cfg.num_generator_programs, generated, cut=lambda: sampler.cut)


def propose_cheap(ctx: Context) -> dict[Source, Proposals]:
    """The cheap sources' proposals (mutation, random): no model, no budget."""
    enabled = set(ctx.cfg.sources)
    cheap: list[InputSource] = [MutationSource(ctx)] if Source.MUTATION in enabled else []
    # Function problems: only when they show no example to mutate (then typed by the stub: `SignatureArgs`).
    if Source.RANDOM in enabled and (ctx.view.kind != "function" or not ctx.examples):
        cheap.append(RandomSource(ctx))
    return {s.source: s.propose(ModelBudget(None)) for s in cheap}


def propose_model(
    ctx: Context, canonical: Callable[[str], str | None], seconds: float | None
) -> tuple[dict[Source, Proposals], GeneratorLog]:
    """The model sources' proposals (only with a sampler), in the config's fixed order, under one budget of
    `seconds` whose clock starts here (None: no limit)."""
    enabled = set(ctx.cfg.sources)
    if ctx.sampler is None:
        return {}, GeneratorLog()
    gen = GeneratorSource(ctx, ctx.sampler, canonical)
    budget = ModelBudget(seconds)
    model: list[InputSource] = [ModelSource(ctx, ctx.sampler)] if Source.MODEL in enabled else []
    if Source.GENERATOR in enabled:
        model.append(gen)
    return {s.source: s.propose(budget) for s in model}, gen.log


@dataclass
class ModelMemo:
    """The model sources' proposals of one solve, kept for its later rounds (`pipeline.solve` with settle_min):
    a round proposes the same inputs from the same prompts and seed, and drawing them again cost each round its
    model budget (shipped at -n 16 in rounds by need: test inputs 305 s against 105 s for the same samples drawn
    at once). The first round that draws them keeps them; the later ones reuse them at no cost."""

    proposed: dict[Source, Proposals] | None = None
    log: GeneratorLog = field(default_factory=GeneratorLog)

    def keep(self, proposed: dict[Source, Proposals], log: GeneratorLog) -> None:
        """Keep a round's proposals, unless every source was kept off by the budget before drawing anything (an
        early round's small budget must not lock the later, larger ones out)."""
        if proposed and not all(p.skipped_budget and not p.texts for p in proposed.values()):
            self.proposed, self.log = proposed, log

    def reused(self) -> dict[Source, Proposals] | None:
        """The kept proposals as a round that reuses them reports them: no time spent, and said to be reused."""
        if self.proposed is None:
            return None
        return {src: replace(p, ms=0, facts=p.facts | {"reused": 1}) for src, p in self.proposed.items()}


def propose_all(ctx: Context, canonical: Callable[[str], str | None]) -> tuple[dict[Source, Proposals], GeneratorLog]:
    """Every enabled source's proposals (the model sources only with a sampler), in the config's fixed order:
    the cheap sources first, then the model sources under `cfg.model_budget_s`, whose clock starts when they do."""
    out = propose_cheap(ctx)
    model, log = propose_model(ctx, canonical, ctx.cfg.model_budget_s)
    return out | model, log
