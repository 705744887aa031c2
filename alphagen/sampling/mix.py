"""A mix of models: each prompt group drawn by one of several samplers, as AlphaCode drew from two model sizes.

The models must share a tokenizer and chat template (one prompt text serves all; Qwen2.5-Coder 0.5B and 1.5B do),
since prompts are rendered once with the first model's tokenizer. Group g of a problem's plan goes to model g mod k,
so at `-n 16` with 8 samples a prompt the 0.5B draws samples 0-7 and the 1.5B samples 8-15. On the 58 CodeContests
A/B rows the two Qwen sizes solved disjoint problems at `-n 16`, but no split of a budget between them covers more
than the 1.5B alone (`benchmarks.mix_estimate`, docs/quality.md, session 17): an option, not a default.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from alphagen.sampling.factory import Sampler
from alphagen.sampling.params import Completion, PromptRequest, SamplingParams, sample_offsets
from alphagen.stages import Advance


class MixSampler:
    """Routes each request to the sampler of its group (`PromptRequest.group` mod the number of samplers).

    Every request keeps the sample indices it has in the whole call (`first_index` made explicit), so each sample
    has the random stream it would have alone and a mix draws, model by model, the very samples each model would
    draw for those indices. The samplers run one after the other; completions come back with their request's index
    in the caller's list."""

    def __init__(self, samplers: Sequence[Sampler]) -> None:
        if len(samplers) < 2:
            raise ValueError(f"a mix needs at least 2 samplers, got {len(samplers)}")
        self.samplers = list(samplers)

    def sample(
        self, requests: list[PromptRequest], params: SamplingParams, progress: Advance | None = None
    ) -> Iterator[Completion]:
        k = len(self.samplers)
        routed: list[list[tuple[int, PromptRequest]]] = [[] for _ in range(k)]
        for i, (req, offset) in enumerate(zip(requests, sample_offsets(requests), strict=True)):
            routed[req.group % k].append((i, replace(req, first_index=offset)))
        for sampler, mine in zip(self.samplers, routed, strict=True):
            if not mine:
                continue
            for c in sampler.sample([req for _, req in mine], params, progress):
                yield replace(c, request_index=mine[c.request_index][0])
