"""What a zygote writes to stderr reaches the controller's logging ('sandbox.zygote'), and --log-file with it;
what a candidate writes to stderr does not (it is hostile data, returned per result)."""

from __future__ import annotations

import logging
import sys
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import sandbox._slot
from alphagen.cli import main
from alphagen.distributed import executor as ray_executor
from sandbox import Executor, Limits, Program, Status
from sandbox._zygote_log import MAX_FORWARD, ZygoteLog

PROBLEMS = Path(__file__).resolve().parents[1] / "problems"
BAD_FRAME = b"\xff\xff\xff\xff\x00\x00\x00\x00"
"""A frame length over the protocol's limit: the zygote dies with a ValueError traceback on its stderr."""


def zygote_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "sandbox.zygote"]


def crash_zygote(executor: Executor) -> None:
    """Make slot 0's zygote die with a traceback, and wait until it has."""
    slot = executor._slots[0]  # noqa: SLF001 - the test provokes a real zygote failure
    proc = slot._proc  # noqa: SLF001
    assert proc is not None
    slot.send_frame(BAD_FRAME)
    proc.wait(timeout=30)


def test_a_crashed_zygotes_traceback_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with Executor(workers=1) as executor:
        crash_zygote(executor)
        # The next batch finds the slot dead and restarts it: the dead zygote's stderr is forwarded then.
        list(executor.run_batch([Program("print(input())")], ["1", "2"], Limits()))
        lines = zygote_lines(caplog)
        assert executor.run(Program("print(input())"), "3").stdout == b"3\n"  # the restarted slot serves
    assert "zygote 0: Traceback (most recent call last):" in lines
    assert any(line.startswith("zygote 0: ValueError: frame length must be <=") for line in lines)
    assert all(r.levelno == logging.WARNING for r in caplog.records if r.name == "sandbox.zygote")
    # Forwarded once: close() does not repeat what the restart already forwarded.
    assert len(zygote_lines(caplog)) == len(lines)


def test_a_candidates_stderr_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    forged = "zygote 0: Traceback (most recent call last):\\n\\x1b[31mERROR"
    with Executor(workers=1) as executor:
        result = executor.run(Program(f"import sys\nsys.stderr.write('{forged}\\n' * 50)\nprint(1)"), "")
    assert result.status is Status.OK and b"zygote 0: Traceback" in result.stderr
    assert zygote_lines(caplog) == []
    assert all("zygote 0: Traceback" not in r.getMessage() for r in caplog.records)


def test_zygote_log_forwards_whole_lines_escaped_and_bounded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    log = ZygoteLog(tmp_path / "zygote-3.log", 3)
    log.forward()  # no file yet: nothing, no error
    with open(log.open_for_zygote(), "ab") as f:
        f.write(b"first\n\x1b[2Jcleared\r\nhalf a li")
        f.flush()
        log.forward()
        assert zygote_lines(caplog) == ["zygote 3: first", "zygote 3: \\x1b[2Jcleared"]
        f.write(b"ne\n")
        f.write(b"x" * (2 * MAX_FORWARD) + b"\n")
        f.flush()
    caplog.clear()
    log.forward(final=True)
    lines = zygote_lines(caplog)
    assert lines[0].startswith("zygote 3: ") and lines[0].endswith("bytes of its log skipped (too many at once)")
    assert lines[1] == "zygote 3: " + "x" * 2000
    caplog.clear()
    log.forward(final=True)
    assert zygote_lines(caplog) == []


@pytest.fixture
def talking_zygote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Zygotes that say a line on stderr when they start, then run as usual."""
    said = f"a zygote diagnostic {time.time_ns()}"
    wrapper = tmp_path / "talking_zygote.py"
    wrapper.write_text(
        f"import runpy, sys\nsys.stderr.write({said!r} + '\\n')\nsys.stderr.flush()\n"
        f"runpy.run_path({sandbox._slot.ZYGOTE!r}, run_name='__main__')\n"
    )
    monkeypatch.setattr(sandbox._slot, "ZYGOTE", str(wrapper))
    return said


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """setup_logging (run by the CLI in this process) replaces the root handlers: put ours back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_log_file_holds_the_zygotes_lines(talking_zygote: str, tmp_path: Path) -> None:
    log_file = tmp_path / "run.log"
    res = CliRunner().invoke(
        main, ["-v", "--log-file", str(log_file), "check", str(PROBLEMS / "sum-of-two.json"), "--workers", "1"]
    )
    assert res.exit_code == 0, res.output
    text = log_file.read_text()
    assert f"sandbox.zygote WARNING zygote 0: {talking_zygote}" in text, text


@pytest.fixture
def ray_worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process plays a Ray worker: a fake `ray` module, and the worker's globals put back afterwards."""
    fake = types.SimpleNamespace(
        get_runtime_context=lambda: types.SimpleNamespace(get_node_id=lambda: "fakenode0123456789")
    )
    monkeypatch.setitem(sys.modules, "ray", fake)
    sandbox_log = logging.getLogger("sandbox")
    propagate = sandbox_log.propagate
    yield
    if ray_executor._LOCAL is not None:  # noqa: SLF001 - the worker's executor, made by run_chunk
        ray_executor._LOCAL.close()  # noqa: SLF001
        ray_executor._LOCAL = None  # noqa: SLF001
    sandbox_log.removeHandler(ray_executor._TASK_LOG)  # noqa: SLF001
    sandbox_log.propagate = propagate


@pytest.mark.usefixtures("ray_worker")
def test_ray_tasks_return_their_sandbox_logs_to_the_driver(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    args = ([Program("print(input())")], ["1"], Limits(), None, None, False, None, None)
    node, results, lines = ray_executor.run_chunk(*args)
    assert node == "fakenode0123456789" and [r.status for r in results] == [Status.OK]
    crash_zygote(ray_executor._local_executor())  # noqa: SLF001
    _, results, lines = ray_executor.run_chunk(*args)
    assert len(results) == 1  # sandbox_error: the test was sent to the dead zygote
    # On the worker the records were kept for the driver, not written to its stderr (Ray would print them too).
    assert zygote_lines(caplog) == []
    assert ("sandbox", logging.WARNING, "sandbox: restarting worker slot 0") in lines
    assert any(name == "sandbox.zygote" and "ValueError: frame length" in msg for name, _, msg in lines)

    # The driver logs them under their own logger and level, each distinct line once.
    logging.getLogger("sandbox").propagate = True
    logging.getLogger("sandbox").removeHandler(ray_executor._TASK_LOG)  # noqa: SLF001
    driver = ray_executor.RayExecutor.__new__(ray_executor.RayExecutor)
    driver._logged = set()  # noqa: SLF001
    driver._log_worker_lines(node, lines + lines)  # noqa: SLF001
    forwarded = zygote_lines(caplog)
    assert "ray node fakenode: zygote 0: Traceback (most recent call last):" in forwarded
    assert len(forwarded) == len(set(forwarded)) == sum(1 for name, _, _ in lines if name == "sandbox.zygote")
