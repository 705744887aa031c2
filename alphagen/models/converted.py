"""GGUF weights converted once: de-quantized into a Hugging Face directory in the cache, read by every later load.

Layout: ``<cache>/converted/<sha256 of the GGUF, 24 hex>-c<CONVERTER_VERSION>-<dtype>/`` holds ``config.json``,
``generation_config.json``, the tokenizer files and ``model.safetensors`` in the dtype we sample with, plus
``alphagen-converted.json`` (what was converted, and every file's size). transformers' ``from_pretrained`` and
vLLM load it by path. An entry appears only by renaming a finished temporary directory, so readers never see half
of one; one that was damaged later (truncated, a file removed) fails the manifest's check and is rebuilt. Two
processes converting the same GGUF take turns on a lock file: the second finds the first's entry and reads it.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import gc
import json
import logging
import os
import secrets
import shutil
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from alphagen.models.cache import cache_root, write_dir_atomic
from alphagen.models.content_hash import content_hash
from alphagen.models.errors import ModelError
from alphagen.models.gguf_parts import join_parts, part_files
from alphagen.models.registry import DEFAULT_MODEL, REGISTRY, EmbeddedModel

if TYPE_CHECKING:
    # Types only: transformers is imported when a GGUF is converted, not when this module is.
    from transformers import PreTrainedTokenizerBase

    from alphagen.models.loader import CausalLM

log = logging.getLogger(__name__)

CONVERTER_VERSION = 2
"""Bump whenever the conversion's output changes (tensors, config, tokenizer files): old entries are then ignored.
1 was the fp32 copy under ``<cache>/models/<name>/``, keyed by name only."""
MANIFEST = "alphagen-converted.json"
WEIGHTS = "model.safetensors"


@dataclass(frozen=True)
class GgufSource:
    """A GGUF's bytes: one ``.gguf`` file, or an embedded model's installed parts in join order."""

    name: str
    """What the user named: the registry name or the file path."""
    files: tuple[Path, ...]
    """The file, or the parts whose concatenation is the GGUF."""
    entry: EmbeddedModel | None = None
    """The registry entry of an embedded model (its parts are joined and verified before converting)."""

    def __post_init__(self) -> None:
        if not self.files:
            raise ValueError(f"files must name the GGUF or its parts, got none for {self.name!r}")
        if self.entry is None and len(self.files) != 1:
            raise ValueError(f"a GGUF file source must be one file, got {len(self.files)}")

    @classmethod
    def resolve(cls, model: str | Path | None) -> GgufSource:
        """The source of a registry name (None: the embedded 0.5B) or a ``.gguf`` path; a ModelError otherwise."""
        spec = str(model) if model is not None else DEFAULT_MODEL
        if spec in REGISTRY:
            entry = REGISTRY[spec]
            return cls(name=spec, files=tuple(part_files(entry)), entry=entry)
        path = Path(spec).expanduser()
        if path.suffix == ".gguf" and path.is_file():
            return cls(name=spec, files=(path,))
        raise ModelError(
            f"model must be an embedded model ({', '.join(sorted(REGISTRY))}) or an existing .gguf file to "
            f"convert, got {spec!r}"
        )


@dataclass(frozen=True)
class Conversion:
    """Where a GGUF's converted weights are: the cache entry, or (cache not writable) a model in memory."""

    directory: Path | None
    """The complete cache entry; None when it could not be written."""
    model: CausalLM | None = None
    """The converted model (only when ``directory`` is None)."""
    tokenizer: PreTrainedTokenizerBase | None = None
    """Its tokenizer (only when ``directory`` is None)."""
    problem: str | None = None
    """Why there is no cache entry, one line (only when ``directory`` is None)."""


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.bfloat16`` -> ``bfloat16``: the name in entry directories and manifests."""
    return str(dtype).removeprefix("torch.")


def entry_dir(root: Path, sha256: str, dtype: torch.dtype) -> Path:
    """The cache entry of a GGUF (by content) converted by this converter version into ``dtype``."""
    return root / "converted" / f"{sha256[:24]}-c{CONVERTER_VERSION}-{dtype_name(dtype)}"


def entry_is_complete(directory: Path, sha256: str, dtype: torch.dtype) -> bool:
    """Whether ``directory`` is a whole entry for this GGUF, converter version and dtype.

    Checks the manifest, every file's size, and that the safetensors header describes exactly the file's bytes:
    a stat per file and a read of the header (tens of KB), never the weights.
    """
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
        files = manifest["files"]
        if (
            manifest.get("converter_version") != CONVERTER_VERSION
            or manifest.get("gguf_sha256") != sha256
            or manifest.get("dtype") != dtype_name(dtype)
            or not isinstance(files, dict)
            or not {WEIGHTS, "config.json"} <= files.keys()
        ):
            return False
        for name, size in files.items():
            if (directory / name).stat().st_size != size:
                return False
        return _safetensors_is_whole(directory / WEIGHTS)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _safetensors_is_whole(path: Path) -> bool:
    """The header parses and its last tensor ends exactly at the end of the file."""
    size = path.stat().st_size
    with path.open("rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        if 8 + header_len > size:
            return False
        header = json.loads(f.read(header_len))
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
    return bool(ends) and max(ends) == size - 8 - header_len


def convert_gguf(file: Path, dtype: torch.dtype) -> tuple[CausalLM, PreTrainedTokenizerBase]:
    """De-quantize a GGUF file through transformers into a model in ``dtype`` and its tokenizer (the slow part
    the cache exists to do once)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        import gguf  # noqa: F401
    except ImportError:
        raise ModelError("loading .gguf files needs the gguf package: pip install 'alphagen[model]'") from None
    try:
        tok = AutoTokenizer.from_pretrained(file.parent, gguf_file=file.name)
        model = AutoModelForCausalLM.from_pretrained(file.parent, gguf_file=file.name, dtype=dtype)
    except (OSError, ValueError) as exc:
        raise ModelError(f"could not load GGUF file {str(file)!r}: {_first_line(exc)}") from exc
    return model, tok


def save_converted(model: CausalLM, tok: PreTrainedTokenizerBase, out: Path, manifest: dict[str, Any]) -> None:
    """Write config, generation config, tokenizer and weights (safetensors, the model's dtype), then the manifest
    listing them: a directory ``from_pretrained`` and vLLM load."""
    from safetensors.torch import save_model

    # transformers 5 refuses save_pretrained on GGUF-loaded models, so save the parts by hand.
    config = copy.deepcopy(model.config)
    # The GGUF quantization marker would make from_pretrained look for a GGUF file; the weights are plain now.
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    config.save_pretrained(out)
    if getattr(model, "generation_config", None) is not None:
        model.generation_config.save_pretrained(out)
    tok.save_pretrained(out)
    # save_model drops the duplicate of tied tensors (lm_head == embed_tokens), which save_file would refuse.
    save_model(model, str(out / WEIGHTS))
    files = {str(p.relative_to(out)): p.stat().st_size for p in sorted(out.rglob("*")) if p.is_file()}
    for name in files:
        # Durable before the rename makes the entry visible: after a crash it never points at unwritten blocks.
        _fsync(out / name)
    (out / MANIFEST).write_text(json.dumps(manifest | {"files": files}, indent=1))
    _fsync(out / MANIFEST)


def _fsync(path: Path) -> None:
    with path.open("rb") as f:
        os.fsync(f.fileno())


def convert_cached(source: GgufSource, dtype: torch.dtype, cache_dir: str | Path | None = None) -> Conversion:
    """The cache entry of ``source`` in ``dtype`` under ``cache_dir`` (None: ``cache_root()``), converting the
    GGUF only when there is no complete entry. When the cache cannot be written, the conversion is returned in
    memory with the reason, never an exception."""
    root = Path(cache_dir).expanduser() if cache_dir is not None else cache_root()
    try:
        sha = content_hash(source.files, root)
    except OSError as exc:
        raise ModelError(f"could not read the GGUF of {source.name!r}: {exc.strerror or exc}") from None
    dest = entry_dir(root, sha, dtype)
    # A warm start: stats and a header read, no GGUF, no conversion.
    if entry_is_complete(dest, sha, dtype):
        log.info("reading %s's converted weights from %s", source.name, dest)
        return Conversion(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        lock = _lock(dest.parent / f".{dest.name}.lock")
    except OSError as exc:
        return _in_memory(source, dtype, f"cache directory {dest.parent} is not writable ({_os_reason(exc)})")
    with lock:
        # Another process may have finished the entry while this one waited for the lock.
        if entry_is_complete(dest, sha, dtype):
            return Conversion(dest)
        try:
            _discard(dest)
        except OSError as exc:
            return _in_memory(source, dtype, f"could not remove the broken cache entry {dest} ({_os_reason(exc)})")
        model, tok = _convert(source, dtype, scratch=dest.parent)
        manifest = {"converter_version": CONVERTER_VERSION, "gguf_sha256": sha, "dtype": dtype_name(dtype),
                    "source": source.name}
        try:
            write_dir_atomic(dest, functools.partial(save_converted, model, tok, manifest=manifest))
        except OSError as exc:
            return Conversion(None, model, tok, f"could not write the cache entry {dest} ({_os_reason(exc)})")
    # Loads read the entry (mmap) like a warm start, so cold and warm runs sample from the very same tensors.
    del model, tok
    gc.collect()
    return Conversion(dest)


def converted_dir(
    model: str | Path | None = None, cache_dir: str | Path | None = None, dtype: torch.dtype | str | None = None
) -> Path:
    """A Hugging Face-format directory holding ``model``'s weights, for loaders by path (transformers, vLLM).

    ``model``: an embedded model's name (None: the default), a ``.gguf`` file (converted once into the cache, as
    ``load_model`` does), or a Hugging Face directory (returned as it is). ``dtype``: the weights' dtype (None or
    "auto": what ``load_model`` picks on this machine's default device). Raises ModelError (one line) when the
    model cannot be found or the cache cannot be written.
    """
    # Imported here: the loader imports this module.
    from alphagen.models.loader import pick_device, pick_dtype

    if model is not None and Path(model).expanduser().is_dir():
        return Path(model).expanduser()
    dt = dtype if isinstance(dtype, torch.dtype) else pick_dtype(dtype, pick_device(None))
    conversion = convert_cached(GgufSource.resolve(model), dt, cache_dir)
    if conversion.directory is None:
        raise ModelError(f"no converted weights for {model or DEFAULT_MODEL!r}: {conversion.problem}")
    return conversion.directory


def _convert(source: GgufSource, dtype: torch.dtype, scratch: Path) -> tuple[CausalLM, PreTrainedTokenizerBase]:
    """The GGUF de-quantized into a model; an embedded model's parts are first joined (and verified) into a
    temporary file in ``scratch``, deleted afterwards."""
    if source.entry is None:
        log.info("converting %s from GGUF into %s (once; later loads read the converted copy)", source.name,
                 dtype_name(dtype))
        return convert_gguf(source.files[0], dtype)
    # Each converter joins into its own file, so a concurrent one never reads or deletes a shared one.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{source.entry.name}.", suffix=".gguf", dir=scratch)
    os.close(fd)
    joined = Path(tmp_name)
    try:
        log.info("joining the %d GGUF parts of %s", source.entry.num_parts, source.name)
        join_parts(source.entry, joined)
        log.info("converting %s from GGUF into %s (once; later loads read the converted copy)", source.name,
                 dtype_name(dtype))
        return convert_gguf(joined, dtype)
    finally:
        joined.unlink(missing_ok=True)


def _in_memory(source: GgufSource, dtype: torch.dtype, problem: str) -> Conversion:
    """Convert without a cache entry (the system temp directory holds an embedded model's joined GGUF)."""
    model, tok = _convert(source, dtype, scratch=Path(tempfile.gettempdir()))
    return Conversion(None, model, tok, problem)


def _discard(directory: Path) -> None:
    """Move a broken entry out of the way (one rename, so no reader sees it half deleted), then delete it."""
    if not (directory.exists() or directory.is_symlink()):
        return
    log.warning("cache entry %s is incomplete or damaged: converting it again", directory)
    trash = directory.with_name(f".{directory.name}.broken.{os.getpid()}.{secrets.token_hex(4)}")
    os.rename(directory, trash)
    if trash.is_dir() and not trash.is_symlink():
        shutil.rmtree(trash, ignore_errors=True)
    else:
        trash.unlink(missing_ok=True)


@contextlib.contextmanager
def _lock_held(fd: int) -> Iterator[None]:
    try:
        yield
    finally:
        # Closing the descriptor releases the lock (also when the process dies: the kernel closes it).
        os.close(fd)


def _lock(path: Path) -> contextlib.AbstractContextManager[None]:
    """An exclusive lock on ``path`` (created if missing), waited for; a no-op where flock does not exist."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o666)
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)
    except ImportError:  # pragma: no cover - not POSIX: the atomic rename alone keeps entries whole
        pass
    except OSError:
        os.close(fd)
        raise
    return _lock_held(fd)


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _first_line(exc: BaseException) -> str:
    """The first line of an exception message, so errors stay one line."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
