"""The typed inputs and outputs of every sampling backend."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

FinishReason = Literal["stop", "eos", "length"]
_FINISH_REASONS = ("stop", "eos", "length")


@dataclass(frozen=True)
class SamplingParams:
    """How to sample completions; shared by all requests of one ``sample`` call."""

    temperature: float = 0.25
    """Softmax temperature; 0 means greedy decoding (argmax)."""
    top_p: float = 1.0
    """Nucleus sampling: keep the smallest set of tokens whose probability reaches top_p; 1.0 disables it."""
    top_k: int = 0
    """Keep only the k most likely tokens; 0 disables it."""
    max_new_tokens: int = 512
    """Upper bound on generated tokens per sample (finish_reason "length" when reached)."""
    seed: int = 0
    """Seed of the per-sample random streams: same seed and requests give the same completions."""
    stop: tuple[str, ...] = ("```",)
    """Strings that end a sample; matched on the decoded new text only and removed from Completion.text."""
    batch_size: int | None = None
    """Rows decoded together; None picks one from free memory (psutil on CPU, CUDA memory on GPU)."""
    ignore_eos: bool = False
    """Keep sampling past end-of-sequence tokens (finish_reason "length" or "stop" only): benchmarks use it with
    ``stop=()`` to fix every sample's length, so throughput does not depend on what the weights say."""

    def __post_init__(self) -> None:
        if (
            not (isinstance(self.temperature, (int, float)) and math.isfinite(self.temperature))
            or self.temperature < 0
        ):
            raise ValueError(f"temperature must be a finite number >= 0, got {self.temperature!r}")
        if not isinstance(self.top_p, (int, float)) or not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p!r}")
        if not isinstance(self.top_k, int) or isinstance(self.top_k, bool) or self.top_k < 0:
            raise ValueError(f"top_k must be an integer >= 0, got {self.top_k!r}")
        if (
            not isinstance(self.max_new_tokens, int)
            or isinstance(self.max_new_tokens, bool)
            or self.max_new_tokens < 1
        ):
            raise ValueError(f"max_new_tokens must be an integer >= 1, got {self.max_new_tokens!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")
        if not isinstance(self.stop, tuple) or not all(isinstance(s, str) and s for s in self.stop):
            raise ValueError(f"stop must be a tuple of non-empty strings, got {self.stop!r}")
        if self.batch_size is not None and (
            not isinstance(self.batch_size, int) or isinstance(self.batch_size, bool) or self.batch_size < 1
        ):
            raise ValueError(f"batch_size must be None or an integer >= 1, got {self.batch_size!r}")
        if not isinstance(self.ignore_eos, bool):
            raise ValueError(f"ignore_eos must be a bool, got {self.ignore_eos!r}")

    @property
    def greedy(self) -> bool:
        """Whether decoding is deterministic argmax (temperature 0)."""
        return self.temperature == 0


@dataclass(frozen=True)
class PromptRequest:
    """One prompt to sample ``count`` completions from; its prompt is encoded once and shared by all of
    them."""

    prompt: str
    """The full model input text, chat template already applied."""
    count: int
    """How many completions to sample from this prompt."""
    first_index: int | None = None
    """Global sample_index of this request's first sample (it picks the samples' random streams); None: right
    after the previous request's samples. Lets a caller that splits one job over several ``sample`` calls (Ray
    shards, a resumed benchmark) draw exactly the samples one call would have drawn."""
    grammar: str | None = None
    """An EBNF grammar (xgrammar's dialect, root rule ``root``) every completion must follow: a token mask per
    step keeps each sample inside it, and a sample ends (eos) once it is a full sentence. None: unconstrained.
    Backends that cannot constrain raise ``UnsupportedConstraint`` rather than ignore it."""
    group: int = 0
    """The prompt group it comes from, in its problem's plan (0 for a repair or test-input prompt). A mix of models
    (`sampling.mix.MixSampler`) draws group g with model g mod k; one model ignores it."""

    def __post_init__(self) -> None:
        if not isinstance(self.prompt, str) or not self.prompt:
            raise ValueError(f"prompt must be a non-empty string, got {self.prompt!r:.40}")
        if not isinstance(self.count, int) or isinstance(self.count, bool) or self.count < 1:
            raise ValueError(f"count must be an integer >= 1, got {self.count!r}")
        if self.first_index is not None and (
            not isinstance(self.first_index, int) or isinstance(self.first_index, bool) or self.first_index < 0
        ):
            raise ValueError(f"first_index must be None or an integer >= 0, got {self.first_index!r}")
        if not isinstance(self.group, int) or isinstance(self.group, bool) or self.group < 0:
            raise ValueError(f"group must be an integer >= 0, got {self.group!r}")
        if self.grammar is not None and (not isinstance(self.grammar, str) or "root" not in self.grammar):
            raise ValueError(f"grammar must be None or EBNF text with a root rule, got {self.grammar!r:.40}")


@dataclass(frozen=True)
class Completion:
    """One sampled completion."""

    request_index: int
    """Index of its PromptRequest in the list passed to ``sample``."""
    sample_index: int
    """Global, stable index 0..total-1: request i's samples come after those of requests 0..i-1."""
    text: str
    """The decoded new text, stop string (and everything after it) removed."""
    num_tokens: int
    """Tokens generated for this sample, including the one that completed the stop string or the EOS token."""
    finish_reason: FinishReason
    """"stop" (a stop string), "eos" (end-of-sequence token) or "length" (max_new_tokens reached)."""

    def __post_init__(self) -> None:
        if self.request_index < 0 or self.sample_index < 0:
            raise ValueError(f"indices must be >= 0, got {self.request_index}, {self.sample_index}")
        if self.num_tokens < 0:
            raise ValueError(f"num_tokens must be >= 0, got {self.num_tokens}")
        if self.finish_reason not in _FINISH_REASONS:
            raise ValueError(f"finish_reason must be one of {_FINISH_REASONS}, got {self.finish_reason!r}")


def sample_offsets(requests: list[PromptRequest]) -> list[int]:
    """The global sample_index of each request's first sample: its ``first_index``, else right after the
    previous request's samples (a prefix sum of the counts)."""
    offsets: list[int] = []
    total = 0
    for req in requests:
        start = total if req.first_index is None else req.first_index
        offsets.append(start)
        total = start + req.count
    return offsets
