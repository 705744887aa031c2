"""What shapes one solve and what it runs with: `SolveConfig` (frozen, validated) and `Models` (the loaded models
and their samplers).

The lowest room of the core flow: it imports nothing of the pipeline, the draw steps or the filter, so every one
of them (and the CLI, the bench runner, Ray) can name these types without an import loop.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from alphagen import clustering, prompting

if TYPE_CHECKING:
    from alphagen.sampling.factory import Sampler
    from alphagen.testgen import TestGenConfig


@dataclass(frozen=True)
class SolveConfig:
    """Everything that shapes one solve. Validated when built."""

    n: int = 32
    """Sample budget: programs drawn from the model."""
    temperature: float = 0.8
    """Sampling temperature: 0.8, chosen by the coverage benchmark (docs/quality.md, "Why each default"): with 10
    picks it solved as many problems as AlphaCode's 0.25 on HumanEval's first 40 and the shipped 33, and the only
    CodeContests solves; each sample alone is right less often (pass@1)."""
    top_p: float = 1.0
    """Nucleus sampling mass."""
    max_new_tokens: int = 512
    """Longest program, in tokens."""
    seed: int = 0
    """Seeds prompt metadata, sampling and test generation: same seed, same result."""
    language: prompting.LanguageChoice = "python"
    """python, cpp, or mix (alternating prompt groups)."""
    samples_per_prompt: int = 8
    """Samples that share one metadata draw (and its encoded prompt prefix)."""
    use_metadata: bool = True
    """Show a random rating and tags in stdio problems' prompts (AlphaCode); function problems never show them."""
    prefill: prompting.Prefill = "fence"
    """Assistant pre-fill: the code fence only, or (function problems) the fence and the function stub."""
    num_picks: int = 10
    """How many submissions to pick."""
    ranking: clustering.Ranking = "alphacode"
    """alphacode: largest clusters first; codet: agreement x sqrt(size)."""
    testgen: TestGenConfig | None = None
    """Extra-input generation settings; None uses alphagen.testgen's defaults."""
    time_limit_s: float | None = None
    """Override the problem's time limit (seconds)."""
    memory_limit_mb: int | None = None
    """Override the problem's memory limit (MiB)."""
    repair_share: float = 0.0
    """Share of the n model samples spent repairing programs that failed an example (0: none, as AlphaCode)."""
    repair_rounds: int = 2
    """At most this many repair rounds; a round's fixes that still fail may be repaired in the next one."""
    fallback: bool = True
    """When no program passes every example of a problem whose examples are not its tests (a function problem
    with its own test harness, as HumanEval), cluster and pick among those that passed the most (picks marked
    `passed_examples=False`) rather than submit nothing. Never on a stdio problem: a judge runs its examples as
    tests, so such a pick is rejected for sure. False: AlphaCode's strict filter everywhere."""
    cache_dir: str | None = None
    """Where GGUF weights converted once are kept (None: $XDG_CACHE_HOME/alphagen); never changes results."""
    limit_probe: bool = True
    """Run the survivors on inputs at the statement's stated limits (`alphagen.limits`): a program that times out,
    runs out of memory or crashes there is picked after those that do not (stdio problems; function problems have
    no stated limits to probe), under a budget (`limits.PROBE_SHARE` of the sampling seconds). On by default since
    #29 (session 14): top-1 on the 58 contest rows at -n 64 1 -> 2 for 0.7 s a problem, the shipped 33 unchanged
    (docs/quality.md)."""
    speedup_share: float = 0.0
    """Share of the n model samples spent, after clustering, asking the model to make the programs the limit
    probe caught asymptotically faster (needs limit_probe; unspent: fresh samples)."""
    settle_min: int | None = None
    """Draw in rounds of this many samples and stop once the answer is settled (`alphagen.settle`: at least three
    samples pass the examples, all in one cluster, none too slow), with n as the cap. None: all n at once."""

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")
        if not 0.0 <= self.temperature <= 5.0:
            raise ValueError(f"temperature must be in [0, 5], got {self.temperature}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.language not in ("python", "cpp", "mix"):
            raise ValueError(f"language must be python, cpp or mix, got {self.language!r}")
        if self.num_picks < 1:
            raise ValueError(f"num_picks must be >= 1, got {self.num_picks}")
        if self.ranking not in ("alphacode", "codet"):
            raise ValueError(f"ranking must be alphacode or codet, got {self.ranking!r}")
        if self.prefill not in prompting.PREFILLS:
            raise ValueError(f"prefill must be one of {', '.join(prompting.PREFILLS)}, got {self.prefill!r}")
        if self.samples_per_prompt < 1:
            raise ValueError(f"samples_per_prompt must be >= 1, got {self.samples_per_prompt}")
        if not 0.0 <= self.repair_share < 1.0:
            raise ValueError(f"repair share must be in [0, 1), got {self.repair_share}")
        if self.repair_rounds < 1:
            raise ValueError(f"repair rounds must be >= 1, got {self.repair_rounds}")
        if not 0.0 <= self.speedup_share < 1.0 or self.repair_share + self.speedup_share >= 1.0:
            raise ValueError(f"speedup share must be in [0, 1) and leave fresh samples beside the repair share, "
                             f"got {self.speedup_share} with repair share {self.repair_share}")
        if self.speedup_share and not self.limit_probe:
            raise ValueError(f"speedup share needs the limit probe on, got speedup share {self.speedup_share}")
        if self.settle_min is not None and (self.settle_min < 1 or self.repair_share or self.speedup_share):
            raise ValueError(f"settle min must be >= 1 and is not combined with repair or speed-up shares yet, got "
                             f"{self.settle_min} with repair share {self.repair_share}, speed-up share "
                             f"{self.speedup_share}")
        if self.cache_dir is not None and not self.cache_dir.strip():
            raise ValueError(f"cache dir must be a non-empty path, got {self.cache_dir!r}")

    @property
    def first_draw(self) -> int:
        """The samples a solve draws before it first looks at what it has: n, or the first round's settle_min."""
        return self.n if self.settle_min is None else min(self.settle_min, self.n)

    def round_config(self, n: int) -> SolveConfig:
        """This config as one round of a solve that settles in rounds: n samples, drawn at once."""
        return replace(self, n=n, settle_min=None)


class ModelHandle(Protocol):
    """What a solve reads of a model: its tokenizer (prompts are built where the solve runs) and, for display, its
    name and device. A `models.LoadedModel`, or Ray's `RemoteModel` whose weights live in the actors."""

    @property
    def tokenizer(self) -> prompting.Tokenizer: ...
    @property
    def name(self) -> str: ...
    @property
    def device(self) -> object: ...


_PROBE_CHAT = [{"role": "system", "content": "You are a programmer."}, {"role": "user", "content": "Add."}]


def same_prompts(a: Any, b: Any) -> bool:
    """Whether two tokenizers read our prompts alike: one vocabulary, and one rendering of a chat (the 0.5B's and
    1.5B's Qwen templates differ only in their tool-call text, which our prompts never use)."""
    if a.get_vocab() != b.get_vocab():
        return False
    try:
        return bool(a.apply_chat_template(_PROBE_CHAT, tokenize=False, add_generation_prompt=True)
                    == b.apply_chat_template(_PROBE_CHAT, tokenize=False, add_generation_prompt=True))
    except (ValueError, AttributeError):
        # No chat template on either: the vocabulary decides.
        return getattr(a, "chat_template", None) is None and getattr(b, "chat_template", None) is None


def mix_specs(model_spec: str | None) -> list[str | None]:
    """The models of a spec: one, or a mix written `a,b` (each a registry name, directory, .gguf or hub id)."""
    if model_spec is None or "," not in model_spec:
        return [model_spec]
    specs = [s.strip() for s in model_spec.split(",")]
    if any(not s for s in specs) or len(set(specs)) != len(specs):
        raise ValueError(f"model must be one model or a comma list of distinct models, got {model_spec!r}")
    return list(specs)


@dataclass
class Models:
    """The code model and its sampler, plus the test-input model (by default the same weights)."""

    code: ModelHandle
    sampler: Sampler
    test: ModelHandle | None = None
    test_sampler: Sampler | None = None
    backend: str = "hf"

    @classmethod
    def load(
        cls,
        model_spec: str | None = None,
        test_model_spec: str | None = None,
        backend: str = "hf",
        device: str | None = None,
        quantize: str | None = None,
        dtype: str | None = None,
        cache_dir: str | None = None,
    ) -> Models:
        # Heavy imports happen here, only when a model is really needed.
        from alphagen.models import ModelError, load_model
        from alphagen.sampling import make_sampler
        from alphagen.sampling.mix import MixSampler

        specs = mix_specs(model_spec)
        code = load_model(specs[0], device=device, dtype=dtype, quantize=quantize, cache_dir=cache_dir)
        sampler: Sampler = make_sampler(code, backend=backend)
        if len(specs) > 1:
            # A mix (`--model a,b`): prompt groups alternate models. Prompts are rendered with the first model's
            # tokenizer, so every model must read them the same way.
            others = [load_model(s, device=device, dtype=dtype, quantize=quantize, cache_dir=cache_dir)
                      for s in specs[1:]]
            for other in others:
                if not same_prompts(code.tokenizer, other.tokenizer):
                    raise ModelError(f"the models of a mix must share a tokenizer and chat template, got "
                                     f"{other.name} unlike {code.name}")
            plain = sampler
            sampler = MixSampler([plain] + [make_sampler(o, backend=backend) for o in others])
            if test_model_spec is None or test_model_spec == model_spec:
                # Test inputs from the first model alone (its own sampler: a mix would route them all to it anyway).
                return cls(code=code, sampler=sampler, test=code, test_sampler=plain, backend=backend)
        if test_model_spec is None or test_model_spec == model_spec:
            return cls(code=code, sampler=sampler, test=code, test_sampler=sampler, backend=backend)
        test = load_model(test_model_spec, device=device, dtype=dtype, quantize=quantize, cache_dir=cache_dir)
        return cls(code=code, sampler=sampler, test=test, test_sampler=make_sampler(test, backend=backend))
