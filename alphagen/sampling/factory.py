"""make_sampler: pick a sampling backend by name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from alphagen.models import LoadedModel
from alphagen.sampling.params import Completion, PromptRequest, SamplingParams

BACKENDS = ("hf", "generate", "vllm")


class Sampler(Protocol):
    """What every backend offers: stream completions of several prompt requests."""

    def sample(
        self,
        requests: list[PromptRequest],
        params: SamplingParams,
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[Completion]:
        """Yield one Completion per requested sample, as they are produced."""
        ...


def make_sampler(lm: LoadedModel, backend: str = "hf") -> Sampler:
    """``hf``: ours (prefix sharing + continuous batching); ``generate``: the baseline; ``vllm``: needs
    vLLM."""
    if backend == "hf":
        from alphagen.sampling.hf_sampler import HFSampler

        return HFSampler(lm)
    if backend == "generate":
        from alphagen.sampling.generate_sampler import GenerateSampler

        return GenerateSampler(lm)
    if backend == "vllm":
        from alphagen.sampling.vllm_sampler import VLLMSampler

        return VLLMSampler(lm)
    raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
