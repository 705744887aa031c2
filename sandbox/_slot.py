"""Controller side of one worker slot: starts its zygote, sends requests, decodes replies, restarts it."""

from __future__ import annotations

import logging
import os
import select
import subprocess
import time
from collections import deque
from pathlib import Path
from typing import Any

from sandbox import _protocol, _uids
from sandbox._zygote_log import ZygoteLog

logger = logging.getLogger("sandbox")
ZYGOTE = str(Path(__file__).with_name("_zygote.py"))
START_TIMEOUT_S = 30.0
ZYGOTE_GROWTH_MAX = 256 << 20
"""How far a zygote's address space may grow past its size at start before the slot is restarted."""


class SlotError(RuntimeError):
    """The zygote died, hung or spoke nonsense; the slot must be restarted."""


class Slot:
    """One zygote process and the requests sent to it that have not been answered yet (in order)."""

    def __init__(self, index: int, python: str, scratch: Path, uid: int, isolation: str, nproc: int) -> None:
        self.index = index
        self.python = python
        self.scratch = scratch
        self.uid = uid
        self.isolation = isolation
        self.nproc = nproc
        self.outstanding: deque[Any] = deque()
        """Jobs sent and not answered, oldest first (the zygote answers in order)."""
        self.capabilities: dict[str, Any] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._frames = _protocol.FrameBuffer()
        self.log = ZygoteLog(scratch.parent / f"zygote-{index}.log", index)
        """The zygote's stderr: quoted in errors about it, forwarded to the 'sandbox.zygote' logger."""

    # ---- lifecycle
    # --------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Launch the zygote with an empty environment and hand it its configuration."""
        with open(self.log.open_for_zygote(), "ab") as log:
            # env={}: nothing of ours (tokens, paths) is inherited by the zygote and hence by any candidate.
            self._proc = subprocess.Popen(
                [self.python, "-I", ZYGOTE],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env={},
                cwd="/",
                close_fds=True,
            )
        self._frames = _protocol.FrameBuffer()
        self.outstanding.clear()
        self.send(
            {
                "slot": self.index,
                "scratch": str(self.scratch),
                "root": str(self.scratch.parent),
                "bin": str(self.scratch.parent / "bin"),
                "isolation": self.isolation,
                "uid": self.uid,
                "nproc": self.nproc,
            }
        )

    def wait_ready(self) -> dict[str, Any]:
        """Block until the zygote reports its capabilities (what isolation it managed to set up)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            messages = self.poll(max(0.0, deadline - time.monotonic()))
            if messages:
                kind, caps = messages[0]
                if kind != "ready":
                    raise SlotError(f"zygote {self.index} sent {kind!r} before 'ready'")
                self.capabilities = caps
                return caps
            if time.monotonic() >= deadline:
                raise SlotError(
                    f"zygote {self.index} did not start within {START_TIMEOUT_S:g}s{self.log_tail()}"
                )

    def stop(self, graceful: bool = True) -> None:
        """Stop the zygote and kill every process of the slot's uid that might remain."""
        proc, self._proc = self._proc, None
        self.outstanding.clear()
        if proc is None:
            return
        if graceful and proc.poll() is None:
            try:
                if proc.stdin is not None:
                    proc.stdin.write(_protocol.encode(("quit",)))
                    proc.stdin.flush()
            except OSError:
                pass
            try:
                proc.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
        self._kill_uid()
        # The zygote is gone, so its log is complete: forward the rest before a restart or close() moves on.
        self.log.forward(final=True)

    def restart(self) -> None:
        # No log tail here: stop() forwards the zygote's last words to the 'sandbox.zygote' logger, line by line.
        logger.warning("sandbox: restarting worker slot %d", self.index)
        self.stop(graceful=False)
        self.start()
        self.wait_ready()

    def _kill_uid(self) -> None:
        """Children die with their zygote (PDEATHSIG); this also catches anything re-parented to init."""
        if self.uid < 0 or os.geteuid() != 0:
            return
        _uids.kill_uids(self.uid, self.uid + 1)

    def outgrown(self) -> bool:
        """Has the zygote's address space grown past ZYGOTE_GROWTH_MAX over what it had when it became ready?
        Every child starts as a copy of it: a grown zygote (a huge request buffer, a leak) is replaced, not
        reused, so that no later program pays for it against its memory limit."""
        pid, base = self.pid, self.capabilities.get("base_vm")
        if pid is None or not isinstance(base, int):
            return False
        try:
            with open(f"/proc/{pid}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"VmSize:"):
                        return (int(line.split()[1]) << 10) > base + ZYGOTE_GROWTH_MAX
        except (OSError, ValueError):
            return False
        return False

    @property
    def pid(self) -> int | None:
        if self._proc is None or self._proc.poll() is not None:
            return None
        # With a PID namespace the process we started only waits for the zygote (the namespace's init), which
        # reports its own (host) pid.
        pid = self.capabilities.get("pid")
        return pid if isinstance(pid, int) else self._proc.pid

    # ---- I/O
    # ----------------------------------------------------------------------------------------------------
    def fileno(self) -> int:
        if self._proc is None or self._proc.stdout is None:
            raise SlotError(f"slot {self.index} is not running")
        return self._proc.stdout.fileno()

    def send(self, message: _protocol.Message) -> None:
        """Write one frame. Callers keep at most ~32 KiB unread in the pipe, so this never blocks for long."""
        if self._proc is None or self._proc.stdin is None:
            raise SlotError(f"slot {self.index} is not running")
        try:
            _protocol.write_message(self._proc.stdin.fileno(), message)
        except OSError as exc:
            raise SlotError(f"zygote {self.index} stopped reading: {exc}{self.log_tail()}") from exc

    def send_frame(self, frame: bytes) -> None:
        """Write one pre-encoded frame (see send)."""
        if self._proc is None or self._proc.stdin is None:
            raise SlotError(f"slot {self.index} is not running")
        fd = self._proc.stdin.fileno()
        view = memoryview(frame)
        try:
            while view:
                view = view[os.write(fd, view) :]
        except OSError as exc:
            raise SlotError(f"zygote {self.index} stopped reading: {exc}{self.log_tail()}") from exc

    def poll(self, timeout: float) -> list[Any]:
        """Read what is available (waiting at most timeout) and return complete messages."""
        fd = self.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        return self.read_available() if ready else []

    def read_available(self) -> list[Any]:
        """Called when the pipe is readable: EOF means the zygote died."""
        data = os.read(self.fileno(), 1 << 20)
        if not data:
            raise SlotError(f"zygote {self.index} exited{self.log_tail()}")
        try:
            return self._frames.feed(data)
        except ValueError as exc:
            raise SlotError(f"zygote {self.index} sent a malformed frame: {exc}") from exc

    def log_tail(self) -> str:
        return self.log.tail()
