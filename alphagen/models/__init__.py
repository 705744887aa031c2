"""Model loading: the embedded Qwen2.5-Coder GGUF (cached as safetensors), local directories, .gguf files,
hub ids."""

from alphagen.models.errors import ModelError
from alphagen.models.loader import LoadedModel, load_model, pick_device, pick_dtype
from alphagen.models.registry import DEFAULT_MODEL, REGISTRY, EmbeddedModel

__all__ = [
    "DEFAULT_MODEL",
    "REGISTRY",
    "EmbeddedModel",
    "LoadedModel",
    "ModelError",
    "load_model",
    "pick_device",
    "pick_dtype",
]
