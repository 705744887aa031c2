"""The test-input stage end to end, with an in-process executor and a scripted sampler."""

from __future__ import annotations

import dataclasses

import pytest

from alphagen.problems.model import PublicView, Test
from alphagen.testgen import TestGenConfig, generate_test_inputs
from alphagen.testgen.model_inputs import FOCUS, GENERATOR_HEAD, parse_direct, parse_generator
from sandbox.values import Limits, Program
from tests.testgen_fakes import RIGHT, VIEW, FakeExecutor, FakeSampler

FIRST_WINS = "n = int(input())\na = list(map(int, input().split()))\nprint(max(a[:3]))\n"
CRASHES_ON_BIG = "n = int(input())\nassert n < 4\na = list(map(int, input().split()))\nprint(max(a))\n"
SURVIVORS = [Program(RIGHT), Program(FIRST_WINS)]


def _run(
    cfg: TestGenConfig,
    seed: int = 0,
    sampler: FakeSampler | None = None,
    survivors: list[Program] = SURVIVORS,
    validator: str | None = None,
) -> tuple:
    ex = FakeExecutor()
    ti = generate_test_inputs(
        VIEW, survivors, ex, Limits(time_s=1.0), cfg, seed, sampler=sampler, validator=validator
    )
    return ti, ex


def test_config_validates_fields() -> None:
    with pytest.raises(ValueError, match="sources must be among"):
        TestGenConfig(sources=("mutation", "oracle"))
    with pytest.raises(ValueError, match="max_inputs must be >= 1"):
        TestGenConfig(max_inputs=0)
    with pytest.raises(ValueError, match="min_clean_fraction"):
        TestGenConfig(min_clean_fraction=1.5)
    with pytest.raises(ValueError, match="num_mutations must be >= 0"):
        TestGenConfig(num_mutations=-1)


def test_mutation_inputs_are_valid_distinct_capped_and_deterministic() -> None:
    cfg = TestGenConfig(sources=("mutation",), num_mutations=40, max_inputs=12)
    ti, _ = _run(cfg, seed=1)
    assert 0 < len(ti.inputs) <= 12
    assert len(set(ti.inputs)) == len(ti.inputs)
    assert not set(ti.inputs) & {t.input for t in VIEW.public_tests}
    assert ti.counts["mutation_proposed"] == 40 and ti.counts["kept"] == len(ti.inputs)
    assert ti.counts["mutation_valid"] >= len(ti.inputs)
    assert set(ti.sources) == {"mutation"}
    again, _ = _run(cfg, seed=1)
    assert again.inputs == ti.inputs
    other, _ = _run(cfg, seed=2)
    assert other.inputs != ti.inputs


def test_inputs_most_survivors_crash_on_are_dropped() -> None:
    # Two of three survivors crash whenever n >= 4: such inputs fail the clean-run check at 0.5.
    survivors = [Program(RIGHT), Program(CRASHES_ON_BIG), Program(CRASHES_ON_BIG + "\n")]
    ti, _ = _run(
        TestGenConfig(sources=("mutation",), num_mutations=40, max_inputs=40), seed=3, survivors=survivors
    )
    assert ti.inputs and all(int(t.split()[0]) < 4 for t in ti.inputs)
    assert ti.counts["mutation_valid"] < ti.counts["mutation_wellformed"]


def test_validator_program_is_honoured() -> None:
    only_even_n = "import sys\nn = int(sys.stdin.readline())\nsys.exit(0 if n % 2 == 0 else 1)\n"
    ti, _ = _run(TestGenConfig(sources=("mutation",), num_mutations=40), seed=4, validator=only_even_n)
    assert ti.inputs and all(int(t.split()[0]) % 2 == 0 for t in ti.inputs)


def test_model_and_generator_sources_with_a_sampler() -> None:
    direct = ["2\n9 3\n```", "5\n1 2 3 4 5\n", "3\n1 2\n", "not numbers at all\n", "2\n9 3\n"]
    # A `gen` body in the skeleton derived from the learned format: it returns values, the skeleton prints them.
    generator = (
        "    n = rng.randint(1, 100)\n"
        "    return {'a': [rng.randint(1, 1000) for _ in range(n)]}\nprint('stray output is cut off')\n```"
    )
    broken = "this is not python(\n"
    sampler = FakeSampler(direct, [generator, broken])
    cfg = TestGenConfig(
        sources=("model", "generator"), num_model_samples=5, num_generator_programs=2, seeds_per_generator=4
    )
    ti, _ = _run(cfg, sampler=sampler)
    assert ti.counts["model_proposed"] == 5
    # "3\n1 2" has the wrong array length, the words are not numbers, and one duplicate is dropped.
    assert ti.counts["model_valid"] == 2
    assert "2\n9 3\n" in ti.inputs and "5\n1 2 3 4 5\n" in ti.inputs
    assert ti.counts["generator_proposed"] == 4  # one compiling generator x 4 seeds
    assert ti.counts["generator_valid"] == 4
    # Per program: two sampled; the broken one is cut to an empty body (it compiles: the docstring), prints
    # nothing; the other prints well-formed, valid inputs.
    assert ti.counts["generator_sampled"] == 2 and ti.counts["generator_programs"] == 2
    assert ti.counts["generator_programs_printing"] == 1
    assert ti.counts["generator_programs_wellformed"] == 1 and ti.counts["generator_programs_valid"] == 1
    # Checked: the new inputs run through the validity check (the model's duplicate is not checked again).
    assert ti.counts["model_checked"] == 2 and ti.counts["model_duplicate"] == 1
    assert any("def gen(rng):" in p for p in sampler.prompts)
    assert ti.counts["model_constrained"] == 1 and ti.counts["generator_skeleton"] == 1
    # Generator prompts show the examples; constrained direct prompts leave them out (the model copied them).
    assert all("Input" in p for p in sampler.prompts)
    assert all(("3\n1 5 2" in p) == ("def gen(rng):" in p) for p in sampler.prompts)


def test_model_sources_are_skipped_without_a_sampler() -> None:
    ti, ex = _run(TestGenConfig(sources=("model", "generator")))
    assert ti.inputs == () and ti.counts["proposed"] == 0 and ex.runs == 0


def test_parsers() -> None:
    assert parse_direct("1 2\n3\n```\nsome prose") == "1 2\n3\n"
    assert parse_direct("```\n5\n```") == "5\n"
    assert parse_direct("   \n```") is None
    gen = parse_generator("print(random.randint(1, seed + 2))\n```")
    assert gen is not None and gen.startswith(GENERATOR_HEAD)
    assert parse_generator("print(\n```") is None


def test_function_kind_inputs_are_json_argument_lists() -> None:
    view = PublicView(
        name="add",
        description="Return a + b. Constraints: 0 ≤ a, b ≤ 100.",
        kind="function",
        public_tests=(Test("[1, 2]", "3"), Test("[5, 5]", "10")),
        entry_point="add",
        signature="def add(a, b):\n",
        time_limit_s=1.0,
        memory_limit_mb=256,
        rating=None,
        tags=(),
    )
    echo = "import json, sys\nargs = json.loads(sys.stdin.read())\nprint(args[0] + args[1])\n"
    ti = generate_test_inputs(
        view,
        [Program(echo)],
        FakeExecutor(),
        Limits(time_s=1.0),
        TestGenConfig(sources=("mutation",), num_mutations=20),
        0,
    )
    import json

    assert ti.inputs
    for text in ti.inputs:
        a, b = json.loads(text)
        assert isinstance(a, int) and isinstance(b, int) and 0 <= a <= 100 and 0 <= b <= 100


def test_a_model_source_whose_first_batch_is_unusable_stops_there() -> None:
    # Generators that print nothing well-formed (the embedded model's usual output before the skeleton): sampling
    # all of them would cost minutes, so a first batch probes.
    sampler = FakeSampler(["not numbers at all\n"], ["this is not python(\n"])
    cfg = TestGenConfig(sources=("generator",), num_generator_programs=4, first_batch=2)
    ti, _ = _run(cfg, sampler=sampler)
    assert ti.counts["generator_proposed"] == 0 and ti.counts["generator_stopped_early"] == 1
    assert ti.counts["generator_sampled"] == 2 and len(sampler.prompts) == 1  # the first batch, nothing after
    # Grammar-constrained direct inputs are well-formed by construction: no probe, one batch (one request per
    # focus of the prompt), so the prompts are encoded once.
    good = FakeSampler(["2\n9 3\n", "5\n1 2 3 4 5\n", "3\n7 8 9\n"], ["x(\n"])
    ti, _ = _run(TestGenConfig(sources=("model",), num_model_samples=6, first_batch=2), sampler=good)
    assert ti.counts["model_constrained"] == 1 and ti.counts["model_proposed"] == 6
    assert len(good.prompts) == len(FOCUS) and len(set(good.prompts)) == len(FOCUS)
    assert "model_stopped_early" not in ti.counts


def test_model_sources_do_not_start_past_their_budget() -> None:
    sampler = FakeSampler(["2\n9 3\n"], ["x(\n"])
    cfg = TestGenConfig(sources=("mutation", "model", "generator"), model_budget_s=0.0)
    ti, _ = _run(cfg, sampler=sampler)
    assert sampler.prompts == [] and ti.counts["model_skipped_budget"] == 1
    assert ti.counts["mutation_valid"] > 0  # the cheap sources still run


def test_a_model_batch_starts_only_if_the_budget_left_covers_one_like_the_last() -> None:
    import time

    class Slow(FakeSampler):
        def sample(self, requests, params, progress=None):  # type: ignore[no-untyped-def]
            time.sleep(0.3)
            return super().sample(requests, params, progress)

    generator = "    return {'a': [rng.randint(1, 9) for _ in range(3)]}\n"
    # 0.3 s spent of 0.5: 0.2 s left is less than the direct batch took, so the generators do not start.
    sampler = Slow(["2\n9 3\n"], [generator])
    ti, _ = _run(TestGenConfig(sources=("model", "generator"), model_budget_s=0.5), sampler=sampler)
    assert ti.counts["model_proposed"] > 0 and ti.counts["generator_skipped_budget"] == 1
    # With room for another such batch they do.
    sampler = Slow(["2\n9 3\n"], [generator])
    ti, _ = _run(TestGenConfig(sources=("model", "generator"), model_budget_s=5.0), sampler=sampler)
    assert "generator_skipped_budget" not in ti.counts and ti.counts["generator_programs"] > 0


def test_the_pipeline_budgets_model_sources_by_the_sampling_time() -> None:
    from alphagen.pipeline import _testgen_budget

    assert _testgen_budget(TestGenConfig(), 44.0).model_budget_s == pytest.approx(8.8)
    # No floor: short programs sample fast, and a floor made the model sources the stage's main cost there.
    assert _testgen_budget(TestGenConfig(), 1.0).model_budget_s == pytest.approx(0.2)
    assert _testgen_budget(TestGenConfig(model_budget_s=300.0), 1.0).model_budget_s == 300.0


def test_the_constrained_prompt_leaves_out_the_examples() -> None:
    # Shown an example, the embedded model copied it (9 of 16 inputs on a shipped problem); under a grammar the
    # format needs no example, so the direct prompt shows the statement without its examples section.
    from alphagen.testgen.model_inputs import direct_prompt, without_examples

    statement = "A long story about n.\n\nInput\nOne integer n.\n\nExamples\n\nInput\n42\nOutput\n43\n\nNote\nx\n"
    assert without_examples(statement) == "A long story about n.\n\nInput\nOne integer n.\n"
    assert without_examples("Examples\nshort statement\n") == "Examples\nshort statement\n"  # heading too early
    assert without_examples("no heading\n") == "no heading\n"
    view = dataclasses.replace(VIEW, description=statement, public_tests=(Test("42\n", "43\n"),))
    assert "42" not in direct_prompt(view, None, examples=False)
    assert "42" in direct_prompt(view, None)
