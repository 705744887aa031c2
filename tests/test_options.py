"""One option set for `solve` and `bench`: same names, same help, defaults from SolveConfig (issue #15 item 8)."""

from __future__ import annotations

from dataclasses import fields

import click
import pytest
from click.testing import CliRunner

from alphagen.cli import main
from alphagen.options import BACKENDS, QUANTIZE_HELP, build, default
from alphagen.pipeline import SolveConfig
from alphagen.testgen.config import TestGenConfig


def _params(name: str) -> dict[str, click.Parameter]:
    ctx = click.Context(main)
    cmd = main.get_command(ctx, name)
    assert cmd is not None
    return {p.name: p for p in cmd.params if p.name}


def test_solve_and_bench_share_every_pipeline_option() -> None:
    solve, bench = _params("solve"), _params("bench")
    shared = set(solve) - {"problem_path"}
    # Everything solve accepts, bench accepts too (bench adds run-directory options), with the same definition.
    assert shared <= set(bench), shared - set(bench)
    for name in shared:
        a, b = solve[name], bench[name]
        assert (a.opts, a.default, getattr(a, "help", None)) == (b.opts, b.default, getattr(b, "help", None)), name
    # Every option explains itself.
    for cmd in ("solve", "bench", "judge"):
        for p in _params(cmd).values():
            if isinstance(p, click.Option):
                assert p.help, f"{cmd} {p.opts} has no help"
    assert "--time-limit" in bench["time_limit"].opts and "--test-sources" in bench["test_sources"].opts


def test_defaults_come_from_solve_config() -> None:
    params = _params("solve")
    names = {"n": "n", "temperature": "temperature", "top_p": "top_p", "max_new_tokens": "max_new_tokens",
             "seed": "seed", "language": "language", "ranking": "ranking", "num_picks": "num_picks"}
    by_field = {f.name: f.default for f in fields(SolveConfig)}
    for option, field_name in names.items():
        assert params[option].default == by_field[field_name], option
    assert params["test_sources"].default == ",".join(TestGenConfig().sources)
    # The options build exactly SolveConfig() when nothing is passed.
    raw = {p.name: p.default for p in params.values() if p.name != "problem_path" and p.name != "as_json"}
    assert build(raw).solve == SolveConfig()
    assert default("n") == SolveConfig().n


def test_quantize_help_is_the_measured_loss_everywhere() -> None:
    for cmd in ("solve", "bench"):
        assert _params(cmd)["quantize"].help == QUANTIZE_HELP
    assert "50% to 20%" in QUANTIZE_HELP and "bf16" in QUANTIZE_HELP


def test_backend_choices_match_the_sampler_factory() -> None:
    from alphagen.sampling.factory import BACKENDS as FACTORY_BACKENDS

    assert tuple(BACKENDS) == tuple(FACTORY_BACKENDS)


@pytest.mark.parametrize("cmd", ["solve", "bench"])
def test_bad_values_name_the_option(cmd: str, tmp_path: object) -> None:
    res = CliRunner().invoke(main, [cmd, "problems/sum-of-two.json", "--test-sources", "mutation,psychic"])
    assert res.exit_code == 2
    assert "--test-sources" in res.output and "got 'mutation,psychic'" in res.output
    res = CliRunner().invoke(main, [cmd, "problems/sum-of-two.json", "--quantize", "int8", "--dtype", "bf16"])
    assert res.exit_code == 2 and "--dtype must be fp32 or auto, got 'bf16'" in res.output


def test_sandbox_run_help_shows_defaults() -> None:
    from sandbox.cli import _parser

    run = _parser()._subparsers._group_actions[0].choices["run"]  # type: ignore[union-attr]
    text = run.format_help()
    flat = " ".join(text.split())
    for shown in ("CPU seconds per test (default: 2.0)", "memory in MiB (default: 256)", "(default: auto)"):
        assert shown in flat, shown


def test_no_model_resolves_to_the_larger_model_where_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    from alphagen.models import registry

    raw = {p.name: p.default for p in _params("solve").values() if p.name not in ("problem_path", "as_json")}
    # The run records a name, never null: which model a default run used is in its config.json.
    monkeypatch.setattr(registry, "is_installed", lambda name: True)
    assert build(raw).model == registry.LARGER_MODEL == "qwen2.5-coder-1.5b"
    monkeypatch.setattr(registry, "is_installed", lambda name: name == registry.DEFAULT_MODEL)
    assert build(raw).model == registry.DEFAULT_MODEL == "qwen2.5-coder-0.5b"
    # A model given is kept as given.
    assert build(raw | {"model": "some/dir"}).model == "some/dir"
