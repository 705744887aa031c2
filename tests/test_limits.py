"""Right but too slow (#29): survivors run at the stated limits are marked, picked after the rest, and sped up.

A 762A-like problem (k-th smallest divisor of n, n up to 10^15): a brute force that loops to n passes every
example and times out at the limits. A scripted model writes brute forces for fresh prompts and the O(sqrt n)
program when a prompt asks for an asymptotically faster one; the sandbox, the filter, the limit probe and
clustering are real.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from alphagen import limits
from alphagen.config import Models, SolveConfig
from alphagen.draws import Budget
from alphagen.pipeline import solve
from alphagen.problems.harness import ProblemHarness
from alphagen.problems.model import HiddenTests, Problem, Test
from alphagen.results import Candidate
from alphagen.sampling import Completion, PromptRequest, SamplingParams
from alphagen.sampling.params import sample_offsets
from alphagen.testgen import TestGenConfig
from sandbox import BatchExecutor, Executor
from sandbox.interface import BatchRequest

BRUTE = (
    "n, k = map(int, input().split())\nd = [i for i in range(1, n + 1) if n % i == 0]\n"
    "print(d[k - 1] if k <= len(d) else -1)\n"
)
BRUTE2 = (
    "n, k = map(int, input().split())\nc = 0\nfor i in range(1, n + 1):\n    if n % i == 0:\n        c += 1\n"
    "        if c == k:\n            print(i)\n            break\nelse:\n    print(-1)\n"
)
FAST = (
    "n, k = map(int, input().split())\nsmall, large = [], []\ni = 1\nwhile i * i <= n:\n    if n % i == 0:\n"
    "        small.append(i)\n        if i * i != n:\n            large.append(n // i)\n    i += 1\n"
    "d = small + large[::-1]\nprint(d[k - 1] if k <= len(d) else -1)\n"
)
PROBLEM = Problem(
    name="kth-divisor",
    description=(
        "You are given two integers n and k. Find the k-th smallest divisor of n, or print -1.\n\nInput\n\n"
        # n's bound is 10^10, not 762A's 10^15: the O(sqrt n) program below is Python, and at 10^15 it needs
        # 3 * 10^7 steps (it finished in time only while the limit inputs took k's bound for n, #29).
        "The first line contains two integers n and k (1 <= n <= 10^10, 1 <= k <= 10^9).\n"
    ),
    public_tests=(Test("4 2\n", "2\n"), Test("5 3\n", "-1\n"), Test("12 5\n", "6\n")),
    private_tests=HiddenTests((Test("999999999999989 2\n", "999999999999989\n"),)),
    time_limit_s=0.5,
)
TG = TestGenConfig(sources=("mutation",), num_mutations=6, max_inputs=6)


class Scripted:
    """Fresh prompts draw from `pool` by sample index; a speed-up prompt gets FAST."""

    def __init__(self, pool: Sequence[str]) -> None:
        self.pool = pool
        self.prompts: list[str] = []

    def sample(self, requests: Sequence[PromptRequest], params: SamplingParams,
               progress: Callable[[int], None] | None = None) -> Iterator[Completion]:
        out = []
        for ri, (req, first) in enumerate(zip(requests, sample_offsets(list(requests)), strict=True)):
            self.prompts.append(req.prompt)
            for k in range(req.count):
                text = FAST if "asymptotically faster" in req.prompt else self.pool[(first + k) % len(self.pool)]
                out.append(Completion(request_index=ri, sample_index=first + k, text=f"```python\n{text}```",
                                      num_tokens=10, finish_reason="stop"))
        random.Random(params.seed).shuffle(out)
        for c in out:
            if progress:
                progress(1)
            yield c


def models(sampler: Any) -> Models:
    lm = SimpleNamespace(tokenizer=SimpleNamespace(chat_template=None), name="scripted", device="cpu")
    return Models(code=lm, sampler=sampler, test=None, test_sampler=None)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def executor() -> Iterator[Executor]:
    with Executor(workers=2) as ex:
        yield ex


def test_limit_inputs_sit_at_the_stated_maxima() -> None:
    inputs = limits.limit_inputs(PROBLEM.public_view(), seed=0)
    assert inputs
    for text in inputs:
        n, k = map(int, text.split())
        assert n >= 10**8  # far beyond what a loop to n finishes in 0.5 s
        # Each value within its own stated range (the two were swapped, #29: every value seen fits both).
        assert 1 <= n <= 10**10 and 1 <= k <= 10**9


def test_the_probe_marks_the_slow_survivor_only(executor: Executor) -> None:
    harness = ProblemHarness.of(PROBLEM)
    survivors = [Candidate(0, "python", BRUTE, passed_examples=True),
                 Candidate(1, "python", FAST, passed_examples=True)]
    marks = limits.probe(harness, survivors, limits.limit_inputs(PROBLEM.public_view(), 0), executor)
    assert set(marks) == {0} and marks[0].status == "time_limit"


class Recording(BatchExecutor):
    """Runs on `inner`, recording the source of every program it is asked to run."""

    def __init__(self, inner: BatchExecutor) -> None:
        self.inner = inner
        self.sources: list[str] = []

    def execute(self, request: BatchRequest) -> Iterator[Any]:
        self.sources += [p.source for p in request.programs]
        return self.inner.execute(request)


def test_a_survivor_outrun_on_a_generated_input_is_marked_without_probing(executor: Executor) -> None:
    from alphagen.run_memo import RunMemo

    harness = ProblemHarness.of(PROBLEM)
    recording = Recording(executor)
    memo = RunMemo(recording)
    # The test-input checks ran both on a large generated input: BRUTE timed out where FAST answered in time.
    big = "9999999967 3\n"
    fast, brute = harness.program(FAST, "python"), harness.program(BRUTE, "python")
    list(memo.run_batch([fast, brute], [big], harness.limits))
    assert memo.outrun_on(brute, harness.limits) == big.encode()
    survivors = [Candidate(0, "python", BRUTE, passed_examples=True),
                 Candidate(1, "python", FAST, passed_examples=True)]
    recording.sources.clear()
    marks = limits.probe(harness, survivors, limits.limit_inputs(PROBLEM.public_view(), 0), memo)
    # BRUTE is marked from that run without running again (a whole time limit saved); only FAST ran the limit
    # inputs, in time.
    assert set(marks) == {0} and marks[0].status == "time_limit"
    assert "another program ran in time" in limits.feedback_text(marks[0]) and marks[0].head == big
    assert recording.sources == [fast.source]


def test_the_probe_remembers_what_it_settled_for_a_later_round(executor: Executor) -> None:
    harness = ProblemHarness.of(PROBLEM)
    inputs = limits.limit_inputs(PROBLEM.public_view(), 0)
    survivors = [Candidate(0, "python", BRUTE, passed_examples=True),
                 Candidate(1, "python", FAST, passed_examples=True)]
    known: limits.Probed = {}
    counting = Recording(executor)
    first = limits.probe(harness, survivors, inputs, counting, known=known)
    assert set(first) == {0} and len(known) == 2 and known[harness.program(FAST, "python")] is None
    # The next round's pool: the same two (renumbered) and a new brute force. Only the new one runs.
    counting.sources.clear()
    later = [Candidate(5, "python", BRUTE, passed_examples=True), Candidate(6, "python", FAST, passed_examples=True),
             Candidate(7, "python", BRUTE2, passed_examples=True)]
    again = limits.probe(harness, later, inputs, counting, known=known)
    assert set(again) == {5, 7} and again[5] == first[0] and counting.sources == [BRUTE2]


def test_slow_clusters_are_picked_after_fast_ones(executor: Executor) -> None:
    # Three brute forces (two clusters' worth of votes) and one fast program: without the probe a brute force
    # leads; with it the fast program does.
    pool = [BRUTE, BRUTE2, BRUTE, FAST]
    plain = solve(PROBLEM, SolveConfig(n=4, seed=1, testgen=TG, limit_probe=False), models=models(Scripted(pool)),
                  executor=executor)
    probed = solve(PROBLEM, SolveConfig(n=4, seed=1, testgen=TG, limit_probe=True), models=models(Scripted(pool)),
                   executor=executor)
    by_index = {c.index: c for c in probed.candidates}
    assert by_index[probed.picks[0].candidate].code.strip() == FAST.strip()
    assert by_index[plain.picks[0].candidate].code.strip() != FAST.strip()
    assert {by_index[i].limit_status for i in (0, 1)} == {"time_limit"}
    assert "limits" in [s.name for s in probed.stages]


def test_the_speedup_step_turns_a_slow_right_answer_into_a_fast_one(executor: Executor) -> None:
    sampler = Scripted([BRUTE, BRUTE2])
    cfg = SolveConfig(n=4, seed=2, testgen=TG, limit_probe=True, speedup_share=0.5)
    assert Budget.of(cfg).speedup == 2 and Budget.of(cfg).fresh == 2
    result = solve(PROBLEM, cfg, models=models(sampler), executor=executor)
    speedups = [p for p in sampler.prompts if "asymptotically faster" in p]
    # The two brute forces behave alike (one cluster): one prompt, both speed-ups, showing the input it timed
    # out on and the program.
    assert len(speedups) == 1 and "exceeds the time limit (0.5 s) on an input of" in speedups[0]
    assert "range(1, n + 1)" in speedups[0]
    by_index = {c.index: c for c in result.candidates}
    first = by_index[result.picks[0].candidate]
    assert first.code.strip() == FAST.strip() and first.parent in (0, 1) and not first.limit_status
    assert [s.name for s in result.stages][-2:] == ["limits", "speedup"]
    # -n stays the number of model samples: 2 fresh + 2 speed-ups.
    assert len(result.candidates) == 4


def test_nothing_slow_spends_the_speedup_share_on_fresh_samples(executor: Executor) -> None:
    sampler = Scripted([FAST])
    cfg = SolveConfig(n=4, seed=2, testgen=TG, limit_probe=True, speedup_share=0.5)
    result = solve(PROBLEM, cfg, models=models(sampler), executor=executor)
    assert not any("asymptotically faster" in p for p in sampler.prompts)
    assert sorted(c.index for c in result.candidates) == [0, 1, 2, 3]


def test_config_refuses_a_speedup_share_without_the_probe() -> None:
    with pytest.raises(ValueError, match="speedup share needs the limit probe"):
        SolveConfig(limit_probe=False, speedup_share=0.25)
    with pytest.raises(ValueError, match="speedup share must be in"):
        SolveConfig(limit_probe=True, repair_share=0.5, speedup_share=0.5)


def test_the_probe_goes_in_rank_order_and_stops_at_its_budget() -> None:
    from alphagen.limits import PROBE_CHUNK, probe

    calls: list[int] = []

    class Slow:
        """Every program times out on the first input; each batch takes 0.2 s."""

        def run_batch(self, programs: list[Any], inputs: list[str], limits: Any, **kw: Any) -> list[Any]:
            import time

            from sandbox import Status

            calls.append(len(programs))
            time.sleep(0.2)
            return [SimpleNamespace(status=Status.TIME_LIMIT, program_index=p, input_index=0)
                    for p in range(len(programs))]

    harness = ProblemHarness.of(PROBLEM)
    survivors = [Candidate(index=i, language="python", code=BRUTE, passed_examples=True) for i in range(6)]
    everything = probe(harness, survivors, ["1 1\n"], Slow())  # type: ignore[arg-type]
    assert sorted(everything) == list(range(6)) and calls == [PROBE_CHUNK] * 3
    calls.clear()
    # A budget spent by the first chunk: only it runs (the programs the picks put first), the rest stay unmarked.
    first = probe(harness, survivors, ["1 1\n"], Slow(), budget_s=0.1)  # type: ignore[arg-type]
    assert sorted(first) == list(range(PROBE_CHUNK)) and calls == [PROBE_CHUNK]
    calls.clear()
    # No chunk starts that the time left cannot cover: with 0.5 s and chunks of 0.2 s, a third chunk would start at
    # 0.4 s and end past the budget (the overrun that took primes-in-range's probe to 26.5% of its solve).
    two = probe(harness, survivors, ["1 1\n"], Slow(), budget_s=0.5)  # type: ignore[arg-type]
    assert sorted(two) == list(range(2 * PROBE_CHUNK)) and calls == [PROBE_CHUNK] * 2
    calls.clear()

    class Wide(Slow):
        workers = 5

        def execute(self, request: Any) -> list[Any]:
            return self.run_batch(request.programs, request.inputs, request.limits)

    # An executor with more workers gets one survivor per worker a batch (a wide host is not left idle), and a
    # memo in front of it says the same width.
    from alphagen.run_memo import RunMemo

    assert sorted(probe(harness, survivors, ["1 1\n"], RunMemo(Wide()))) == list(range(6))  # type: ignore[arg-type]
    assert calls == [5, 1]
