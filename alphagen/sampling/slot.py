"""One batch row's sample and the rules that end it: shared by the continuously batched backends (ours on
transformers, ours on llama.cpp), so both end samples and report them the same way."""

from __future__ import annotations

from dataclasses import dataclass, field

from alphagen.sampling.params import Completion, FinishReason, SamplingParams
from alphagen.sampling.stops import StopChecker


@dataclass
class Slot:
    """The sample a batch row currently holds; sample_index -1 means the row is idle."""

    request_index: int = -1
    sample_index: int = -1
    prompt_len: int = 0
    tokens: list[int] = field(default_factory=list)

    @property
    def active(self) -> bool:
        """Whether the row is decoding a sample."""
        return self.sample_index >= 0

    def finish_reason(self, params: SamplingParams, eos_ids: set[int], stops: StopChecker) -> FinishReason | None:
        """Why the sample ends after its latest token, or None when it goes on."""
        last = self.tokens[-1]
        if last in eos_ids and not params.ignore_eos:
            return "eos"
        # The candidate table makes the common case (a token that cannot complete a stop string) one lookup.
        if stops.candidates[last] and stops.hit(self.tokens):
            return "stop"
        if len(self.tokens) >= params.max_new_tokens:
            return "length"
        return None

    def completion(self, reason: FinishReason, stops: StopChecker) -> Completion:
        """The user-facing record of the finished sample (an EOS token is not part of its text)."""
        body = self.tokens[:-1] if reason == "eos" else self.tokens
        return Completion(
            request_index=self.request_index,
            sample_index=self.sample_index,
            text=stops.text_of(body),
            num_tokens=len(self.tokens),
            finish_reason=reason,
        )
