"""`alphagen bench --replay RUN`: the stages after sampling redone on a stored run's samples, nothing drawn again
(#29: two settings compared without the batch noise of bf16 sampling)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_pipeline import POOL, make_problem, models
from test_sampling_windows import KeyedSampler

from alphagen.cli import main
from alphagen.evaluation.replay import AFTER_SAMPLING, SAMPLE_COUNT, ReplayError, check_settings, seed_replay
from alphagen.evaluation.runner import BenchConfig, as_current
from alphagen.evaluation.store import RunStore
from alphagen.problems.model import Problem
from alphagen.problems.ours import to_dict


def named(name: str) -> Problem:
    """The max-of-list problem under another name, its name in its statement (so in its prompt)."""
    base = make_problem()
    return replace(base, name=name, description=f"{base.description} ({name})")


def write_problems(root: Path, names: list[str]) -> Path:
    root.mkdir()
    for name in names:
        (root / f"{name}.json").write_text(json.dumps(to_dict(named(name))))
    return root


def use_sampler(monkeypatch: pytest.MonkeyPatch, sampler: Any) -> None:
    """The bench's real pipeline, with a scripted model in place of the real one."""
    import alphagen.commands.bench as bench_cmd

    def factory(executor: Any, pipeline: Any, progress: Any, *args: Any, **kwargs: Any) -> Any:
        return bench_cmd.LazyPipeline(executor, pipeline, progress, load_models=lambda: models(sampler))

    monkeypatch.setattr(bench_cmd, "lazy_pipeline", factory)


class Refusing(KeyedSampler):
    """A model a replay must not call for a replayed problem."""

    def sample(self, requests: Any, params: Any, progress: Any = None) -> Any:
        if any("(max-b)" not in r.prompt for r in requests):
            raise AssertionError("a replayed problem was sampled again")
        return super().sample(requests, params, progress)


def candidates(run: Path, name: str) -> list[tuple[int, str, bool]]:
    (samples,) = [e for e in map(json.loads, (run / "problems" / f"{name}.jsonl").read_text().splitlines())
                  if e["event"] == "samples"]
    return [(c["index"], c["code"], c["passed_examples"]) for c in samples["result"]["candidates"]]


BASE = ["-n", "8", "--seed", "5", "--window-samples", "0", "--test-sources", "mutation", "--json"]


def grow_to_12(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, problems: Path, flags: list[str]
               ) -> tuple[Path, Path, KeyedSampler]:
    """A run with `flags` (-n 8), then a replay of it grown to -n 12: (first, grown, the grown run's sampler)."""
    use_sampler(monkeypatch, KeyedSampler(POOL))
    first = tmp_path / "first"
    assert CliRunner().invoke(main, ["bench", str(problems), "--out", str(first), *flags]).exit_code == 0
    grower = KeyedSampler(POOL)
    use_sampler(monkeypatch, grower)
    grown = tmp_path / "grown"
    res = CliRunner().invoke(main, ["bench", str(problems), "--out", str(grown), *flags, "-n", "12",
                                    "--replay", str(first)])
    assert res.exit_code == 0, res.output
    return first, grown, grower


def test_a_replay_redoes_the_later_stages_on_the_stored_samples(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    problems = write_problems(tmp_path / "problems", ["max-a"])
    use_sampler(monkeypatch, KeyedSampler(POOL))
    first = tmp_path / "first"
    res = CliRunner().invoke(main, ["bench", str(problems), "--out", str(first), *BASE])
    assert res.exit_code == 0, res.output

    # A second problem the source run never saw: it is sampled afresh, and the output says so.
    (problems / "max-b.json").write_text(json.dumps(to_dict(named("max-b"))))
    refusing = Refusing(POOL)
    use_sampler(monkeypatch, refusing)
    again = tmp_path / "again"
    res = CliRunner().invoke(main, ["bench", str(problems), "--out", str(again), *BASE, "--replay", str(first),
                                    "--limit-probe", "--picks", "3"])
    assert res.exit_code == 0, res.output
    assert "stored samples of 1 problem" in res.output and "1 without stored samples there" in res.output
    assert candidates(again, "max-a") == candidates(first, "max-a")
    assert len(refusing.calls) == 1 and all("(max-b)" in r.prompt for r in refusing.calls[0])
    summary = json.loads(res.stdout)
    assert summary["config"]["limit_probe"] is True and summary["config"]["num_picks"] == 3

    # Resumed, a replay keeps what it did: nothing is copied or drawn twice.
    res = CliRunner().invoke(main, ["bench", str(problems), "--out", str(again), *BASE, "--replay", str(first),
                                    "--limit-probe", "--picks", "3", "--resume"])
    assert res.exit_code == 0, res.output
    assert len(refusing.calls) == 1
    events = (again / "problems" / "max-a.jsonl").read_text().splitlines()
    assert sum(json.loads(e)["event"] == "pool" for e in events) == 1


def test_a_replay_refuses_other_sampling_settings_and_leaves_nothing(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    problems = write_problems(tmp_path / "problems", ["max-a"])
    use_sampler(monkeypatch, KeyedSampler(POOL))
    first = tmp_path / "first"
    assert CliRunner().invoke(main, ["bench", str(problems), "--out", str(first), *BASE]).exit_code == 0
    for extra, said in ((["--temperature", "0.3"], "temperature: 0.8 there, 0.3 here"),
                        (["--repair-share", "0.25"], "repair_share: 0.0 there, 0.25 here"),
                        (["-n", "4", "--repair-share", "0.25"], "n: 8 there, 4 here")):
        out = tmp_path / "other"
        res = CliRunner().invoke(main, ["bench", str(problems), "--out", str(out), *BASE, *extra,
                                        "--replay", str(first)])
        assert res.exit_code == 2 and said in res.output, res.output
        assert not out.exists()
    res = CliRunner().invoke(main, ["bench", str(problems), "--out", str(tmp_path / "x"), *BASE,
                                    "--replay", str(problems)])
    assert res.exit_code == 2 and "must be a bench run directory" in res.output
    res = CliRunner().invoke(main, ["bench", str(problems), "--out", str(first), *BASE, "--resume",
                                    "--replay", str(first)])
    assert res.exit_code == 2 and "another run than --out" in res.output


def test_only_settings_after_sampling_may_differ() -> None:
    base = BenchConfig().to_dict()
    assert AFTER_SAMPLING <= set(base)
    for key in AFTER_SAMPLING:
        check_settings(Path("src"), base, base | {key: "other"}, as_current)
    for key in set(base) - AFTER_SAMPLING - SAMPLE_COUNT:
        with pytest.raises(ReplayError, match=key):
            check_settings(Path("src"), base, base | {key: "other"}, as_current)
    # How many samples, and in which rounds, may differ without repairs, not with them.
    repairing = base | {"repair_share": 0.25}
    for key in SAMPLE_COUNT:
        check_settings(Path("src"), base, base | {key: 4}, as_current)
        with pytest.raises(ReplayError, match=key):
            check_settings(Path("src"), repairing, repairing | {key: 4}, as_current)


def test_speedup_steps_are_redone_and_a_problem_gets_all_its_steps(tmp_path: Path) -> None:
    src = tmp_path / "src"
    cfg = BenchConfig().to_dict()
    with RunStore(src, cfg, False, ()) as store:
        for name in ("fresh", "fresh-8", "speedup", "speedup-topup"):
            store.log("p", {"event": "pool", "stage": {"name": name, "candidates": [], "seconds": 0.1}})
        store.log("p", {"event": "samples", "result": {}})
    with RunStore(tmp_path / "dst", cfg, False, ()) as store:
        got = seed_replay(src, store, ["p", "q"])
        assert (got.seeded, got.kept, got.missing) == (1, 0, ("q",))
        assert [e["stage"]["name"] for e in store.events("p")] == ["fresh", "fresh-8"]
        assert seed_replay(src, store, ["p"]).kept == 1
        assert len(store.events("p")) == 2


def test_a_replay_with_a_larger_n_draws_only_the_new_samples(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    problems = write_problems(tmp_path / "problems", ["max-a"])
    first, grown, grower = grow_to_12(tmp_path, monkeypatch, problems, BASE)
    # The first 8 are the source's (index, program, example verdict); one call drew samples 8..11.
    assert candidates(grown, "max-a")[:8] == candidates(first, "max-a")
    assert [c[0] for c in candidates(grown, "max-a")] == list(range(12))
    assert [[r.count for r in call] for call in grower.calls] == [[4]]


def test_a_grown_replay_draws_the_rest_of_consecutive_problems_together(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    names = ["max-a", "max-b", "max-c"]
    problems = write_problems(tmp_path / "problems", names)
    # --window-samples 64: the first run draws 8 problems of 8 a window, the grown one 16 problems' 4 more.
    windowed = [a if a != "0" else "64" for a in BASE]
    first, grown, grower = grow_to_12(tmp_path, monkeypatch, problems, windowed)
    # One sampler call drew samples 8..11 of all three problems (each alone before: three calls of 4 rows).
    assert len(grower.calls) == 1 and sorted(r.count for r in grower.calls[0]) == [4, 4, 4]
    assert {n for n in names if any(f"({n})" in r.prompt for r in grower.calls[0])} == set(names)
    # The same samples a problem draws alone: a fresh run at -n 12 (the sampler is batch-invariant).
    use_sampler(monkeypatch, KeyedSampler(POOL))
    fresh = tmp_path / "fresh"
    assert CliRunner().invoke(main, ["bench", str(problems), "--out", str(fresh), *windowed,
                                           "-n", "12"]).exit_code == 0
    for name in names:
        assert candidates(grown, name)[:8] == candidates(first, name)
        assert candidates(grown, name) == candidates(fresh, name)


def test_refilter_judges_the_stored_samples_on_the_changed_examples(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from test_pipeline import CORRECT, LAST

    from alphagen.problems.model import Test

    problems = write_problems(tmp_path / "problems", ["max-a"])
    use_sampler(monkeypatch, KeyedSampler(POOL))
    first = tmp_path / "first"
    assert CliRunner().invoke(main, ["bench", str(problems), "--out", str(first), *BASE]).exit_code == 0
    passed = {code: ok for _, code, ok in candidates(first, "max-a")}
    assert passed[LAST] and passed[CORRECT]
    # A third example, where the maximum is not last: LAST (which passed the first two) now fails one.
    fixed = replace(named("max-a"), public_tests=(*named("max-a").public_tests, Test("3\n9 1 2\n", "9\n")))
    (problems / "max-a.json").write_text(json.dumps(to_dict(fixed)))
    use_sampler(monkeypatch, Refusing(POOL))
    stale, again = tmp_path / "stale", tmp_path / "again"
    res = CliRunner().invoke(main, ["bench", str(problems), "--out", str(stale), *BASE, "--replay", str(first)])
    assert res.exit_code == 0, res.output
    assert candidates(stale, "max-a") == candidates(first, "max-a")
    res = CliRunner().invoke(main, ["bench", str(problems), "--out", str(again), *BASE, "--replay", str(first),
                                    "--refilter"])
    assert res.exit_code == 0, res.output
    got = candidates(again, "max-a")
    # The same samples; LAST's verdict is the new examples', every other one as before.
    assert [(i, code) for i, code, _ in got] == [(i, code) for i, code, _ in candidates(first, "max-a")]
    assert {code: ok for _, code, ok in got} == passed | {LAST: False}

    res = CliRunner().invoke(main, ["bench", str(problems), "--out", str(tmp_path / "x"), *BASE, "--refilter"])
    assert res.exit_code == 2 and "--refilter only makes sense with --replay" in res.output
    # A source with repairs is refused before anything is created.
    config = json.loads((first / "config.json").read_text())
    (first / "config.json").write_text(json.dumps(config | {"repair_share": 0.25}))
    res = CliRunner().invoke(main, ["bench", str(problems), "--out", str(tmp_path / "y"), *BASE, "--repair-share",
                                    "0.25", "--replay", str(first), "--refilter"])
    assert res.exit_code == 2 and "without repairs, got repair_share 0.25" in res.output, res.output
    assert not (tmp_path / "y").exists()


def test_refilter_refuses_steps_drawn_from_the_old_verdicts(tmp_path: Path) -> None:
    from alphagen.evaluation.replay import refilter_steps
    from alphagen.problems.harness import ProblemHarness

    steps = [{"event": "pool", "stage": {"name": name, "candidates": [], "seconds": 0.1}}
             for name in ("fresh", "repair")]
    with pytest.raises(ReplayError, match="without repair steps, got repair steps for max-a"):
        refilter_steps(steps, ProblemHarness.of(named("max-a")), executor=None)  # type: ignore[arg-type]
    # Fresh steps with nothing to run need no executor.
    assert refilter_steps(steps[:1], ProblemHarness.of(named("max-a")), executor=None) == steps[:1]  # type: ignore[arg-type]


def test_a_replay_with_fewer_samples_or_in_rounds_takes_the_sources_first_samples(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A uniform run replayed into a smaller -n, or into a budget drawn in rounds: each problem's first samples are
    # the source's very samples (read from its larger slice), and only samples past the source's are drawn.
    problems = write_problems(tmp_path / "problems", ["max-a", "max-b", "max-c"])
    use_sampler(monkeypatch, KeyedSampler(POOL))
    first = tmp_path / "first"
    assert CliRunner().invoke(main, ["bench", str(problems), "--out", str(first), *BASE]).exit_code == 0

    fewer = KeyedSampler(POOL)
    use_sampler(monkeypatch, fewer)
    res = CliRunner().invoke(main, ["bench", str(problems), "--out", str(tmp_path / "four"), *BASE, "-n", "4",
                                    "--replay", str(first)])
    assert res.exit_code == 0, res.output
    assert fewer.calls == []
    for name in ("max-a", "max-b", "max-c"):
        assert candidates(tmp_path / "four", name) == candidates(first, name)[:4]

    rounds = KeyedSampler(POOL)
    use_sampler(monkeypatch, rounds)
    budget = tmp_path / "budget"
    res = CliRunner().invoke(main, ["bench", str(problems), "--out", str(budget), *BASE, "-n", "16",
                                    "--settle-min", "4", "--budget", "36", "--replay", str(first)])
    assert res.exit_code == 0, res.output
    drawn = [(r.first_index, r.count) for call in rounds.calls for r in call]
    assert drawn and all(start >= 8 for start, _ in drawn)
    with RunStore(budget, {}, True, ()) as store:
        records = store.finished()
    assert sorted(records) == ["max-a", "max-b", "max-c"]
    for name, record in records.items():
        got = candidates(budget, name)
        assert got[:8] == candidates(first, name)[:len(got[:8])] and len(got) == record["n"]
    # What was drawn past the source's samples is exactly what the rounds asked for.
    assert sum(count for _, count in drawn) == sum(max(0, r["n"] - 8) for r in records.values())
