"""Sampling windows: several problems' fresh samples drawn in one sampler call, each problem then solved from its
stored step; in the bench runner, windows are fixed slices of the problem list, so a resumed run draws the same ones.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_bench_fakes import fake_judge, fake_problems, fake_solve
from test_pipeline import POOL, Tok, make_problem, models

from alphagen.cli import main
from alphagen.clustering import select
from alphagen.draw_runner import StageLog, repairs_together, sample_together
from alphagen.draws import plan_sampling
from alphagen.evaluation.runner import BenchConfig, run_bench
from alphagen.evaluation.store import RunStore
from alphagen.pipeline import SolveConfig, solve
from alphagen.problems.harness import ProblemHarness
from alphagen.problems.model import Problem
from alphagen.results import Candidate, PoolStage
from alphagen.sample_filter import draw_and_filter, draw_and_filter_many
from alphagen.sampling import Completion, PromptRequest, SamplingParams
from alphagen.sampling.params import sample_offsets
from alphagen.testgen import TestGenConfig
from sandbox import Executor

ROOT = Path(__file__).resolve().parents[1]


class KeyedSampler:
    """Sample i of a prompt is always the same program, whatever else the call holds (a batch-invariant model):
    pool[(crc(prompt) + i) % len(pool)]. Honours first_index, yields out of order, records each call."""

    def __init__(self, pool: Sequence[str]) -> None:
        self.pool = pool
        self.calls: list[list[PromptRequest]] = []

    def sample(self, requests: Sequence[PromptRequest], params: SamplingParams,
               progress: Callable[[int], None] | None = None) -> Iterator[Completion]:
        self.calls.append(list(requests))
        out = []
        for ri, (req, first) in enumerate(zip(requests, sample_offsets(list(requests)), strict=True)):
            for k in range(req.count):
                text = self.pool[(zlib.crc32(req.prompt.encode()) + first + k) % len(self.pool)]
                out.append(Completion(request_index=ri, sample_index=first + k, text=text, num_tokens=len(text),
                                      finish_reason="stop"))
        random.Random(len(out)).shuffle(out)
        for c in out:
            if progress:
                progress(1)
            yield c


def three_problems() -> list[Problem]:
    base = make_problem()
    return [base, replace(base, name="max-again", description=base.description + " Again."),
            replace(base, name="max-thrice", description=base.description + " Once more.")]


CFG = SolveConfig(n=10, seed=3, samples_per_prompt=4,
                  testgen=TestGenConfig(sources=("mutation",), num_mutations=20, max_inputs=20))


def test_a_window_draws_once_and_each_problem_gets_what_it_draws_alone(executor: Executor) -> None:
    problems = three_problems()
    sampler = KeyedSampler(POOL)
    steps = sample_together(problems, CFG, models(sampler), executor)
    # One call: every problem's prompt groups (4 + 4 + 2 samples each), each keeping its own sample indices.
    (call,) = sampler.calls
    assert [(r.first_index, r.count) for r in call] == [(0, 4), (4, 4), (8, 2)] * 3
    for problem, step in zip(problems, steps, strict=True):
        alone, _, _ = draw_and_filter(ProblemHarness.of(problem), plan_sampling(problem, CFG, Tok()),
                                      KeyedSampler(POOL), executor)
        assert step.name == "fresh" and step.candidates == tuple(alone)
        assert [c.index for c in step.candidates] == list(range(10))
    # The problems differ (their prompts do), so routing a sample to the wrong problem would show.
    assert len({tuple(c.code for c in s.candidates) for s in steps}) == 3
    # Each problem's seconds are its share by tokens: they add up to the call, in the tokens' proportions.
    tokens = [sum(len(c.code) for c in s.candidates) for s in steps]
    assert all(s.seconds > 0 for s in steps)
    assert steps[0].seconds / steps[1].seconds == pytest.approx(tokens[0] / tokens[1], rel=0.05)


def test_plans_drawn_together_must_share_their_params(executor: Executor) -> None:
    a, b = three_problems()[:2]
    items = [(ProblemHarness.of(a), plan_sampling(a, CFG, Tok())),
             (ProblemHarness.of(b), plan_sampling(b, replace(CFG, temperature=CFG.temperature / 2), Tok()))]
    with pytest.raises(ValueError, match="plans drawn together must share their sampling params"):
        draw_and_filter_many(items, KeyedSampler(POOL), executor)


class Stored:
    """A checkpoint holding given steps (what a bench run's event log gives the solve)."""

    def __init__(self, steps: Sequence[PoolStage]) -> None:
        self.steps, self.recorded = list(steps), list[PoolStage]()

    def stored(self) -> Sequence[PoolStage]:
        return self.steps

    def record(self, stage: PoolStage) -> None:
        self.recorded.append(stage)


def untimed(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Candidates without their measured CPU seconds (which differ between any two runs)."""
    return [replace(c, cpu_s=0.0) for c in candidates]


def test_a_solve_from_its_window_step_equals_a_solve_that_samples(executor: Executor) -> None:
    problems = three_problems()
    steps = sample_together(problems, CFG, models(KeyedSampler(POOL)), executor)
    for problem, step in zip(problems, steps, strict=True):
        drawing = KeyedSampler(POOL)
        plain = solve(problem, CFG, models=models(drawing), executor=executor)
        replaying = KeyedSampler(POOL)
        checkpoint = Stored([step])
        replayed = solve(problem, CFG, models=models(replaying), executor=executor, checkpoint=checkpoint)
        # Nothing drawn again, nothing recorded again; the same candidates, verdicts, clusters and picks.
        assert replaying.calls == [] and checkpoint.recorded == [] and drawing.calls
        assert untimed(replayed.candidates) == untimed(plain.candidates) and replayed.picks == plain.picks
        assert replayed.test_inputs == plain.test_inputs
        assert {st.name: st.seconds for st in replayed.stages}["sample"] == step.seconds


def test_repair_rounds_drawn_together_are_the_steps_each_solve_draws_alone(executor: Executor) -> None:
    problems = three_problems()
    cfg = replace(CFG, repair_share=0.4, repair_rounds=2)
    sampler = KeyedSampler(POOL)
    fresh = sample_together(problems, cfg, models(sampler), executor)
    fixes = repairs_together(problems, fresh, cfg, models(sampler), executor)
    # One call for the fresh samples, then one per repair round, each holding every problem that draws in it.
    rounds = max(len(f) for f in fixes)
    assert rounds >= 1 and len(sampler.calls) == 1 + rounds
    assert all(f and f[0].name == "repair-1" for f in fixes)
    # (a repair round asks one prompt per parent)
    assert len(sampler.calls[1]) == sum(len({c.parent for c in f[0].candidates}) for f in fixes)
    for problem, first, more in zip(problems, fresh, fixes, strict=True):
        drawing = KeyedSampler(POOL)
        plain = solve(problem, cfg, models=models(drawing), executor=executor)
        replaying = KeyedSampler(POOL)
        checkpoint = Stored([first, *more])
        replayed = solve(problem, cfg, models=models(replaying), executor=executor, checkpoint=checkpoint)
        # The solve replays every step the window drew: nothing drawn or recorded again, the same pool and picks.
        assert replaying.calls == [] and checkpoint.recorded == [] and len(drawing.calls) == 1 + len(more)
        assert any(c.parent is not None for c in replayed.candidates)
        assert untimed(replayed.candidates) == untimed(plain.candidates) and replayed.picks == plain.picks
    # Without a repair share there is nothing to draw after the fresh step.
    assert repairs_together(problems, fresh, CFG, models(sampler), executor) == [[], [], []]


# --- the bench runner's windows -------------------------------------------------------------------------------------

class Windows:
    """A window function that records each call's members and stores an empty fresh step for each."""

    def __init__(self, fail: BaseException | None = None, fail_on: int = 1) -> None:
        self.calls: list[list[str]] = []
        self.fail, self.fail_on = fail, fail_on

    def __call__(self, problems: Sequence[Problem], cfg: BenchConfig, checkpoints: Sequence[StageLog]) -> None:
        self.calls.append([p.name for p in problems])
        if self.fail is not None and len(self.calls) == self.fail_on:
            raise self.fail
        for checkpoint in checkpoints:
            checkpoint.record(PoolStage("fresh", (), 0.25))


def solved_with_steps(seen: dict[str, list[str]]) -> Any:
    """fake_solve, noting which stored steps each problem's solve found."""

    def solve_fn(problem: Problem, cfg: BenchConfig, seed: int, checkpoint: StageLog | None = None) -> Any:
        seen[problem.name] = [st.name for st in (checkpoint.stored() if checkpoint is not None else ())]
        return fake_solve(problem, cfg, seed)

    return solve_fn


def bench(run: Path, cfg: BenchConfig, windows: Windows, seen: dict[str, list[str]], resume: bool = False) -> Any:
    with RunStore(run, cfg.to_dict(), resume, ("n", "seed", "draws", "window_samples")) as store:
        return run_bench(fake_problems(), [], cfg, store, solved_with_steps(seen), fake_judge, select,
                         window_fn=windows)


def test_windows_are_fixed_slices_and_each_member_solves_from_its_step(tmp_path: Path) -> None:
    cfg = BenchConfig(SolveConfig(n=12, seed=7), draws=5, window_samples=24)
    assert cfg.window_problems == 2
    windows, seen = Windows(), dict[str, list[str]]()
    records = bench(tmp_path / "run", cfg, windows, seen)
    assert windows.calls == [["p0", "p1"], ["p2", "p3-boom"], ["p4", "p5"]]
    assert all(steps == ["fresh"] for steps in seen.values()) and len(records) == 6
    # A repair share shrinks the fresh samples, so more problems fit in a window.
    assert BenchConfig(SolveConfig(n=12, repair_share=0.5), window_samples=24).window_problems == 4
    # One problem's worth or less: no windows at all.
    alone, seen_alone = Windows(), dict[str, list[str]]()
    bench(tmp_path / "alone", BenchConfig(SolveConfig(n=12, seed=7), draws=5, window_samples=23), alone, seen_alone)
    assert alone.calls == [] and all(steps == [] for steps in seen_alone.values())


def test_a_run_killed_while_a_window_samples_draws_the_same_window_again(tmp_path: Path) -> None:
    cfg = BenchConfig(SolveConfig(n=12, seed=7), draws=5, window_samples=36)  # windows of 3
    killed, seen = Windows(fail=KeyboardInterrupt(), fail_on=2), dict[str, list[str]]()
    with pytest.raises(KeyboardInterrupt):
        bench(tmp_path / "run", cfg, killed, seen)
    assert killed.calls == [["p0", "p1", "p2"], ["p3-boom", "p4", "p5"]]
    # Nothing of the killed window was kept: the resumed run draws the same members together.
    resumed, seen_again = Windows(), dict[str, list[str]]()
    records = bench(tmp_path / "run", cfg, resumed, seen_again, resume=True)
    assert resumed.calls == [["p3-boom", "p4", "p5"]] and len(records) == 6
    # A window with a single unfinished member left (its others finished) is no window: that problem samples alone.
    store_dir = tmp_path / "run"
    results = (store_dir / "results.jsonl").read_text().splitlines()
    (store_dir / "results.jsonl").write_text("\n".join(r for r in results if '"p5"' not in r) + "\n")
    (store_dir / "problems" / "p5.jsonl").unlink()
    last = Windows()
    bench(store_dir, cfg, last, dict[str, list[str]](), resume=True)
    assert last.calls == []  # p5 alone: one member is no window


def test_a_failing_window_leaves_each_problem_to_sample_alone(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = BenchConfig(SolveConfig(n=12, seed=7), draws=5, window_samples=24)
    failing, seen = Windows(fail=RuntimeError("out of memory"), fail_on=2), dict[str, list[str]]()
    with caplog.at_level(logging.WARNING, logger="alphagen.bench"):
        records = bench(tmp_path / "run", cfg, failing, seen)
    assert "sampling 2 problems together failed (RuntimeError: out of memory)" in caplog.text
    assert seen["p2"] == [] and seen["p0"] == seen["p4"] == ["fresh"]
    assert records["p2"]["status"] == "ok" and records["p3-boom"]["status"] == "error"


# --- the real sampler, through the CLI ------------------------------------------------------------------------------

SHIPPED = ["sum-of-two.json", "even-sum.json", "max-in-array.json"]


def _bench_cli(problems: Path, model: Path, run: Path, *extra: str) -> Any:
    args = ["bench", str(problems), "-n", "4", "--seed", "1", "--model", str(model), "--dtype", "fp32",
            "--max-new-tokens", "16", "--test-sources", "mutation", "--window-samples", "8", "--out", str(run),
            "--no-json", *extra]
    return CliRunner().invoke(main, args)


def _samples(run: Path) -> dict[str, list[str]]:
    out = {}
    for log in sorted((run / "problems").glob("*.jsonl")):
        events = [json.loads(x) for x in log.read_text().splitlines()]
        (samples,) = [e for e in events if e["event"] == "samples"]
        out[log.stem] = [c["code"] for c in samples["result"]["candidates"]]
    return out


@pytest.mark.timeout(300)
def test_bench_windows_with_a_real_model_resume_to_the_same_samples(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import alphagen.draw_runner as draw_runner
    from tests.tiny_model import build_tiny_dir

    model = build_tiny_dir(tmp_path / "tiny")
    problems = tmp_path / "problems"
    problems.mkdir()
    for f in SHIPPED:
        shutil.copy(ROOT / "problems" / f, problems / f)
    res = _bench_cli(problems, model, tmp_path / "a")
    assert res.exit_code == 0, res.output
    first = _samples(tmp_path / "a")
    assert len(first) == 3 and all(len(codes) == 4 for codes in first.values())
    # The first two problems were drawn together before either was solved; the third alone, in its solve.
    events = {name: [json.loads(x)["event"] for x in (tmp_path / "a" / "problems" / f"{name}.jsonl").read_text()
                     .splitlines()] for name in first}
    assert events["even-sum"][:2] == events["max-in-array"][:2] == ["pool", "start"]
    assert events["sum-of-two"][:2] == ["start", "pool"]

    # Killed while the first window samples: nothing stored, and the resumed run draws exactly the same samples.
    real = draw_runner.sample_together

    def killed(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(draw_runner, "sample_together", real)
        raise KeyboardInterrupt

    monkeypatch.setattr(draw_runner, "sample_together", killed)
    res = _bench_cli(problems, model, tmp_path / "b")
    assert res.exit_code == 130, res.output
    assert not (tmp_path / "b" / "results.jsonl").exists() or not (tmp_path / "b" / "results.jsonl").read_text()
    res = _bench_cli(problems, model, tmp_path / "b", "--resume")
    assert res.exit_code == 0, res.output
    assert _samples(tmp_path / "b") == first


@pytest.mark.timeout(300)
def test_bench_windows_draw_the_repair_rounds_too(tmp_path: Path) -> None:
    from tests.tiny_model import build_tiny_dir

    model = build_tiny_dir(tmp_path / "tiny")
    problems = tmp_path / "problems"
    problems.mkdir()
    for f in SHIPPED:
        shutil.copy(ROOT / "problems" / f, problems / f)
    # -n 4 with half on repairs: 2 fresh samples a problem, so all three fit in one window of 8.
    res = _bench_cli(problems, model, tmp_path / "a", "--repair-share", "0.5")
    assert res.exit_code == 0, res.output
    for name in ("even-sum", "max-in-array", "sum-of-two"):
        events = [json.loads(x) for x in (tmp_path / "a" / "problems" / f"{name}.jsonl").read_text().splitlines()]
        kinds = [e["event"] for e in events]
        # Every step came from the window, before the solve started; the solve replayed them and drew nothing.
        steps = [e["stage"]["name"] for e in events[: kinds.index("start")] if e["event"] == "pool"]
        assert steps[0] == "fresh" and steps[1] in ("repair-1", "topup") and len(steps) >= 2
        assert "pool" not in kinds[kinds.index("start"):]
        (samples,) = [e for e in events if e["event"] == "samples"]
        assert len(samples["result"]["candidates"]) == 4
