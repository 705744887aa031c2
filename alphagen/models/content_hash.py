"""The sha256 of a GGUF's bytes, computed once per file version and remembered by (path, size, mtime).

The converted-weights cache is keyed by what the GGUF contains, not by its name: a file replaced in place gets a
new key. Hashing 400 MB costs a second or more per start, so the digest is stored in the cache (``hashes/``, one
small JSON per source) with each file's path, size, mtime and inode; a later start only stats the files. An
embedded model's GGUF is the concatenation of its part files, so its digest is the sha256 of the parts read in
order: the same value as the joined file's (the registry's published hash).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alphagen.atomic import write_atomic

__all__ = ["content_hash", "file_stamps"]

log = logging.getLogger(__name__)

_CHUNK = 1 << 24


def file_stamps(files: Sequence[Path]) -> list[dict[str, Any]]:
    """What identifies a version of each file without reading it: absolute path, size, mtime (ns), inode."""
    stamps = []
    for f in files:
        st = f.stat()
        stamps.append({"path": str(f.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "ino": st.st_ino})
    return stamps


def content_hash(files: Sequence[Path], root: Path) -> str:
    """sha256 hex digest of the files' bytes read in order; remembered under ``root/hashes`` for unchanged files.

    A memo that cannot be written (read-only cache) only costs the next start another read: never an error.
    """
    if not files:
        raise ValueError("files must name at least one file, got none")
    stamps = file_stamps(files)
    # One memo per list of paths; its stamps say whether it still describes these files.
    memo = root / "hashes" / (hashlib.sha256("\0".join(s["path"] for s in stamps).encode()).hexdigest()[:32] + ".json")
    try:
        stored = json.loads(memo.read_text())
        if stored.get("files") == stamps and _is_digest(stored.get("sha256")):
            return str(stored["sha256"])
    except (OSError, ValueError, AttributeError):
        pass  # no memo yet, or an unreadable one: hash again and rewrite it
    digest = hashlib.sha256()
    for f in files:
        with f.open("rb") as fh:
            # Streamed: the GGUF is hundreds of MB and need not sit in memory.
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    sha = digest.hexdigest()
    # Stamps taken again after the read: a file that changed while it was hashed is not remembered.
    if file_stamps(files) == stamps:
        try:
            write_atomic(memo, json.dumps({"files": stamps, "sha256": sha}, indent=1))
        except OSError as exc:
            log.debug("could not remember the hash of %s in %s: %s", files[0], memo, exc)
    return sha


def _is_digest(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)

