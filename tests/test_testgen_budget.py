"""The test-input stage's cost caps (#29): the model sources stop decoding at their budget's end, and a checker that
timed out once runs its later clean-run checks at a tighter limit."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from alphagen.sampling.params import PromptRequest, SamplingParams
from alphagen.testgen import TestGenConfig, TestInputs, generate_test_inputs
from alphagen.testgen.config import Source
from alphagen.testgen.model_budget import PROMPT_COSTS, BudgetedSampler, ModelBudget
from alphagen.testgen.validate import SlowCheckers, at_least, clean_inputs
from sandbox import Executor
from sandbox.interface import BatchExecutor, BatchRequest
from sandbox.values import Limits, Program, Result, Status
from tests.testgen_fakes import RIGHT, VIEW, FakeCompletion, FakeExecutor, FakeSampler

if TYPE_CHECKING:
    from alphagen.models import LoadedModel

STEP_S = 0.02
"""One fake decoding step."""


class SteppingSampler(FakeSampler):
    """A scripted sampler that decodes like the hf backend: every sample takes `steps` decoding steps of STEP_S,
    and the progress callback hears of every step (0 when no sample finished in it)."""

    def __init__(self, direct: Sequence[str], steps: int) -> None:
        super().__init__(direct, ["x(\n"])
        self.steps = steps
        self.decoded = 0

    def sample(
        self, requests: Sequence[object], params: object, progress: Callable[[int], None] | None = None
    ) -> Iterator[FakeCompletion]:
        for c in super().sample(requests, params):
            for step in range(self.steps):
                time.sleep(STEP_S)
                self.decoded += 1
                if progress is not None:
                    progress(int(step == self.steps - 1))
            yield c


def _inputs(cfg: TestGenConfig, sampler: SteppingSampler) -> TestInputs:
    return generate_test_inputs(VIEW, [Program(RIGHT)], FakeExecutor(), Limits(time_s=1.0), cfg, seed=0,
                                sampler=sampler)  # type: ignore[arg-type]  # a scripted stand-in


def test_the_model_source_stops_decoding_at_its_budget() -> None:
    # 16 inputs of 10 steps each: 3.2 s of decoding against a 0.4 s budget. Before, only a batch's start was
    # checked and the batch ran to its end (762A: a batch started under a 14 s budget took 39-103 s).
    sampler = SteppingSampler(["2\n9 3\n", "3\n1 2 3\n", "1\n7\n", "4\n5 5 5 5\n"], steps=10)
    budget = 0.4
    cfg = TestGenConfig(sources=("model",), num_model_samples=16, model_budget_s=budget)
    started = time.perf_counter()
    ti = _inputs(cfg, sampler)
    took = time.perf_counter() - started
    # Overrun: at most the step that crossed the deadline (and the harness around it).
    assert ti.counts["model_ms"] / 1000 <= budget + 2 * STEP_S + 0.1, ti.counts
    assert took <= budget + 0.5
    assert sampler.decoded < 16 * 10 and ti.counts["model_cut_budget"] == 1
    # What finished before the deadline is kept: samples of 10 steps, a 0.4 s budget, so one or two of them.
    assert 1 <= ti.counts["model_proposed"] < 16


def test_the_samples_of_the_step_that_crossed_the_deadline_are_kept() -> None:
    # The sampler reports a step before it yields that step's samples: a stop raised there would lose them.
    class TwoPerStep:
        steps = 0

        def sample(
            self, requests: object, params: object, progress: Callable[[int], None]
        ) -> Iterator[FakeCompletion]:
            for step in range(3):
                self.steps += 1
                progress(2)
                yield from (FakeCompletion(0, 2 * step, f"step {step} a"), FakeCompletion(0, 2 * step + 1, "b"))

    inner = TwoPerStep()
    budgeted = BudgetedSampler(inner, ModelBudget(0.0), Source.MODEL)  # type: ignore[arg-type]  # a scripted stand-in
    out = list(budgeted.sample([PromptRequest("p", 6), PromptRequest("q", 2)], SamplingParams()))
    # The step's two samples, then nothing: not the rest of this prompt, not the next prompt.
    assert [c.text for c in out] == ["step 0 a", "b"] and budgeted.cut and inner.steps == 1


def test_a_source_whose_budget_cannot_cover_one_prompt_does_not_start() -> None:
    # A prompt's encoding cannot be cut and costs about the same whatever the budget: a problem whose budget is
    # smaller than this sampler's last prompt skips the source instead of paying for a prompt it cannot finish
    # (HumanEval at -n 16: 1.5-3 s of model sources against 3.6-8.6 s of sampling, for 8 of 475 kept inputs).
    sampler = SteppingSampler(["2\n9 3\n", "3\n1 2 3\n"], steps=10)
    assert PROMPT_COSTS.get(sampler, Source.MODEL) == 0.0
    roomy = TestGenConfig(sources=("model",), num_model_samples=2, model_budget_s=5.0)
    first = _inputs(roomy, sampler)
    cost = PROMPT_COSTS.get(sampler, Source.MODEL)
    assert first.counts["model_proposed"] == 2 and 10 * STEP_S <= cost < 5.0  # a prompt: at least its 10 steps
    decoded = sampler.decoded
    # A later problem with less than one such prompt: skipped, nothing decoded, and said so in the counts.
    tight = _inputs(replace(roomy, model_budget_s=cost / 2), sampler)
    assert tight.counts["model_skipped_budget"] == 1 and tight.counts["model_proposed"] == 0
    assert sampler.decoded == decoded
    # Each skip fades the remembered cost by a fifth: one slow prompt (a warm-up) cannot keep the source off.
    assert PROMPT_COSTS.get(sampler, Source.MODEL) == pytest.approx(0.8 * cost)
    # Enough for one: it starts again.
    again = _inputs(replace(roomy, model_budget_s=3 * cost), sampler)
    assert again.counts["model_proposed"] == 2 and sampler.decoded > decoded
    # Another sampler knows nothing of this one's costs.
    assert PROMPT_COSTS.get(SteppingSampler([], steps=1), Source.MODEL) == 0.0


def test_no_budget_no_cut() -> None:
    sampler = SteppingSampler(["2\n9 3\n"], steps=1)
    cfg = TestGenConfig(sources=("model",), num_model_samples=4, model_budget_s=None)
    ti = _inputs(cfg, sampler)
    assert ti.counts["model_proposed"] == 4 and "model_cut_budget" not in ti.counts


def test_the_hf_sampler_stops_between_steps_at_the_deadline(tiny_model: LoadedModel) -> None:
    # Samples that cannot end before 48 tokens, and a budget already spent: the first step's callback stops it,
    # before any sample is done (checked only at finished samples, it would decode all 48 steps first).
    from alphagen.sampling.factory import make_sampler
    from tests.tiny_model import chat_prompt

    params = SamplingParams(temperature=1.0, max_new_tokens=48, stop=(), ignore_eos=True)
    steps: list[int] = []
    inner = make_sampler(tiny_model, "hf")
    budgeted = BudgetedSampler(inner, ModelBudget(0.0), Source.MODEL)
    out = list(budgeted.sample([PromptRequest(chat_prompt(tiny_model, "y"), 3)], params, steps.append))
    assert out == [] and budgeted.cut and len(steps) == 1
    # Cut before any sample finished: the prompt is remembered as costing at least what it spent.
    assert PROMPT_COSTS.get(inner, Source.MODEL) > 0
    # With time left the same call draws every sample, and the callback saw every step (47: the first token comes
    # from the prompt's logits).
    steps.clear()
    budgeted = BudgetedSampler(make_sampler(tiny_model, "hf"), ModelBudget(600.0), Source.MODEL)
    out = list(budgeted.sample([PromptRequest(chat_prompt(tiny_model, "y"), 3)], params, steps.append))
    assert len(out) == 3 and not budgeted.cut and len(steps) == 47 and sum(steps) == 3
    # Prompts drawn one call each give the samples one call gives (indices, texts, which request).
    reqs = [PromptRequest(chat_prompt(tiny_model, "y"), 2), PromptRequest(chat_prompt(tiny_model, "z"), 3)]
    short = replace(params, max_new_tokens=8)
    one = sorted((c.sample_index, c.request_index, c.text) for c in make_sampler(tiny_model, "hf").sample(reqs, short))
    split = sorted((c.sample_index, c.request_index, c.text) for c in budgeted.sample(reqs, short))
    assert split == one and [i for i, _, _ in one] == [0, 1, 2, 3, 4]


SLOW = "n = int(input())\nwhile n > 100:\n    pass\nprint(n)\n"
"""Right on small inputs, never ends on large ones (762A's survivors: a loop to n)."""


class LimitedExecutor(BatchExecutor):
    """In-process runs that honour time limits the way the sandbox reports them: SLOW on an input above 100 is a
    time-out that costs the whole limit. Records each run's program, input and time limit."""

    def __init__(self) -> None:
        self.runs: list[tuple[int, int, float]] = []
        self.inner = FakeExecutor()

    def execute(self, request: BatchRequest) -> Iterator[Result]:
        for p, i in request.todo():
            self.runs.append((p, i, request.limits.time_s))
            text = request.inputs[i]
            text = text if isinstance(text, str) else text.decode()
            if request.programs[p].source == SLOW and int(text.split()[0]) > 100:
                yield Result(program_index=p, input_index=i, status=Status.TIME_LIMIT, cpu_s=request.limits.time_s)
                continue
            yield from self.inner.execute(replace(request, pairs=((p, i),)))


def test_a_checker_that_timed_out_runs_its_later_checks_at_a_tighter_limit() -> None:
    programs = [Program(SLOW), Program(RIGHT.replace("max", "min"))]
    inputs = [f"{n}\n" + " ".join(["1"] * min(n, 3)) + "\n" for n in (5, 1000, 2000, 3, 5000, 7000, 8, 9000)]
    limits = Limits(time_s=2.0)

    def check(share: float) -> tuple[list[bool], LimitedExecutor]:
        ex = LimitedExecutor()
        return clean_inputs(ex, programs, inputs, limits, 1.0, lambda k: None, SlowCheckers(share)), ex

    before, full = check(1.0)
    after, tight = check(0.25)
    # Same verdicts: an input is kept only where both run cleanly, here the small ones.
    assert before == after == [True, False, False, True, False, False, True, False]
    slow_runs = [(i, t) for p, i, t in tight.runs if p == 0 and int(inputs[i].split()[0]) > 100]
    # Every time-out paid a quarter of the limit, the probe's on the longest input included (before: five whole
    # limits).
    assert [t for _, t in slow_runs] == [0.5, 0.5, 0.5, 0.5, 0.5]
    assert sum(t for p, i, t in full.runs if p == 0 and int(inputs[i].split()[0]) > 100) == 10.0
    # Nothing ran twice, and the checker that never timed out kept the full limit after its probe.
    assert len(tight.runs) == len(set((p, i) for p, i, _ in tight.runs))
    assert sorted(t for p, _, t in tight.runs if p == 1) == [0.5] + [2.0] * 7


def test_a_presumed_time_out_runs_nothing_and_only_drops_inputs() -> None:
    programs = [Program(SLOW), Program(RIGHT.replace("max", "min"))]
    # SLOW loops forever above 100. Its probe (the longest input, 9000) times out; its other inputs then run
    # smallest first: 5 and 99 cleanly, 300 times out, and every input at least as large as that (1000, 2000) is
    # presumed. The last is longer than 300's but its n is small: it is not presumed, and runs cleanly.
    inputs = ["5\n1\n", "1000\n1 1 1\n", "2000\n1 1 1\n", "99\n1\n", "9000\n" + "1 " * 8 + "\n", "300\n1\n",
              "7\n1 1 1 1 1 1\n"]
    limits = Limits(time_s=2.0)
    ex = LimitedExecutor()
    slow = SlowCheckers(0.25, presume=True)
    got = clean_inputs(ex, programs, inputs, limits, 1.0, lambda k: None, slow)
    assert got == [True, False, False, True, False, False, True]
    # 1000 and 2000 never ran.
    assert sorted(i for p, i, _ in ex.runs if p == 0) == [0, 3, 4, 5, 6] and slow.presumed == 2
    # The same verdicts as running everything.
    every = clean_inputs(LimitedExecutor(), programs, inputs, limits, 1.0, lambda k: None, SlowCheckers(0.25))
    assert every == got


def test_at_least_is_every_number_at_least_as_large() -> None:
    assert at_least("10 5".split(), "10 3".split()) and at_least("-20 3 9".split(), "10 3".split())
    assert not at_least("9 100".split(), "10 3".split())  # a smaller first number: may well run fast
    assert not at_least("10".split(), "10 3".split()) and not at_least("abc 5".split(), "abd 3".split())
    # A presumption's verdict is never kinder: a program that is fast on a larger input is dropped there.
    fast_on_even = "n = int(input().split()[0])\nwhile n % 2 and n > 100:\n    pass\nprint(n)\n"

    class Parity(LimitedExecutor):
        def execute(self, request: BatchRequest) -> Iterator[Result]:
            for p, i in request.todo():
                text = request.inputs[i]
                n = int((text if isinstance(text, str) else text.decode()).split()[0])
                slow_run = n % 2 == 1 and n > 100
                yield Result(program_index=p, input_index=i, status=Status.TIME_LIMIT if slow_run else Status.OK)

    inputs = ["101 1\n", "200 1\n", "3 1\n"]
    presumed = clean_inputs(Parity(), [Program(fast_on_even)], inputs, Limits(time_s=1.0), 1.0, lambda k: None,
                            SlowCheckers(0.25, presume=True))
    ran = clean_inputs(Parity(), [Program(fast_on_even)], inputs, Limits(time_s=1.0), 1.0, lambda k: None,
                       SlowCheckers(0.25))
    assert ran == [False, True, True] and presumed == [False, False, True]


def test_slow_checkers_carry_over_chunks_and_a_full_share_changes_nothing() -> None:
    slow = SlowCheckers(0.5)
    ex = LimitedExecutor()
    programs = [Program(SLOW)]
    clean_inputs(ex, programs, ["500\n1\n"], Limits(time_s=1.0), 0.5, lambda k: None, slow)
    assert slow.slow == {0}
    ex.runs.clear()
    # The next chunk: the known-slow checker starts at the tighter limit.
    assert clean_inputs(ex, programs, ["600\n1\n", "2\n1 1\n"], Limits(time_s=1.0), 0.5, lambda k: None, slow) == [
        False, True]
    assert {t for _, _, t in ex.runs} == {0.5}
    never = SlowCheckers(1.0)
    clean_inputs(LimitedExecutor(), programs, ["500\n1\n"], Limits(time_s=1.0), 0.5, lambda k: None, never)
    assert never.slow == set()


@pytest.fixture(scope="module")
def executor() -> Iterator[Executor]:
    """The solve's sandbox settings: several tests of a program per child (pipeline.TESTS_PER_CHILD)."""
    with Executor(workers=2, tests_per_child=8) as ex:
        yield ex


def test_slow_checkers_in_the_real_sandbox(executor: Executor) -> None:
    # The real sandbox, several tests per child: a time-out there is reported as such, and the probe, the tight
    # batch and the full batch run one after another on one executor.
    programs = [Program(SLOW), Program(RIGHT)]
    inputs = [f"{n}\n1\n" if n <= 1 else f"{n}\n" + " ".join(["2"] * n) + "\n" for n in (1, 300, 2, 400, 3, 500)]
    limits = Limits(time_s=0.4)
    slow = SlowCheckers(0.25)
    started = time.perf_counter()
    got = clean_inputs(executor, programs, inputs, limits, 1.0, lambda k: None, slow)
    assert got == [True, False, True, False, True, False] and slow.slow == {0}
    # Three time-outs: one at 0.4 s CPU, two at 0.1 s (before: three at 0.4 s). Loose bound: a loaded machine.
    assert time.perf_counter() - started < 20


class SleepingExecutor(BatchExecutor):
    """Runs that cost real time, one after another: a program marked '# slow' times out on every input and costs
    its time limit; the others run (in process) and cost `fast_s` each."""

    def __init__(self, fast_s: float = 0.002) -> None:
        self.fast_s = fast_s
        self.inner = FakeExecutor()

    def execute(self, request: BatchRequest) -> Iterator[Result]:
        for p, i in request.todo():
            if request.programs[p].source.startswith("# slow"):
                time.sleep(request.limits.time_s)
                yield Result(program_index=p, input_index=i, status=Status.TIME_LIMIT, cpu_s=request.limits.time_s)
                continue
            time.sleep(self.fast_s)
            yield from self.inner.execute(replace(request, pairs=((p, i),)))


def test_the_checks_stop_at_the_stage_budget() -> None:
    # Three checkers of four time out on every input and presuming is off, so every input costs three tight
    # time-outs (0.025 s each) and is dropped: about 60 inputs, 4.5 s of checks without a budget.
    survivors = [Program(f"# slow {k}\n" + RIGHT) for k in range(3)] + [Program(RIGHT)]
    limits = Limits(time_s=0.1)
    cfg = TestGenConfig(sources=("mutation", "random"), presume_timeouts=False, stage_budget_s=0.5, budget_chunk=8)
    started = time.perf_counter()
    ti = generate_test_inputs(VIEW, survivors, SleepingExecutor(), limits, cfg, seed=0)
    took = time.perf_counter() - started
    # One chunk at most past the budget: 8 inputs, three tight time-outs each (and some slack for a loaded machine).
    chunk_s = cfg.budget_chunk * 3 * limits.time_s * cfg.slow_check_time_share
    assert took <= 0.5 + chunk_s + 0.3, (took, ti.counts)
    checked = ti.counts["mutation_checked"] + ti.counts["random_checked"]
    assert ti.counts["check_cut_budget"] > 0 and checked + ti.counts["check_cut_budget"] >= 40
    # Nothing kept: an input is cut (not kept) or checked and dropped, never kept unchecked.
    assert ti.inputs == ()


def test_without_a_budget_every_input_is_checked_and_a_fast_problem_is_not_cut() -> None:
    survivors = [Program(RIGHT), Program(RIGHT.replace("max", "max"))]
    cfg = TestGenConfig(sources=("mutation", "random"), stage_budget_s=5.0)
    ti = generate_test_inputs(VIEW, survivors, SleepingExecutor(0.0), Limits(time_s=0.1), cfg, seed=0)
    unbudgeted = generate_test_inputs(VIEW, survivors, SleepingExecutor(0.0), Limits(time_s=0.1),
                                      replace(cfg, stage_budget_s=None), seed=0)
    # Fast programs finish well inside the budget: the same inputs, small chunks or not.
    assert ti.counts["check_cut_budget"] == 0 and ti.inputs == unbudgeted.inputs and len(ti.inputs) > 20


def test_the_pipeline_budgets_the_stage_by_the_sampling_time() -> None:
    from alphagen.pipeline import TESTGEN_STAGE_MIN_S, TESTGEN_STAGE_SHARE, _testgen_budget

    assert _testgen_budget(TestGenConfig(), 44.0).stage_budget_s == pytest.approx(44.0 * TESTGEN_STAGE_SHARE)
    assert _testgen_budget(TestGenConfig(), 1.0).stage_budget_s == TESTGEN_STAGE_MIN_S
    assert _testgen_budget(TestGenConfig(stage_budget_s=300.0), 1.0).stage_budget_s == 300.0
    # The stage budget leaves the model sources' own budget as it was.
    assert _testgen_budget(TestGenConfig(stage_budget_s=300.0), 44.0).model_budget_s == pytest.approx(8.8)
    # A later round of a solve in rounds gets the share of all its sampling less what the earlier rounds spent.
    assert _testgen_budget(TestGenConfig(), 44.0, spent=10.0).stage_budget_s == pytest.approx(44.0 * 0.3 - 10.0)
    assert _testgen_budget(TestGenConfig(), 44.0, spent=99.0).stage_budget_s == 0.0


def test_the_model_sources_get_what_the_checks_left_of_the_stage_budget() -> None:
    # The cheap inputs are checked first; checks that spend the stage budget leave the model sources nothing.
    slow = [Program(f"# slow {k}\n" + RIGHT) for k in range(3)] + [Program(RIGHT)]
    cfg = TestGenConfig(sources=("mutation", "model"), num_model_samples=4, presume_timeouts=False,
                        stage_budget_s=0.2, model_budget_s=5.0)
    sampler = SteppingSampler(["2\n9 3\n"], steps=1)
    ti = generate_test_inputs(VIEW, slow, SleepingExecutor(), Limits(time_s=0.1), cfg, seed=0,
                              sampler=sampler)  # type: ignore[arg-type]  # a scripted stand-in
    assert sampler.decoded == 0 and ti.counts["model_skipped_budget"] == 1 and ti.counts["model_proposed"] == 0
    # Fast checks, but less left of the stage than the model sources' own budget: they do not start either.
    sampler = SteppingSampler(["2\n9 3\n"], steps=1)
    ti = generate_test_inputs(VIEW, [Program(RIGHT)], SleepingExecutor(0.0), Limits(time_s=0.1),
                              replace(cfg, stage_budget_s=3.0), seed=0,
                              sampler=sampler)  # type: ignore[arg-type]  # a scripted stand-in
    assert sampler.decoded == 0 and ti.counts["model_skipped_budget"] == 1 and ti.counts["mutation_valid"] > 0
    # Fast checks leave them their own budget: they sample, and their inputs are checked after the cheap ones.
    sampler = SteppingSampler(["2\n9 3\n"], steps=1)
    ti = generate_test_inputs(VIEW, [Program(RIGHT)], SleepingExecutor(0.0), Limits(time_s=0.1),
                              replace(cfg, stage_budget_s=30.0), seed=0,
                              sampler=sampler)  # type: ignore[arg-type]  # a scripted stand-in
    assert ti.counts["model_proposed"] == 4 and ti.counts["model_valid"] >= 1
    assert ti.sources[-1] == "model" and ti.sources[0] == "mutation"


def test_a_model_memo_draws_the_model_inputs_once_for_a_solves_rounds() -> None:
    from alphagen.run_memo import RunMemo
    from alphagen.testgen import ModelMemo

    # Two rounds of one solve: the second has one survivor more, the same prompts and seed. With a memo its model
    # inputs are the first round's, drawn once; the survivors' runs on repeated inputs come from the run memo.
    cfg = TestGenConfig(sources=("mutation", "model"), num_model_samples=4, model_budget_s=30.0,
                        stage_budget_s=60.0)
    sampler = FakeSampler(["2\n9 3\n", "3\n1 2 3\n"], [])
    memo, inner = ModelMemo(), FakeExecutor()
    runs = RunMemo(inner)
    first = generate_test_inputs(VIEW, [Program(RIGHT)], runs, Limits(), cfg, seed=0, sampler=sampler,  # type: ignore[arg-type]
                                 model_memo=memo)
    drawn, ran = len(sampler.prompts), inner.runs
    assert drawn > 0 and first.counts["model_proposed"] == 4
    other = Program(RIGHT + "\n")
    second = generate_test_inputs(VIEW, [Program(RIGHT), other], runs, Limits(), cfg, seed=0,
                                  sampler=sampler, model_memo=memo)  # type: ignore[arg-type]
    assert len(sampler.prompts) == drawn  # no prompt sampled again
    assert second.counts["model_reused"] == 1 and second.counts["model_ms"] == 0
    assert second.counts["model_proposed"] == first.counts["model_proposed"]
    # Without the memos the second round samples again and runs both survivors on everything; with them the
    # first survivor's checks are read back.
    fresh = FakeExecutor()
    alone = generate_test_inputs(VIEW, [Program(RIGHT), other], fresh, Limits(), cfg, seed=0,
                                 sampler=sampler)  # type: ignore[arg-type]
    assert len(sampler.prompts) > drawn and alone.inputs == second.inputs
    assert inner.runs - ran < fresh.runs


def test_a_model_memo_keeps_nothing_from_a_round_the_budget_kept_off() -> None:
    from alphagen.testgen import ModelMemo
    from alphagen.testgen.sources import GeneratorLog, Proposals

    memo = ModelMemo()
    memo.keep({Source.MODEL: Proposals(Source.MODEL, skipped_budget=True)}, GeneratorLog())
    assert memo.reused() is None
    memo.keep({Source.MODEL: Proposals(Source.MODEL, texts=["2\n9 3\n"], cut_budget=True)}, GeneratorLog())
    reused = memo.reused()
    assert reused is not None and reused[Source.MODEL].texts == ["2\n9 3\n"] and reused[Source.MODEL].ms == 0
