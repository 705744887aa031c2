"""A zygote's stderr: a file the controller forwards, line by line, to the 'sandbox.zygote' logger.

The zygote is an exec'd interpreter, not a multiprocessing child, so nothing logging-aware reaches it: what it
has to say (a crash traceback, a test directory it could not clean, a several-tests child that failed) goes to
its stderr. That is a file, not a pipe: a zygote must never block on a full pipe that nobody drains, and a file
keeps what a crashed zygote wrote. The controller forwards new complete lines after every batch and everything
when the zygote stops, so `--log-file` holds them even though the file goes with the scratch root at close().

Only the zygote writes here. Candidates cannot: a test child points fds 0-2 at its own memory files before the
candidate's first instruction, and their stderr is returned per result, never logged. Lines are still shown
escaped and cut short, as a crash message may quote a candidate's data.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

logger = logging.getLogger("sandbox.zygote")
MAX_FORWARD = 64 << 10
"""Bytes forwarded per call at most: a zygote in a loop of errors must not flood the log (the rest is counted)."""
MAX_LINE = 2000
"""Characters kept of one line."""


class ZygoteLog:
    """The stderr file of one slot's zygote (it outlives restarts: each zygote appends to it)."""

    def __init__(self, path: Path, index: int) -> None:
        self.path = path
        self.index = index
        self._forwarded = 0
        """Bytes of the file already forwarded (or skipped)."""
        self._lock = threading.Lock()
        """A batch's thread and close() may forward at once: each line must go out once."""

    def open_for_zygote(self) -> int:
        """A new file descriptor for the zygote's stderr (the caller closes its copy once the zygote holds it)."""
        # 0600 and never through a symlink: it holds errors of ours that may quote candidates' data.
        return os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)

    def forward(self, final: bool = False) -> None:
        """Log what the zygote wrote since the last call, one WARNING per line: it writes only when something
        went wrong. Without `final` a partial last line waits (the zygote may be writing it). Never raises."""
        with self._lock:
            try:
                with open(self.path, "rb") as f:
                    end = os.fstat(f.fileno()).st_size
                    start = max(self._forwarded, end - MAX_FORWARD)
                    f.seek(start)
                    data = f.read(end - start)
            except OSError:
                return  # no file (never started, or already removed): nothing to say
            skipped = start - self._forwarded
            if not final:
                data = data[: data.rfind(b"\n") + 1]
            self._forwarded = start + len(data)
        if skipped:
            logger.warning("zygote %d: %d bytes of its log skipped (too many at once)", self.index, skipped)
        for line in data.decode("utf-8", "replace").splitlines():
            if line.strip():
                logger.warning("zygote %d: %s", self.index, _printable(line[:MAX_LINE]))

    def tail(self) -> str:
        """The end of the file, for error messages about this zygote ('' when it said nothing)."""
        try:
            tail = self.path.read_bytes()[-1500:].decode("utf-8", "replace").strip()
        except OSError:
            return ""
        return f" (zygote log: {tail})" if tail else ""


def _printable(text: str) -> str:
    """Control characters (terminal escapes, carriage returns) shown escaped: a log line stays one plain line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == "\t" else repr(c)[1:-1] for c in text)
