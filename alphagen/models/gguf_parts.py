"""Find the installed GGUF part files of an embedded model, join them in order and verify the result."""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
from pathlib import Path

from alphagen.models.cache import write_file_atomic
from alphagen.models.errors import ModelError
from alphagen.models.registry import EmbeddedModel

GGUF_MAGIC = b"GGUF"
_CHUNK = 1 << 24


def part_files(entry: EmbeddedModel) -> list[Path]:
    """The installed part files in join order, or a ModelError saying which extra to install."""
    paths: list[Path] = []
    for dist_name in entry.part_distributions():
        # importlib.metadata finds the data file wherever pip put it (venv, user site, system site).
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            raise ModelError(
                f"model {entry.name!r} is not installed (missing package {dist_name}); "
                f"install it with: pip install 'alphagen[{entry.extra}]'"
            ) from None
        if dist.version != entry.version:
            raise ModelError(
                f"package {dist_name} must be version {entry.version}, got {dist.version}; "
                f"reinstall with: pip install 'alphagen[{entry.extra}]'"
            )
        bins = sorted(str(f) for f in (dist.files or []) if str(f).endswith(".bin") and "/data/" in f"/{f}")
        if len(bins) != 1:
            raise ModelError(f"package {dist_name} must hold exactly one data/partNN.bin, found {len(bins)}")
        paths.append(Path(str(dist.locate_file(bins[0]))))
    return paths


def join_parts(entry: EmbeddedModel, dest: Path) -> Path:
    """Concatenate the parts into ``dest`` (atomically), checking size, magic and sha256; returns ``dest``."""
    sources = part_files(entry)

    def write(tmp: Path) -> None:
        digest = hashlib.sha256()
        total = 0
        with tmp.open("wb") as out:
            for src in sources:
                with src.open("rb") as f:
                    # Stream in chunks: the joined file is hundreds of MB and need not sit in memory.
                    while chunk := f.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        total += len(chunk)
        _verify(entry, tmp, total, digest.hexdigest())

    return write_file_atomic(dest, write)


def _verify(entry: EmbeddedModel, path: Path, size: int, sha256: str) -> None:
    """Refuse a joined file whose size, hash or magic bytes are wrong (a broken or mixed-up install)."""
    if entry.size is not None and size != entry.size:
        raise ModelError(
            f"joined GGUF for {entry.name!r} must be {entry.size} bytes, got {size}; reinstall the extra"
        )
    if entry.sha256 is not None and sha256 != entry.sha256:
        raise ModelError(f"joined GGUF for {entry.name!r} has sha256 {sha256}, expected {entry.sha256}")
    with path.open("rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise ModelError(f"joined file for {entry.name!r} is not a GGUF file (bad magic bytes)")
