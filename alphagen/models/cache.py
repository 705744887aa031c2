"""Where converted models live on disk, and atomic writes so concurrent loaders never see half a file."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from alphagen.atomic import write_file_atomic

__all__ = ["cache_root", "write_dir_atomic", "write_file_atomic"]


def cache_root() -> Path:
    """The alphagen cache directory: ``$ALPHAGEN_CACHE``, else ``$XDG_CACHE_HOME/alphagen``, else
    ``~/.cache/alphagen``."""
    # An explicit override wins so CI and tests can point at a scratch directory.
    explicit = os.environ.get("ALPHAGEN_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    # XDG is the convention users on shared machines rely on to move caches off a small home directory.
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "alphagen"


def write_dir_atomic(dest: Path, writer: Callable[[Path], None]) -> Path:
    """Fill a fresh temporary directory with ``writer`` and rename it to ``dest``.

    If another process finished ``dest`` first, ours is discarded: both built the same content.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        writer(tmp)
        # mkdtemp/mkstemp create private (0700/0600) entries; give the cache the usual umask-based modes
        # instead.
        _chmod_tree(tmp)
        try:
            # rename of a directory onto a missing name is atomic; onto an existing non-empty dir it fails.
            os.rename(tmp, dest)
        except OSError:
            if not dest.is_dir():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _chmod_tree(root: Path) -> None:
    """Apply the process umask to a freshly written tree (directories 0777 & ~umask, files 0666 & ~umask)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(root, 0o777 & ~umask)
    for path in root.rglob("*"):
        os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)
