"""Sampling completions: our prefix-sharing continuous-batching sampler, the generate baseline, and vLLM."""

from alphagen.sampling.factory import BACKENDS, Sampler, make_sampler
from alphagen.sampling.params import Completion, PromptRequest, SamplingParams

__all__ = ["BACKENDS", "Completion", "PromptRequest", "Sampler", "SamplingParams", "make_sampler"]
