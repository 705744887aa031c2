"""A joined GGUF file of an embedded model, kept in the cache for backends that load GGUF directly
(llama.cpp).

The transformers path converts the GGUF to safetensors once and deletes it; llama.cpp needs the file itself.
"""

from __future__ import annotations

from pathlib import Path

from alphagen.models.cache import cache_root
from alphagen.models.gguf_parts import join_parts
from alphagen.models.registry import DEFAULT_MODEL, REGISTRY


def cached_gguf(name: str = DEFAULT_MODEL) -> Path:
    """The path of the embedded model's joined GGUF (``<cache>/gguf/<name>.gguf``), joining the parts once."""
    entry = REGISTRY[name]
    path = cache_root() / "gguf" / f"{name}.gguf"
    # join_parts verifies size and sha256 and renames atomically, so an existing file is a complete, checked one.
    if path.is_file() and (entry.size is None or path.stat().st_size == entry.size):
        return path
    return join_parts(entry, path)
