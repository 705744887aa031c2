"""Model loading: the embedded Qwen2.5-Coder GGUF (converted once into a safetensors cache entry), local
directories, .gguf files, hub ids."""

from alphagen.models.converted import CONVERTER_VERSION, converted_dir
from alphagen.models.errors import ModelError
from alphagen.models.loader import LoadedModel, load_model, pick_device, pick_dtype
from alphagen.models.registry import DEFAULT_MODEL, REGISTRY, EmbeddedModel

__all__ = [
    "CONVERTER_VERSION",
    "DEFAULT_MODEL",
    "REGISTRY",
    "EmbeddedModel",
    "LoadedModel",
    "ModelError",
    "converted_dir",
    "load_model",
    "pick_device",
    "pick_dtype",
]
