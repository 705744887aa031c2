"""The test-input stage: propose inputs from every enabled source, then keep the valid, distinct ones.

Order of work, and why:
1. propose: mutants of the examples and fresh inputs in the examples' learned format (cheap, always on),
   model-written inputs and generator programs (only with a sampler); generators run in the sandbox with
   several seeds;
2. canonicalize and check the shape against the examples (free), drop duplicates and the examples themselves;
3. interleave the sources round-robin in a seeded order, so the cap keeps a mix rather than one source;
4. run the validator (if the problem has one) and a sample of the survivors on the candidates, chunk by chunk,
   until `max_inputs` have passed: most survivors must run cleanly on a kept input (two waves: an input the
   first programs cannot run is dropped without running the rest; see validate.clean_inputs).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from alphagen.problems.model import PublicView
from alphagen.testgen import model_inputs as mi
from alphagen.testgen.config import TestGenConfig, TestInputs
from alphagen.testgen.constraints import parse_constraints
from alphagen.testgen.generator_skeleton import generator_skeleton
from alphagen.testgen.grammar import input_grammar
from alphagen.testgen.input_format import InputFormat, Leniency, learn_input_format
from alphagen.testgen.mutate_args import ArgsMutator, args_problem, parse_args
from alphagen.testgen.mutate_stdio import StdioMutator
from alphagen.testgen.random_inputs import RandomInputs
from alphagen.testgen.validate import check_sample, clean_inputs, generator_outputs, validator_accepts
from sandbox import BatchExecutor
from sandbox.values import Limits, Program

if TYPE_CHECKING:
    from alphagen.sampling.factory import Sampler

ProgressFn = Callable[[str, int], None]


def canonical(text: str, kind: str) -> str | None:
    """One spelling per input: trailing spaces and blank tail lines removed; JSON re-dumped for functions."""
    if kind == "function":
        args = parse_args(text)
        return json.dumps(args) if args is not None else None
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    out = "\n".join(lines).strip("\n")
    return out + "\n" if out.strip() else None


@dataclass
class GeneratorLog:
    """What the generator source's programs did, for the per-program counts."""

    printed_by: dict[str, set[int]] = field(default_factory=dict)
    """Canonical input -> the programs (numbered in sampling order) that printed it."""
    copies: set[int] = field(default_factory=set)
    """Programs that are the prompt's plain body verbatim (ours, not the model's)."""


def _propose(
    view: PublicView,
    executor: BatchExecutor,
    limits: Limits,
    cfg: TestGenConfig,
    seed: int,
    sampler: Sampler | None,
    tokenizer: Any,
    progress: ProgressFn,
    shape_ok: Callable[[str, str], bool],
    counts: dict[str, int],
    fmt: InputFormat | None,
    gen_log: GeneratorLog,
) -> dict[str, list[str]]:
    examples = [t.input for t in view.public_tests]
    constraints = parse_constraints(view.description)
    out: dict[str, list[str]] = {}
    if "mutation" in cfg.sources:
        mutator: StdioMutator | ArgsMutator
        if view.kind == "function":
            mutator = ArgsMutator(examples, constraints, cfg.scale_cap)
        else:
            mutator = StdioMutator(examples, constraints, cfg.scale_cap, cfg.large_scale, fmt)
        t0 = time.perf_counter()
        out["mutation"] = mutator.propose(cfg.num_mutations, random.Random(seed))
        counts["mutation_ms"] = int(1000 * (time.perf_counter() - t0))
        progress("mutation", len(out["mutation"]))
    if "random" in cfg.sources and view.kind != "function":
        fresh = RandomInputs(examples, constraints, cfg.scale_cap, cfg.large_scale, cfg.max_input_bytes, fmt)
        t0 = time.perf_counter()
        out["random"] = fresh.propose(cfg.num_random, random.Random(seed + 1))
        counts["random_ms"] = int(1000 * (time.perf_counter() - t0))
        progress("random", len(out["random"]))
    if sampler is None:
        return out
    # The model sources are the slow ones: an unconstrained source starts with a small first batch and stops when
    # none of it is well-formed; no batch starts once the stage's model budget cannot cover it (see over_budget).
    started = time.perf_counter()

    last_batch_s = [0.0]  # how long the previous model batch took: the guess for the next one

    def over_budget(src: str) -> bool:
        # A batch cannot be stopped once started, so one starts only if the budget left covers a batch as long
        # as the previous one (the first always starts while any budget is left).
        left = None if cfg.model_budget_s is None else cfg.model_budget_s - (time.perf_counter() - started)
        spent = left is not None and (left <= 0 or left < last_batch_s[0])
        if spent:
            counts[f"{src}_skipped_budget"] = 1
        return spent

    def in_batches(src: str, total: int, draw: Callable[[int, int], list[str]], probe: bool = True) -> list[str]:
        t0 = time.perf_counter()
        got = _batches(src, total, draw, probe)
        # Time per source (sampling, and for generators their sandbox runs): the model sources' cost.
        counts[f"{src}_ms"] = int(1000 * (time.perf_counter() - t0))
        return got

    def _batches(src: str, total: int, draw: Callable[[int, int], list[str]], probe: bool = True) -> list[str]:
        got: list[str] = []
        first = min(cfg.first_batch, total) if probe else total
        for batch, count in enumerate((first, total - first)):
            if count < 1 or over_budget(src):
                break
            t0 = time.perf_counter()
            texts = draw(count, batch)
            last_batch_s[0] = time.perf_counter() - t0
            got += texts
            progress(src, len(texts))
            if batch == 0 and not any(shape_ok(src, t) for t in texts):
                counts[f"{src}_stopped_early"] = 1
                break
        return got

    if "model" in cfg.sources:
        # Direct inputs are decoded under the grammar of the learned format (well-formed by construction).
        grammar = input_grammar(fmt) if fmt is not None else None
        why = "a function problem" if view.kind == "function" else "no input format learned from the examples"
        counts["model_constrained"] = int(grammar is not None)
        tokens = cfg.direct_max_new_tokens if grammar is not None else cfg.max_new_tokens
        # Constrained inputs are well-formed by construction, so a probing first batch would only pay for one more
        # encoding of the prompts: draw them in one batch.
        out["model"] = in_batches("model", cfg.num_model_samples, lambda count, batch: mi.model_inputs(
            sampler, tokenizer, view, count, cfg.temperature, tokens, seed + 1000 * batch, grammar, why),
            probe=grammar is None)
    if "generator" in cfg.sources:
        seeds = mi.seed_inputs([seed * 1000 + s for s in range(cfg.seeds_per_generator)])
        # The model writes value choices inside a skeleton that reads the seed and prints the learned layout.
        skeleton = generator_skeleton(fmt, examples[0]) if fmt is not None and examples else None
        counts["generator_skeleton"] = int(skeleton is not None)
        gen_tokens = cfg.gen_body_max_new_tokens if skeleton is not None else max(cfg.max_new_tokens, 384)

        def generated(count: int, batch: int) -> list[str]:
            gens = mi.generator_programs(sampler, tokenizer, view, count, cfg.temperature,
                                         gen_tokens, seed + 1000 * batch, skeleton)
            per_gen = generator_outputs(executor, gens, seeds, limits, cfg.max_input_bytes, lambda k: None)
            # Which program printed what: the per-program counts ("how many generators print a valid input").
            first = counts.get("generator_programs", 0)
            for j, outs in enumerate(per_gen):
                for x in outs:
                    gen_log.printed_by.setdefault(canonical(x, view.kind) or "", set()).add(first + j)
            counts["generator_sampled"] = counts.get("generator_sampled", 0) + count
            if skeleton is not None:
                # A program that is the prompt's plain body verbatim is ours, not the model's: counted apart.
                plain = skeleton.program(skeleton.plain)
                gen_log.copies |= {first + j for j, g in enumerate(gens) if g == plain}
            counts["generator_programs"] = first + len(gens)
            counts["generator_programs_printing"] = counts.get("generator_programs_printing", 0) + sum(
                1 for outs in per_gen if outs)
            return [x for g in per_gen for x in g]

        out["generator"] = in_batches("generator", cfg.num_generator_programs, generated)
    return out


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


def generate_test_inputs(
    view: PublicView,
    survivors: Sequence[Program],
    executor: BatchExecutor,
    limits: Limits,
    cfg: TestGenConfig,
    seed: int,
    sampler: Sampler | None = None,
    tokenizer: Any = None,
    validator: str | None = None,
    progress: ProgressFn | None = None,
) -> TestInputs:
    """Validated extra inputs for clustering; see the module docstring. Never sees hidden tests."""
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    report: ProgressFn = progress or (lambda stage, k: None)
    counts: dict[str, int] = {}
    examples = [t.input for t in view.public_tests]
    # One input-format model per problem: mutation, random generation, the model sources and validation all
    # use it (learned once here instead of once per source).
    fmt = learn_input_format(examples, parse_constraints(view.description)) if view.kind != "function" else None
    seen = {canonical(e, view.kind) for e in examples}

    def shape_problem(src: str, text: str) -> str | None:
        if view.kind == "function":
            return args_problem(examples, text, cfg.max_input_bytes)
        if fmt is None:
            return None
        # Random inputs are written from the skeleton, so well-formed by construction (the loose line-count
        # rule would wrongly refuse an empty array: n = 1 with n - 1 numbers on a line); the rest are held
        # to the loose shape rules.
        leniency = Leniency.CONSTRUCTED if src == "random" else Leniency.SHAPE
        return fmt.problem(text, cfg.max_input_bytes, leniency)

    def shape_ok(src: str, raw: str) -> bool:
        text = canonical(raw, view.kind)
        return text is not None and text not in seen and shape_problem(src, text) is None

    gen_log = GeneratorLog()
    proposed = _propose(
        view, executor, limits, cfg, seed, sampler, tokenizer, report, shape_ok, counts, fmt, gen_log
    )
    wellformed_generators: set[int] = set()
    valid_generators: set[int] = set()
    pools: dict[str, list[tuple[str, str]]] = {}
    # Shape check and de-duplication across sources (the first source to propose an input owns it).
    for src in cfg.sources:
        texts = proposed.get(src, [])
        counts[f"{src}_proposed"] = len(texts)
        counts[f"{src}_wellformed"] = 0
        counts[f"{src}_valid"] = 0
        counts[f"{src}_checked"] = 0
        counts[f"{src}_duplicate"] = 0
        pools[src] = []
        for raw in texts:
            text = canonical(raw, view.kind)
            # Well-formed means it reads in the learned format, whether or not an example or an earlier source
            # already has it (a model's "0 0" edge case is well-formed even when mutation proposed it first);
            # only new inputs join the pool.
            if text is None or shape_problem(src, text) is not None:
                continue
            counts[f"{src}_wellformed"] += 1
            if src == "generator":
                wellformed_generators |= gen_log.printed_by.get(text, set())
            if text in seen:
                counts[f"{src}_duplicate"] += 1
                continue
            seen.add(text)
            pools[src].append((src, text))
    queue = _interleave(pools, random.Random(seed + 7))
    checkers = check_sample(survivors, cfg.clean_check_programs, seed)
    kept: list[tuple[str, str]] = []
    pos = 0
    # Chunked checking: stop paying for executions once enough inputs have passed.
    while pos < len(queue) and len(kept) < cfg.max_inputs:
        need = cfg.max_inputs - len(kept)
        chunk = queue[pos : pos + max(need + need // 2, 4)]
        pos += len(chunk)
        texts = [t for _, t in chunk]
        ok = [True] * len(chunk)
        if validator:
            ok = validator_accepts(executor, validator, texts, limits, lambda k: report("validate", k))
        clean = clean_inputs(
            executor,
            checkers,
            [t for t, o in zip(texts, ok, strict=False) if o],
            limits,
            cfg.min_clean_fraction,
            lambda k: report("validate", k),
        )
        it = iter(clean)
        for (src, text), good in zip(chunk, ok, strict=False):
            counts[f"{src}_checked"] += 1
            if not good or not next(it):
                continue
            counts[f"{src}_valid"] += 1
            if src == "generator":
                valid_generators |= gen_log.printed_by.get(text, set())
            if len(kept) < cfg.max_inputs:
                kept.append((src, text))
    counts["proposed"] = sum(counts[f"{s}_proposed"] for s in cfg.sources)
    counts["valid"] = sum(counts[f"{s}_valid"] for s in cfg.sources)
    counts["kept"] = len(kept)
    if "generator_programs" in counts:
        # Programs with at least one well-formed / valid output. Valid is a lower bound: an output that an
        # earlier source proposed first, or that came after the cap, was never checked as the generator's.
        counts["generator_programs_wellformed"] = len(wellformed_generators)
        counts["generator_programs_valid"] = len(valid_generators)
        # The same without the programs that are the prompt's plain body verbatim: what the model wrote.
        counts["generator_plain_copies"] = len(gen_log.copies)
        counts["generator_programs_valid_own"] = len(valid_generators - gen_log.copies)
    return TestInputs(inputs=tuple(t for _, t in kept), counts=counts, sources=tuple(s for s, _ in kept))
