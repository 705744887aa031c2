"""Atomic file writes: readers (a resumed run, a concurrent model loader) see the old file or the whole new one.

The one helper behind the run directory's summaries and reports and the model cache's files.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def write_file_atomic(dest: Path, writer: Callable[[Path], None]) -> Path:
    """Call ``writer(tmp_path)`` on a fresh sibling of ``dest``, fsync it, and rename it onto ``dest``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    # A sibling, so the rename stays on one filesystem (atomic); a random name, so concurrent writers (processes
    # filling the same cache entry) never share a temporary file. O_EXCL creates it with the usual umask-based
    # mode, the mode a plain open() would have given dest.
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        writer(tmp)
        # Durable before it becomes visible: after a crash the rename never points at unwritten blocks.
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def write_atomic(dest: Path, data: str | bytes) -> Path:
    """Write text (UTF-8) or bytes to ``dest`` atomically."""
    payload = data.encode("utf-8") if isinstance(data, str) else data

    def write(tmp: Path) -> None:
        tmp.write_bytes(payload)

    return write_file_atomic(dest, write)
