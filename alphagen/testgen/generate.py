"""The test-input stage: propose inputs from every enabled source, then keep the valid, distinct ones.

Order of work, and why:
1. propose: mutants of the examples and fresh inputs in the examples' learned format (cheap, always on),
   model-written inputs and generator programs (only with a sampler); generators run in the sandbox with
   several seeds;
2. canonicalize and check the shape against the examples (free), drop duplicates and the examples themselves;
3. interleave the sources round-robin in a seeded order, so the cap keeps a mix rather than one source;
4. run the validator (if the problem has one) and a sample of the survivors on the candidates, chunk by chunk,
   until `max_inputs` have passed: most survivors must run cleanly on a kept input (two waves: an input the
   first programs cannot run is dropped without running the rest; see validate.clean_inputs); under a stage
   budget (`TestGenConfig.stage_budget_s`) the chunks are small and none starts past the budget's end.
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
from alphagen.testgen.sources import Context, GeneratorLog, propose_all
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
) -> TestInputs:
    """Validated extra inputs for clustering; see the module docstring. Never sees hidden tests. `progress` is
    called with each source's name ("mutation", ..., "validate") as its stage."""
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
    ctx = Context(view, examples, constraints, fmt, cfg, seed, executor, limits, progress, shapes.ok, sampler,
                  tokenizer)
    proposed, gen_log = propose_all(ctx, lambda x: canonical(x, view.kind))
    counts: dict[str, int] = {}
    for p in proposed.values():
        counts |= p.counts()
    wellformed_gens: set[int] = set()
    tallies = {src: _sort(shapes, proposed[Source(src)].texts if src in proposed else [], src, gen_log,
                          wellformed_gens) for src in cfg.sources}
    kept, valid_gens, slow = _check(tallies, survivors, executor, limits, cfg, seed, validator, progress, gen_log,
                                    deadline)
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


def _check(
    tallies: dict[str, Tally],
    survivors: Sequence[Program],
    executor: BatchExecutor,
    limits: Limits,
    cfg: TestGenConfig,
    seed: int,
    validator: str | None,
    progress: Progress,
    gen_log: GeneratorLog,
    deadline: float | None,
) -> tuple[list[tuple[str, str]], set[int], SlowCheckers]:
    """The sources' pools interleaved in a seeded order and checked chunk by chunk (validator, then a sample of
    the survivors must run cleanly) until cfg.max_inputs pass or the deadline: the kept (source, input) pairs, the
    generator programs that printed a kept input, and what the checks learned of slow checkers (with the counts of
    presumed time-outs and of inputs cut at the deadline)."""
    queue = _interleave({src: [(src, t) for t in tally.pool] for src, tally in tallies.items()},
                        random.Random(seed + 7))
    checkers = check_sample(survivors, cfg.clean_check_programs, seed)
    # A checker that timed out on one chunk's input runs the later chunks' checks at the tighter limit too, and
    # (presume_timeouts) is presumed to time out on inputs at least as long.
    slow = SlowCheckers(cfg.slow_check_time_share, cfg.presume_timeouts)
    kept: list[tuple[str, str]] = []
    valid_gens: set[int] = set()
    pos = 0
    # Chunked checking: stop paying for executions once enough inputs have passed, or once the budget is spent.
    while pos < len(queue) and len(kept) < cfg.max_inputs:
        # The first chunk always runs (a problem whose model sources spent the budget still gets some inputs);
        # the inputs never checked count as cut.
        first = pos == 0
        if not first and deadline is not None and time.perf_counter() >= deadline:
            slow.cut += len(queue) - pos
            break
        need = cfg.max_inputs - len(kept)
        size = max(need + need // 2, 4)
        # Under a budget, small chunks: a chunk started just before the deadline then ends soon after it.
        if deadline is not None:
            size = min(size, cfg.budget_chunk)
        chunk = queue[pos : pos + size]
        pos += len(chunk)
        texts = [t for _, t in chunk]
        ok = [True] * len(chunk)
        if validator:
            ok = validator_accepts(executor, validator, texts, limits, lambda k: progress("validate", k, None))
        clean = clean_inputs(executor, checkers, [t for t, o in zip(texts, ok, strict=False) if o], limits,
                             cfg.min_clean_fraction, lambda k: progress("validate", k, None), slow,
                             None if first else deadline)
        it = iter(clean)
        for (src, text), good in zip(chunk, ok, strict=False):
            tallies[src].checked += 1
            if not good or not next(it):
                continue
            tallies[src].valid += 1
            if src == Source.GENERATOR:
                valid_gens |= gen_log.printed_by.get(text, set())
            if len(kept) < cfg.max_inputs:
                kept.append((src, text))
    return kept, valid_gens, slow
