"""The embedded model's exact architecture with random weights, for throughput benchmarks on any machine.

Sampling throughput does not depend on weight values, only on shapes, so a GPU box without the model (or any
network) can still measure it. The config and tokenizer files are shipped in ``alphagen/models/arch/<name>/``
(tokenizer.json xz-compressed: 11 MB -> 1.4 MB); only the weights are made up.
"""

from __future__ import annotations

import lzma
import shutil
from pathlib import Path

import torch

from alphagen.models.cache import cache_root, write_dir_atomic
from alphagen.models.errors import ModelError
from alphagen.models.loader import LoadedModel, pick_device, pick_dtype
from alphagen.models.packed_linear import pack_for_cpu
from alphagen.models.registry import DEFAULT_MODEL

ARCH_DIR = Path(__file__).parent / "arch"
_PLAIN_FILES = ("config.json", "generation_config.json", "tokenizer_config.json", "chat_template.jinja")


def arch_names() -> list[str]:
    """The model names whose architecture ships with alphagen."""
    return sorted(p.name for p in ARCH_DIR.iterdir() if (p / "config.json").is_file())


def arch_dir(name: str = DEFAULT_MODEL) -> Path:
    """A Hugging Face-format directory with the shipped config and (decompressed) tokenizer, no weights."""
    src = ARCH_DIR / name
    if not (src / "config.json").is_file():
        raise ModelError(f"no shipped architecture for {name!r}; known: {', '.join(arch_names())}")
    dest = cache_root() / "arch" / name
    if (dest / "tokenizer.json").is_file():
        return dest

    def write(tmp: Path) -> None:
        # Decompress once into the cache: transformers reads tokenizer.json by path.
        for fname in _PLAIN_FILES:
            if (src / fname).is_file():
                shutil.copyfile(src / fname, tmp / fname)
        with lzma.open(src / "tokenizer.json.xz") as f:
            (tmp / "tokenizer.json").write_bytes(f.read())

    return write_dir_atomic(dest, write)


def load_random_model(
    name: str = DEFAULT_MODEL, device: str | None = None, dtype: str | None = None, seed: int = 0
) -> LoadedModel:
    """The named model's architecture and tokenizer with seeded random weights, on ``device`` in ``dtype``.

    dtype defaults as for real models (bf16 on GPU and on CPUs with bf16 units, fp32 elsewhere).
    """
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    directory = arch_dir(name)
    dev = pick_device(device)
    dt = pick_dtype(dtype, dev)
    config = AutoConfig.from_pretrained(directory)
    tok = AutoTokenizer.from_pretrained(directory)
    torch.manual_seed(seed)
    # Build straight on the target device in the target dtype: no fp32 CPU copy of a model that may be large.
    with torch.device(dev):
        model = AutoModelForCausalLM.from_config(config, dtype=dt)
    model.generation_config = GenerationConfig.from_pretrained(directory)
    model.eval()
    pack_for_cpu(model, dev, dt)  # as load_model does: the default path of a real model
    return LoadedModel(model=model, tokenizer=tok, name=f"{name} (random weights)", device=dev, dtype=dt)
