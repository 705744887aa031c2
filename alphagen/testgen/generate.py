"""The test-input stage: propose inputs from every enabled source, then keep the valid, distinct ones.

Order of work, and why:
1. propose with the cheap sources: mutants of the examples and fresh inputs in the examples' learned format;
2. canonicalize and check the shape against the examples (free), drop duplicates and the examples themselves;
3. interleave the sources round-robin in a seeded order, so the cap keeps a mix rather than one source;
4. run the validator (if the problem has one) and a sample of the survivors on the candidates, chunk by chunk,
   until `max_inputs` have passed: most survivors must run cleanly on a kept input (two waves: an input the
   first programs cannot run is dropped without running the rest; see validate.clean_inputs); under a stage
   budget (`TestGenConfig.stage_budget_s`) the chunks are small and none starts past the budget's end;
5. then the same (1-4) for the model sources (only with a sampler): model-written inputs and generator programs
   run in the sandbox with several seeds, under their own budget when the stage has that much left (else not
   at all), for the places the cheap sources left under the cap. The cheap sources go first because they are
   the ones that split slow survivors for little (1068B: all 14 inputs that split its survivors), while the
   model sources may spend a whole budget on one prompt and yield nothing.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from alphagen.problems.model import PublicView
from alphagen.prompting import Tokenizer
from alphagen.stages import Progress, noop_progress
from alphagen.testgen.config import Source, TestGenConfig, TestInputs
from alphagen.testgen.constraints import parse_constraints
from alphagen.testgen.input_format import InputFormat, Leniency, learn_input_format
from alphagen.testgen.mutate_args import args_problem, parse_args
from alphagen.testgen.sources import Context, GeneratorLog, ModelMemo, Proposals, propose_cheap, propose_model
from alphagen.testgen.validate import SlowCheckers, check_sample, clean_inputs, validator_accepts
from sandbox import BatchExecutor
from sandbox.values import Limits, Program

if TYPE_CHECKING:
    from alphagen.sampling.factory import Sampler


def canonical(text: str, kind: str) -> str | None:
    """One spelling per input: trailing spaces and blank tail lines removed; JSON re-dumped for functions."""
    if kind == "function":
        args = parse_args(text)
        return json.dumps(args) if args is not None else None
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    out = "\n".join(lines).strip("\n")
    return out + "\n" if out.strip() else None


def _interleave(pools: dict[str, list[tuple[str, str]]], rng: random.Random) -> list[tuple[str, str]]:
    """Round-robin over sources (each source's pool shuffled by the seed)."""
    for pool in pools.values():
        rng.shuffle(pool)
    order: list[tuple[str, str]] = []
    depth = 0
    while any(depth < len(p) for p in pools.values()):
        for p in pools.values():
            if depth < len(p):
                order.append(p[depth])
        depth += 1
    return order


@dataclass
class Tally:
    """What became of one source's proposals (flattened to '<source>_<what>' keys in TestInputs.counts)."""

    proposed: int = 0
    wellformed: int = 0
    """Read in the learned format, new or not (a model's "0 0" edge case is well-formed even when mutation
    proposed it first)."""
    valid: int = 0
    checked: int = 0
    duplicate: int = 0
    pool: list[str] = field(default_factory=list)
    """Its new well-formed inputs, in proposal order (only the first source to propose an input owns it)."""

    def counts(self, source: str) -> dict[str, int]:
        return {f"{source}_{k}": getattr(self, k) for k in ("proposed", "wellformed", "valid", "checked", "duplicate")}


@dataclass
class _Shapes:
    """The shape check of one problem's proposals against its examples' learned format."""

    view: PublicView
    fmt: InputFormat | None
    max_bytes: int
    seen: set[str | None]
    """Canonical inputs already owned (the examples' first): a proposal of one of them is a duplicate."""

    def problem(self, src: str, text: str) -> str | None:
        if self.view.kind == "function":
            return args_problem([t.input for t in self.view.public_tests], text, self.max_bytes)
        if self.fmt is None:
            return None
        # Random inputs are written from the skeleton, so well-formed by construction (the loose line-count
        # rule would wrongly refuse an empty array: n = 1 with n - 1 numbers on a line); the rest are held
        # to the loose shape rules.
        leniency = Leniency.CONSTRUCTED if src == Source.RANDOM else Leniency.SHAPE
        return self.fmt.problem(text, self.max_bytes, leniency)

    def ok(self, src: str, raw: str) -> bool:
        text = canonical(raw, self.view.kind)
        return text is not None and text not in self.seen and self.problem(src, text) is None


def _sort(shapes: _Shapes, texts: Sequence[str], src: str, gen_log: GeneratorLog, wellformed_gens: set[int]) -> Tally:
    """One source's proposals shape-checked and de-duplicated across sources (the first to propose owns it)."""
    tally = Tally(proposed=len(texts))
    for raw in texts:
        text = canonical(raw, shapes.view.kind)
        if text is None or shapes.problem(src, text) is not None:
            continue
        tally.wellformed += 1
        if src == Source.GENERATOR:
            wellformed_gens |= gen_log.printed_by.get(text, set())
        if text in shapes.seen:
            tally.duplicate += 1
            continue
        shapes.seen.add(text)
        tally.pool.append(text)
    return tally


def generate_test_inputs(
    view: PublicView,
    survivors: Sequence[Program],
    executor: BatchExecutor,
    limits: Limits,
    cfg: TestGenConfig,
    seed: int,
    sampler: Sampler | None = None,
    tokenizer: Tokenizer | None = None,
    validator: str | None = None,
    progress: Progress = noop_progress,
    model_memo: ModelMemo | None = None,
) -> TestInputs:
    """Validated extra inputs for clustering; see the module docstring. Never sees hidden tests. `progress` is
    called with each source's name ("mutation", ..., "validate") as its stage. With `model_memo`, the model
    sources' proposals are drawn once and reused by every later call that passes the same memo (the rounds of
    one solve)."""
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    # The stage budget runs from here: the model sources' time counts against it, as in the stage's timing.
    deadline = None if cfg.stage_budget_s is None else time.perf_counter() + cfg.stage_budget_s
    examples = [t.input for t in view.public_tests]
    constraints = parse_constraints(view.description)
    # One input-format model per problem: mutation, random generation, the model sources and validation all
    # use it (learned once here instead of once per source).
    fmt = learn_input_format(examples, constraints) if view.kind != "function" else None
    shapes = _Shapes(view, fmt, cfg.max_input_bytes, {canonical(e, view.kind) for e in examples})
    # The sources' own shape test knows only the examples (the model sources propose after the cheap ones are
    # sorted, and must not see those as taken: a probing batch would stop on them).
    probing = _Shapes(view, fmt, cfg.max_input_bytes, set(shapes.seen))
    ctx = Context(view, examples, constraints, fmt, cfg, seed, executor, limits, progress, probing.ok, sampler,
                  tokenizer)
    checks = _Checks(executor, check_sample(survivors, cfg.clean_check_programs, seed), limits, cfg, validator,
                     progress, SlowCheckers(cfg.slow_check_time_share, cfg.presume_timeouts), deadline)
    rng = random.Random(seed + 7)
    wellformed_gens: set[int] = set()
    # The cheap sources' inputs are checked before the model sources start: under a stage budget the inputs that
    # split survivors most often (mutation and random: 14 of 14 on 1068B) are not the ones the budget runs out on,
    # and the model sources get what the checks left (none when the checks spent it).
    cheap = propose_cheap(ctx)
    tallies = {src: _sort(shapes, cheap[Source(src)].texts if src in cheap else [], src, GeneratorLog(),
                          wellformed_gens) for src in cfg.sources if src in cheap}
    kept, _ = checks.run(tallies, GeneratorLog(), rng, cfg.max_inputs, force_first=True)
    model_s = cfg.model_budget_s
    if deadline is not None:
        left = deadline - time.perf_counter()
        # All of their budget or nothing: their first prompt's encoding costs about the same whatever the budget,
        # and a part of one was cut before any sample finished (1.5B model on 1076B: 12.5 s spent, no input).
        model_s = left if model_s is None else (model_s if left >= model_s else 0.0)
    proposed: dict[Source, Proposals] = dict(cheap)
    gen_log = GeneratorLog()
    reused = model_memo.reused() if model_memo is not None else None
    if reused is not None and model_memo is not None:
        proposed |= reused
        gen_log = model_memo.log
    elif model_s is None or model_s > 0:
        model, gen_log = propose_model(ctx, lambda x: canonical(x, view.kind), model_s)
        proposed |= model
        if model_memo is not None:
            model_memo.keep(model, gen_log)
    elif sampler is not None:
        # No time left for them: a model source skipped, as one whose batch the budget could not cover.
        proposed |= {Source(src): Proposals(Source(src), skipped_budget=True) for src in cfg.sources
                     if src in (Source.MODEL, Source.GENERATOR)}
    model_tallies = {src: _sort(shapes, proposed[Source(src)].texts if src in proposed else [], src, gen_log,
                                wellformed_gens) for src in cfg.sources if src not in cheap}
    more, valid_gens = checks.run(model_tallies, gen_log, rng, cfg.max_inputs - len(kept), force_first=not kept)
    kept += more
    # Tallies in the config's order, as before the split.
    tallies = {src: (tallies | model_tallies)[src] for src in cfg.sources}
    slow = checks.slow
    counts: dict[str, int] = {}
    for p in proposed.values():
        counts |= p.counts()
    for src, tally in tallies.items():
        counts |= tally.counts(src)
    counts["proposed"] = sum(t.proposed for t in tallies.values())
    counts["valid"] = sum(t.valid for t in tallies.values())
    counts["kept"] = len(kept)
    # What the cost caps did: checks not run (presumed time-outs) and inputs left unchecked at the budget's end.
    counts["check_presumed_timeouts"] = slow.presumed
    counts["check_cut_budget"] = slow.cut
    counts["check_slow_checkers"] = len(slow.slow)
    if "generator_programs" in counts:
        # Programs with at least one well-formed / valid output. Valid is a lower bound: an output that an
        # earlier source proposed first, or that came after the cap, was never checked as the generator's.
        counts["generator_programs_wellformed"] = len(wellformed_gens)
        counts["generator_programs_valid"] = len(valid_gens)
        # The same without the programs that are the prompt's plain body verbatim: what the model wrote.
        counts["generator_plain_copies"] = len(gen_log.copies)
        counts["generator_programs_valid_own"] = len(valid_gens - gen_log.copies)
    return TestInputs(inputs=tuple(t for _, t in kept), counts=counts, sources=tuple(s for s, _ in kept))


@dataclass
class _Checks:
    """The clean-run checks of one problem's inputs, source group by source group, under one deadline: the
    checkers (a seeded sample of the survivors) and what the checks learn of slow ones carry over the groups."""

    executor: BatchExecutor
    checkers: list[Program]
    limits: Limits
    cfg: TestGenConfig
    validator: str | None
    progress: Progress
    slow: SlowCheckers
    """A checker that timed out on one chunk's input runs the later chunks' checks at the tighter limit too, and
    (presume_timeouts) is presumed to time out on inputs at least as long; it counts presumed runs and cut inputs."""
    deadline: float | None

    def run(
        self, tallies: dict[str, Tally], gen_log: GeneratorLog, rng: random.Random, room: int, force_first: bool
    ) -> tuple[list[tuple[str, str]], set[int]]:
        """The sources' pools interleaved in a seeded order and checked chunk by chunk (validator, then a sample
        of the survivors must run cleanly) until `room` pass or the deadline: the kept (source, input) pairs and
        the generator programs that printed a kept input. With `force_first` the first chunk runs even past the
        deadline (so a problem keeps some inputs)."""
        cfg, progress = self.cfg, self.progress
        queue = _interleave({src: [(src, t) for t in tally.pool] for src, tally in tallies.items()}, rng)
        kept: list[tuple[str, str]] = []
        valid_gens: set[int] = set()
        pos = 0
        # Chunked checking: stop paying for executions once enough inputs have passed, or once the budget is spent.
        while pos < len(queue) and len(kept) < room:
            first = force_first and pos == 0
            if not first and self.deadline is not None and time.perf_counter() >= self.deadline:
                # The inputs never checked count as cut.
                self.slow.cut += len(queue) - pos
                break
            need = room - len(kept)
            size = max(need + need // 2, 4)
            # Under a budget, small chunks: a chunk started just before the deadline then ends soon after it.
            if self.deadline is not None:
                size = min(size, cfg.budget_chunk)
            chunk = queue[pos : pos + size]
            pos += len(chunk)
            texts = [t for _, t in chunk]
            ok = [True] * len(chunk)
            if self.validator:
                ok = validator_accepts(self.executor, self.validator, texts, self.limits,
                                       lambda k: progress("validate", k, None))
            clean = clean_inputs(self.executor, self.checkers, [t for t, o in zip(texts, ok, strict=False) if o],
                                 self.limits, cfg.min_clean_fraction, lambda k: progress("validate", k, None),
                                 self.slow, None if first else self.deadline)
            it = iter(clean)
            for (src, text), good in zip(chunk, ok, strict=False):
                tallies[src].checked += 1
                if not good or not next(it):
                    continue
                tallies[src].valid += 1
                if src == Source.GENERATOR:
                    valid_gens |= gen_log.printed_by.get(text, set())
                if len(kept) < room:
                    kept.append((src, text))
        return kept, valid_gens
