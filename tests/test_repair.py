"""The repair stage with a scripted model: real prompts, real sandbox, real clustering; only the sampler is a stand-in.

The sampler "writes" fresh programs from a fixed pool and answers a repair prompt with the fix scripted for the
program the prompt shows, so what is checked is the stage itself: the fix of a known failure is drawn, filtered,
joins the pool with its lineage and is picked; the budget; the prompt; resume mid-repair in bench; `solve --json`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from alphagen import feedback, repair
from alphagen.draws import Budget, DrawKind, DrawStep, next_step, round_budget
from alphagen.evaluation.metrics import CandidateOutcome, n_at_k, with_lineage
from alphagen.evaluation.runner import BenchConfig, run_bench
from alphagen.evaluation.store import RunStore, read_jsonl
from alphagen.evaluation.verdicts import executor_judge
from alphagen.pipeline import Models, SolveConfig, solve
from alphagen.problems.model import HiddenTests, Problem, Test
from alphagen.results import Candidate
from alphagen.sampling import Completion, PromptRequest, SamplingParams
from alphagen.sampling.params import sample_offsets
from alphagen.statuses import TestStatus
from alphagen.testgen import TestGenConfig
from sandbox import Executor

CORRECT = "n = int(input())\na = list(map(int, input().split()))\nprint(max(a))\n"
WRONG_MIN = "input()\nprint(min(map(int, input().split())))\n"  # prints 1 on the first example (wants 9)
SUM_BUG = "input()\nprint(sum(map(int, input().split())))\n"
CRASH = "import sys\nsys.stderr.write('boom at line 1\\n')\nraise SystemExit(3)\n"
BROKEN = "def f(:\n"
LAST = "input()\nprint(input().split()[-1])\n"  # passes both examples, wrong on hidden tests

# What the scripted model answers when a repair prompt shows this program (others: the same program again).
FIXES = {WRONG_MIN: CORRECT, SUM_BUG: "input()\nprint(len(input().split()))\n"}


class ScriptedModel:
    """Fresh prompts draw from `pool` by sample index; a repair prompt draws the scripted fix of the program it
    shows. Sample indices follow the requests' first_index, as every real backend's do."""

    def __init__(self, pool: Sequence[str], stop_on_call: int | None = None) -> None:
        self.pool = pool
        self.requests: list[PromptRequest] = []
        self.calls = 0
        self.stop_on_call = stop_on_call
        self.drawn: list[int] = []

    def sample(self, requests: Sequence[PromptRequest], params: SamplingParams,
               progress: Callable[[int], None] | None = None) -> Iterator[Completion]:
        self.calls += 1
        if self.stop_on_call is not None and self.calls == self.stop_on_call:
            raise KeyboardInterrupt  # a kill in the middle of this sampling call
        out = []
        for ri, (req, first) in enumerate(zip(requests, sample_offsets(list(requests)), strict=True)):
            self.requests.append(req)
            for k in range(req.count):
                if "Find the bug" in req.prompt:
                    shown = req.prompt.rsplit("```python\n", 2)[1].split("```")[0]
                    parent = next((p for p in FIXES if p.rstrip() == shown.rstrip()), shown)
                    text = FIXES.get(parent, shown.rstrip() + "\n")
                else:
                    text = self.pool[(first + k) % len(self.pool)]
                out.append(Completion(request_index=ri, sample_index=first + k, text=text, num_tokens=10,
                                      finish_reason="stop"))
        random.Random(params.seed).shuffle(out)  # out of order, like a batching sampler
        for c in out:
            self.drawn.append(c.sample_index)
            if progress:
                progress(1)
            yield c


class Tok:
    chat_template = None


def models(sampler: Any) -> Models:
    lm = SimpleNamespace(tokenizer=Tok(), name="scripted", device="cpu")
    return Models(code=lm, sampler=sampler, test=None, test_sampler=None)  # type: ignore[arg-type]


def make_problem(name: str = "max-of-list") -> Problem:
    return Problem(
        name=name,
        description="Given n (1 <= n <= 100) and n integers a_i (-1000 <= a_i <= 1000), print the maximum.",
        public_tests=(Test("3\n1 2 9\n", "9\n"), Test("2\n-5 4\n", "4\n")),
        private_tests=HiddenTests((Test("1\n-7\n", "-7\n"), Test("3\n9 1 2\n", "9\n"))),
    )


TG = TestGenConfig(sources=("mutation",), num_mutations=10, max_inputs=10)
FAILING = [WRONG_MIN, SUM_BUG, CRASH, BROKEN]


def test_the_fix_of_a_known_failure_is_drawn_accepted_and_picked(executor: Executor) -> None:
    sampler = ScriptedModel(FAILING)
    cfg = SolveConfig(n=8, seed=3, repair_share=0.5, testgen=TG)
    result = solve(make_problem(), cfg, models=models(sampler), executor=executor)

    # Budget: -n model samples in all, half of them fresh (indices 0..3), the repairs numbered after n.
    assert len(result.candidates) == 8 == len(sampler.drawn) == len(set(sampler.drawn))
    fresh = [c for c in result.candidates if c.parent is None]
    fixes = [c for c in result.candidates if c.parent is not None]
    assert [c.index for c in fresh] == [0, 1, 2, 3] and not any(c.passed_examples for c in fresh)
    assert [c.index for c in fixes] == [8, 9, 10, 11]
    # Round 1 repairs the two wrong answers (they ran to the end); round 2 the fix that is still a wrong answer
    # (a repair of a repair), then the crash before the syntax error.
    by_index = {c.index: c for c in result.candidates}
    assert [(c.parent, c.repair_round) for c in fixes] == [(0, 1), (1, 1), (9, 2), (2, 2)]
    assert [by_index[i].code for i in (0, 1, 2)] == [WRONG_MIN, SUM_BUG, CRASH]
    fix = by_index[8]
    assert fix.code == CORRECT and fix.passed_examples and fix.duplicate_of is None
    # Unchanged "fixes" are duplicates of their parent and inherit its verdict.
    assert by_index[11].duplicate_of == 2 and by_index[11].example_status == "runtime_error"
    assert by_index[10].duplicate_of == 9 and by_index[9].example_status == "wrong_answer"
    # The fix is the only survivor: picked first, with its lineage.
    assert result.picks and result.picks[0].candidate == 8
    assert result.stats["repairs"] == 4 and result.stats["fresh"] == 4
    assert [s.name for s in result.stages] == ["sample", "dedup", "filter", "repair", "testgen", "cluster", "limits"]


def test_the_repair_prompt_shows_the_failing_example(executor: Executor) -> None:
    sampler = ScriptedModel(FAILING)
    solve(make_problem(), SolveConfig(n=8, seed=3, repair_share=0.5, testgen=TG), models=models(sampler),
          executor=executor)
    prompts = [r.prompt for r in sampler.requests if "Find the bug" in r.prompt]
    wrong = next(p for p in prompts if WRONG_MIN.strip() in p)
    tail = wrong.split(WRONG_MIN.strip(), 1)[1]
    assert "gives a wrong answer on example 1" in tail
    assert "Input:\n3\n1 2 9\nExpected output:\n9\nYour output:\n1\n" in tail
    crash = next(p for p in prompts if "boom" in p)
    assert "crashes with a runtime error on example 1" in crash and "boom at line 1" in crash.split("stderr")[1]
    only_broken = ScriptedModel([BROKEN])
    solve(make_problem(), SolveConfig(n=2, seed=3, repair_share=0.5, testgen=TG), models=models(only_broken),
          executor=executor)
    (broken,) = [r.prompt for r in only_broken.requests if "Find the bug" in r.prompt]
    assert "does not compile" in broken and "SyntaxError" in broken and "(line 1)" in broken
    # The statement comes first, as in a fresh prompt; the hidden tests never reach a prompt.
    assert all(p.index("print the maximum") < p.index("Find the bug") for p in prompts)
    assert all("-7" not in p for p in prompts)


def test_time_limit_and_long_outputs_are_told_short() -> None:
    view = make_problem().public_view()
    tle = Candidate(index=0, language="python", code="while True: pass\n", example_status="time_limit",
                    failed_example=1)
    msg = repair.failure_message(view, tle, 2.0)
    assert "exceeds the time limit (2 s) on example 2" in msg and "time limit exceeded" in msg
    long = "\n".join(str(i) for i in range(100)) + "\n"
    out = feedback.feedback_text(TestStatus.WRONG_ANSWER, long.encode(), b"", "")
    assert out.count("\n") <= feedback.MAX_LINES + 1 and out.endswith("(cut)")
    err = feedback.feedback_text(TestStatus.RUNTIME_ERROR, b"", ("x" * 5000 + "\nValueError: bad").encode(), "")
    assert len(err) <= feedback.MAX_CHARS + 20 and err.endswith("ValueError: bad")


def test_budget_split_and_rounds() -> None:
    def split(n: int, share: float) -> tuple[int, int]:
        b = Budget.split(n, share)
        return b.fresh, b.repair

    assert split(16, 0.0) == (16, 0)
    assert split(16, 0.5) == (8, 8)
    assert split(32, 0.25) == (24, 8)
    assert split(1, 0.9) == (1, 0)  # something must be drawn fresh before it can fail
    assert Budget.of(SolveConfig(n=16, repair_share=0.25, repair_rounds=3)) == Budget(16, 12, 4, 3)
    with pytest.raises(ValueError, match=r"repair share must be in \[0, 1\), got 1.0"):
        Budget.split(8, 1.0)
    with pytest.raises(ValueError, match=r"repair share must be in \[0, 1\), got -0.1"):
        SolveConfig(repair_share=-0.1)
    assert [round_budget(8, 1, 2), round_budget(4, 2, 2)] == [4, 4]
    assert [round_budget(7, 1, 3), round_budget(4, 2, 3), round_budget(2, 3, 3)] == [3, 2, 2]


def test_draw_steps_fresh_then_rounds_then_topup() -> None:
    budget = Budget.split(16, 0.5, rounds=2)
    fail = [Candidate(index=i, language="python", code=f"print({i})\n", example_status="wrong_answer",
                      feedback=str(i)) for i in range(3)]
    first = next_step(budget, [], lambda: [], ["9"])
    assert first == DrawStep(DrawKind.FRESH, start=0, count=8) and first.name == "fresh"
    # Round 1 takes half of the 8 repairs (3 parents share 4 fixes, the most promising first), numbered after n.
    r1 = next_step(budget, [first], lambda: fail, ["9"])
    assert r1 is not None and (r1.kind, r1.name, r1.start, r1.count) == (DrawKind.REPAIR, "repair-1", 16, 4)
    assert sorted(k for _, k in r1.parents) == [1, 1, 2]
    # Every failure was repaired once: nothing left to repair, so the rest is the fresh samples 8..11 (a top-up).
    top = next_step(budget, [first, r1], lambda: fail, ["9"])
    assert top == DrawStep(DrawKind.TOPUP, start=8, count=4) and top.name == "topup"
    assert next_step(budget, [first, r1, top], lambda: fail, ["9"]) is None
    # Without a repair share the fresh step is the only one, and the pool is never asked for.
    alone = Budget.split(16, 0.0)
    assert next_step(alone, [DrawStep(DrawKind.FRESH, 0, 16)], lambda: pytest.fail("asked"), []) is None
    with pytest.raises(ValueError, match="only a repair step has parents"):
        DrawStep(DrawKind.REPAIR, start=16, count=1)
    with pytest.raises(ValueError, match="parents must share its 2 samples"):
        DrawStep(DrawKind.REPAIR, start=16, count=2, round_no=1, parents=((fail[0], 1),))


def test_parent_order_prefers_near_misses() -> None:
    def cand(i: int, status: str, passed: int = 0, out: str = "", tokens: int = 10) -> Candidate:
        return Candidate(index=i, language="python", code=f"print({i})\n", example_status=status,
                         examples_passed=passed, failed_example=passed, feedback=out,
                         meta={"num_tokens": tokens, "finish_reason": "stop"})

    expected = ["9\n", "4\n", "12345\n"]
    pool = [cand(0, "compile_error"), cand(1, "runtime_error"), cand(2, "wrong_answer", out="1\n"),
            cand(3, "wrong_answer", passed=2, out="12340\n"), cand(4, "time_limit"),
            cand(5, "wrong_answer", out="9 9\n"), cand(6, "ok"), cand(7, "wrong_answer", out="1\n", tokens=5)]
    order = [c.index for c, _ in repair.choose_parents(pool, used=(), budget=7, expected=expected)]
    # Most examples passed first, then wrong answers by closeness (then fewer tokens), crash, limit, compile.
    assert order == [3, 5, 7, 2, 1, 4, 0]
    # Fewer failures than samples: all of them, the budget shared out best first; used parents are skipped.
    shared = [(c.index, k) for c, k in repair.choose_parents(pool, used={3, 5, 7, 2, 1}, budget=5,
                                                              expected=expected)]
    assert shared == [(4, 3), (0, 2)]
    assert repair.choose_parents([cand(6, "ok")], used=(), budget=4, expected=expected) == []


def test_nothing_to_repair_tops_up_with_the_fresh_samples_of_a_run_without_repairs(executor: Executor) -> None:
    pool = [CORRECT, LAST, CORRECT, LAST, CORRECT]
    plain = solve(make_problem(), SolveConfig(n=10, seed=1, testgen=TG), models=models(ScriptedModel(pool)),
                  executor=executor)
    sampler = ScriptedModel(pool)
    repaired = solve(make_problem(), SolveConfig(n=10, seed=1, repair_share=0.5, testgen=TG),
                     models=models(sampler), executor=executor)
    # Every fresh sample passed: the repair budget went to the samples 5..9 a run without repairs draws.
    assert [(c.index, c.code, c.parent) for c in repaired.candidates] == \
        [(c.index, c.code, c.parent) for c in plain.candidates]
    # Samples 5-7 finish the first prompt group, 8-9 start the second: its own metadata draw, as without repairs.
    assert [(r.first_index, r.count) for r in sampler.requests] == [(None, 5), (5, 3), (8, 2)]
    assert [(p.candidate, p.cluster_id) for p in repaired.picks] == [(p.candidate, p.cluster_id)
                                                                     for p in plain.picks]


def test_fresh_samples_are_the_first_ones_of_a_run_without_repairs(executor: Executor) -> None:
    pool = [WRONG_MIN, CORRECT, SUM_BUG, LAST, CRASH, CORRECT, BROKEN]
    plain = solve(make_problem(), SolveConfig(n=12, seed=4, testgen=TG), models=models(ScriptedModel(pool)),
                  executor=executor)
    a = solve(make_problem(), SolveConfig(n=12, seed=4, repair_share=0.5, testgen=TG),
              models=models(ScriptedModel(pool)), executor=executor)
    b = solve(make_problem(), SolveConfig(n=12, seed=4, repair_share=0.5, testgen=TG),
              models=models(ScriptedModel(pool)), executor=executor)
    fresh = [(c.index, c.code) for c in a.candidates if c.parent is None]
    assert fresh == [(c.index, c.code) for c in plain.candidates[:6]]
    assert len(a.candidates) == 12 and sum(c.parent is not None for c in a.candidates) == 6
    # Same seed, same result.
    assert [(c.index, c.code, c.parent, c.repair_round) for c in a.candidates] == \
        [(c.index, c.code, c.parent, c.repair_round) for c in b.candidates]
    assert [(p.candidate, p.cluster_id) for p in a.picks] == [(p.candidate, p.cluster_id) for p in b.picks]


def test_n_at_k_keeps_a_repair_only_with_its_parent() -> None:
    def out(i: int, parent: int | None, correct: bool = False) -> CandidateOutcome:
        return CandidateOutcome(index=i, root=i, passed_examples=correct, signature="s" if correct else None,
                                cpu_s=0.0, correct=correct, code=f"c{i}", parent=parent)

    # Fresh 0, 1 fail; 4 repairs 0 (round 1), 5 repairs 4 (round 2) and is correct; 6 repairs 1.
    outcomes = [out(0, None), out(1, None), out(4, 0), out(5, 4, correct=True), out(6, 1)]
    assert [o.index for o in with_lineage([outcomes[i] for i in (1, 3, 4)])] == [1, 6]
    assert [o.index for o in with_lineage(outcomes)] == [0, 1, 4, 5, 6]

    def select(cands: Sequence[Candidate], k: int) -> list[Any]:
        return [SimpleNamespace(candidate=c.index) for c in cands if c.passed_examples][:k]

    # Only subsets holding 0, 4 and 5 can solve it: C(2,2) of the C(5,3) = 10 three-subsets.
    assert n_at_k(outcomes, 3, select, draws=100) == pytest.approx(1 / 10)
    assert n_at_k(outcomes, 5, select) == 1.0


# -- bench: resume mid-repair, lineage in the stored results ------------------------------------------------


def _bench(run: Path, sampler: ScriptedModel, executor: Executor, resume: bool) -> dict[str, dict[str, Any]]:
    cfg = BenchConfig(SolveConfig(n=8, seed=5, repair_share=0.5, testgen=TG), draws=20)

    def solve_fn(problem: Problem, c: BenchConfig, seed: int, checkpoint: Any = None) -> Any:
        return solve(problem, c.solve, models=models(sampler), executor=executor, checkpoint=checkpoint)

    problems = [make_problem("p0"), make_problem("p1"), make_problem("p2")]
    with RunStore(run, cfg.to_dict(), resume, tuple(cfg.to_dict())) as store:
        return run_bench(problems, [], cfg, store, solve_fn, executor_judge(executor))


def _records(records: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {f: v for f, v in r.items() if f != "timing"} for k, r in records.items()}


def test_bench_killed_mid_repair_resumes_without_losing_or_repeating_samples(
    tmp_path: Path, executor: Executor
) -> None:
    whole = _bench(tmp_path / "whole", ScriptedModel(FAILING), executor, resume=False)
    # Sampling calls per problem: fresh, round 1, round 2. Kill the run in p1's second repair round (call 6).
    killed = ScriptedModel(FAILING, stop_on_call=6)
    with pytest.raises(KeyboardInterrupt):
        _bench(tmp_path / "run", killed, executor, resume=False)
    events = read_jsonl(tmp_path / "run" / "problems" / "p1.jsonl")
    assert [e["event"] for e in events] == ["start", "pool", "pool"]
    resumed_sampler = ScriptedModel(FAILING)
    resumed = _bench(tmp_path / "run", resumed_sampler, executor, resume=True)
    assert _records(resumed) == _records(whole)
    # The resumed run drew p1's second round only (2 samples), then p2 whole (8): nothing drawn twice.
    assert len(resumed_sampler.drawn) == 2 + 8
    assert resumed["p1"]["n"] == 8 and resumed["p1"]["repairs"] == 4
    for name in ("p0", "p1", "p2"):
        samples = [e for e in read_jsonl(tmp_path / "run" / "problems" / f"{name}.jsonl")
                   if e["event"] == "samples"]
        (only,) = samples
        indices = [c["index"] for c in only["result"]["candidates"]]
        assert len(indices) == len(set(indices)) == 8
        # Lineage is stored with every candidate, and each pick says where it came from.
        assert {c["index"]: c["parent"] for c in only["result"]["candidates"]}[8] == 0
    pick = resumed["p1"]["picks"][0]
    assert pick["candidate"] == 8 and pick["lineage"] == [8, 0] and pick["repair_round"] == 1 and pick["passed"]
    assert resumed["p1"]["solved"]


def test_solve_json_carries_the_lineage(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from alphagen.cli import main

    sampler = ScriptedModel(FAILING)
    monkeypatch.setattr(Models, "load", classmethod(lambda cls, *a, **k: models(sampler)))
    problem = make_problem()
    path = tmp_path / "p.json"
    path.write_text(json.dumps({
        "name": problem.name, "description": problem.description,
        "public_tests": [{"input": t.input, "output": t.output} for t in problem.public_tests],
        "private_tests": [{"input": t.input, "output": t.output} for t in problem.hidden_tests()],
    }))
    res = CliRunner().invoke(main, ["solve", str(path), "-n", "8", "--seed", "3", "--repair-share", "0.5",
                                    "--test-sources", "mutation", "--workers", "1", "--json"])
    assert res.exit_code == 0, res.output
    picks = [json.loads(line) for line in res.stdout.splitlines()]
    assert picks[0]["code"] == CORRECT
    assert picks[0]["lineage"] == [picks[0]["candidate"], 0] and picks[0]["repair_round"] == 1
    assert picks[0]["stats"]["repairs"] == 4 and picks[0]["stats"]["sampled"] == 8
    bad = CliRunner().invoke(main, ["solve", str(path), "--repair-share", "1"])
    assert bad.exit_code == 2 and "repair share must be in [0, 1), got 1" in bad.output


def test_ray_shards_keep_a_requests_own_first_index() -> None:
    from alphagen.distributed.sampler import SamplerWorker

    worker = object.__new__(SamplerWorker)
    worker.sampler = ScriptedModel(POOL_FOR_SHARDS)  # type: ignore[assignment]
    params = SamplingParams(seed=1)
    # A repair request numbered from 20: the shard starts there, and its samples keep 20, 21 (not 40, 41).
    got = worker.sample_shard([PromptRequest("p", 2, first_index=20)], 20, params)
    assert sorted(c.sample_index for c in got) == [20, 21]
    # A fresh request without first_index is numbered by the shard's start, as before.
    got = worker.sample_shard([PromptRequest("p", 2)], 8, params)
    assert sorted(c.sample_index for c in got) == [8, 9]


POOL_FOR_SHARDS = ["print(1)\n"]
