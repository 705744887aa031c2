"""make_sampler: pick a sampling backend by name."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import Protocol

import torch

from alphagen.models import LoadedModel
from alphagen.sampling.params import Completion, PromptRequest, SamplingParams
from alphagen.stages import Advance

BACKENDS = ("hf", "generate", "vllm", "llamacpp")


class Sampler(Protocol):
    """What every backend offers: stream completions of several prompt requests."""

    def sample(
        self,
        requests: list[PromptRequest],
        params: SamplingParams,
        progress: Advance | None = None,
    ) -> Iterator[Completion]:
        """Yield one Completion per requested sample, as they are produced; `progress` gets the count of samples
        finished (a one-count `stages.Advance`: the caller knows which stage the samples are for)."""
        ...


def make_sampler(lm: LoadedModel, backend: str = "hf") -> Sampler:
    """``hf``: ours (prefix sharing + continuous batching); ``generate``: the baseline; ``vllm``: needs
    vLLM; ``llamacpp``: the model's GGUF on llama.cpp with our batching and random streams (needs
    llama-cpp-python)."""
    if backend == "hf":
        from alphagen.sampling.hf_sampler import HFSampler

        return HFSampler(lm)
    if backend == "generate":
        from alphagen.sampling.generate_sampler import GenerateSampler

        return GenerateSampler(lm)
    if backend == "vllm":
        from alphagen.sampling.vllm_sampler import VLLMSampler

        return VLLMSampler(lm)
    if backend == "llamacpp":
        from alphagen.sampling.llamacpp_sampler import LlamaCppSampler

        return LlamaCppSampler.from_loaded(lm)
    raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")


def llamacpp_available() -> bool:
    """Whether llama-cpp-python is installed (checked without importing it: the import loads native code)."""
    return importlib.util.find_spec("llama_cpp") is not None


def default_backend(device: torch.device) -> str:
    """The backend a user gets with no ``--backend``: ours (``hf``) everywhere, measured faster than llama.cpp
    on the CPU here (docs/sampling.md)."""
    del device  # the choice does not depend on the device today; kept so callers need not change if it does
    return "hf"
