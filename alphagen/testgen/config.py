"""Settings and result of the test-input stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Source(StrEnum):
    """Where a test input comes from (alphagen.testgen.sources: one class each)."""

    MUTATION = "mutation"
    RANDOM = "random"
    MODEL = "model"
    GENERATOR = "generator"


SOURCES: tuple[str, ...] = tuple(s.value for s in Source)


@dataclass(frozen=True)
class TestGenConfig:
    """How extra clustering inputs are proposed and which of them are kept. Validated when built."""

    __test__ = False  # not a pytest test class despite the name

    sources: tuple[str, ...] = SOURCES
    """Where inputs come from: mutation (of the examples), random (fresh inputs in the format learned from the
    examples), model (written directly), generator (model-written Python input generators run in the sandbox
    with several seeds). Model sources need a sampler."""
    num_mutations: int = 30
    """How many mutated example inputs to propose."""
    num_random: int = 30
    """How many fresh inputs the random source proposes."""
    num_model_samples: int = 16
    """How many inputs the test-input model writes directly (one batch)."""
    num_generator_programs: int = 4
    """How many input-generator programs the model writes."""
    seeds_per_generator: int = 5
    """How many seeds each generator program is run with (one input per seed)."""
    max_inputs: int = 80
    """At most this many validated inputs are returned. 80, not 40: with the four sources interleaved, a cap of 40
    left the model-free ones half their slots and all sources together separated fewer wrong programs (89.4%) than
    mutation + random alone (96.3%) on the testgen benchmark."""
    min_clean_fraction: float = 0.5
    """An input is kept only if at least this fraction of the checked survivors run on it without crashing,
    timing out or exceeding a limit."""
    clean_check_programs: int = 8
    """At most this many survivors (a seeded sample) run each candidate input for the clean-run check."""
    slow_check_time_share: float = 0.25
    """A checked survivor that timed out once gets this share of the time limit for its later clean-run checks:
    one time-out says it is slow on this problem's large inputs, and each further input it cannot run then costs
    a fraction of a limit instead of a whole one (762A: every survivor loops to n <= 10^15). 1.0: always the full
    limit."""
    presume_timeouts: bool = True
    """A slow checker (see slow_check_time_share) is presumed, without running, to time out on every later input at
    least as long as one it timed out on: the guess only ever drops an input (1068B, 1076B: loops to n <= 10^10,
    and nearly every random n has ten digits). False: every check runs."""
    stage_budget_s: float | None = None
    """Seconds the whole stage (model sources and checks) may take on one problem, from its start: no chunk of
    checks starts past it, and the inputs then undecided are not kept (the first chunk always runs, so a problem
    keeps some inputs). None: no limit (the pipeline sets a share of the sampling time)."""
    budget_chunk: int = 8
    """Under a stage budget, at most this many inputs are checked per chunk, so the last chunk overruns the
    budget by little (without one, a chunk is 1.5 times the inputs still wanted: 120 at first)."""
    temperature: float = 0.8
    """Sampling temperature of the test-input model (higher than for programs: we want varied inputs)."""
    max_new_tokens: int = 256
    """Longest model-written input or generator program, in tokens."""
    direct_max_new_tokens: int = 128
    """Longest grammar-constrained direct input, in tokens (the grammar keeps them small; they end when
    complete)."""
    gen_body_max_new_tokens: int = 160
    """Longest `gen` body in a generator skeleton, in tokens. The bodies that print a valid input are short (40 to
    140 tokens on the benchmark); a batch lasts as long as its longest sample, and one that runs to the limit is
    almost always a ramble."""
    first_batch: int = 4
    """The model sources sample this many completions first (generator: programs); a source whose first batch
    yields no well-formed input stops there instead of sampling the rest (they often yield nothing)."""
    model_budget_s: float | None = None
    """Seconds the model sources (model, generator) may spend on one problem; a source that would start past it
    is skipped (a running batch finishes). None: no limit (the pipeline sets a share of the sampling time)."""
    max_input_bytes: int = 400_000
    """Inputs longer than this are dropped (generators may print huge inputs; they slow every survivor)."""
    scale_cap: int = 2000
    """Ordinary size mutations stay at or below this (and within the statement's constraints)."""
    large_scale: int = 20_000
    """The "grow" mutation sets a size to min(its stated maximum, this): inputs large enough to time out
    quadratic programs (a few of these per problem; each costs every survivor a run)."""

    def __post_init__(self) -> None:
        if not self.sources:
            raise ValueError(f"sources must name at least one of {', '.join(SOURCES)}, got ()")
        for s in self.sources:
            if s not in SOURCES:
                raise ValueError(f"sources must be among {', '.join(SOURCES)}, got {s!r}")
        if len(set(self.sources)) != len(self.sources):
            raise ValueError(f"sources must not repeat, got {self.sources}")
        # Given as names (the CLI, a stored config): kept as Source members (which equal their names).
        object.__setattr__(self, "sources", tuple(Source(s) for s in self.sources))
        counts = ("num_mutations", "num_random", "num_model_samples", "num_generator_programs", "seeds_per_generator")
        for name in counts:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.first_batch < 1:
            raise ValueError(f"first_batch must be >= 1, got {self.first_batch}")
        if self.model_budget_s is not None and self.model_budget_s < 0:
            raise ValueError(f"model_budget_s must be >= 0 or None, got {self.model_budget_s}")
        if self.max_inputs < 1:
            raise ValueError(f"max_inputs must be >= 1, got {self.max_inputs}")
        if not 0.0 <= self.min_clean_fraction <= 1.0:
            raise ValueError(f"min_clean_fraction must be in [0, 1], got {self.min_clean_fraction}")
        if self.clean_check_programs < 1:
            raise ValueError(f"clean_check_programs must be >= 1, got {self.clean_check_programs}")
        if not 0.0 < self.slow_check_time_share <= 1.0:
            raise ValueError(f"slow_check_time_share must be in (0, 1], got {self.slow_check_time_share}")
        if self.stage_budget_s is not None and self.stage_budget_s < 0:
            raise ValueError(f"stage_budget_s must be >= 0 or None, got {self.stage_budget_s}")
        if self.budget_chunk < 1:
            raise ValueError(f"budget_chunk must be >= 1, got {self.budget_chunk}")
        if not 0.0 <= self.temperature <= 5.0:
            raise ValueError(f"temperature must be in [0, 5], got {self.temperature}")
        if self.direct_max_new_tokens < 1:
            raise ValueError(f"direct_max_new_tokens must be >= 1, got {self.direct_max_new_tokens}")
        if self.gen_body_max_new_tokens < 1:
            raise ValueError(f"gen_body_max_new_tokens must be >= 1, got {self.gen_body_max_new_tokens}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.max_input_bytes < 16:
            raise ValueError(f"max_input_bytes must be >= 16, got {self.max_input_bytes}")
        if self.scale_cap < 1:
            raise ValueError(f"scale_cap must be >= 1, got {self.scale_cap}")
        if self.large_scale < self.scale_cap:
            raise ValueError(f"large_scale must be >= scale_cap ({self.scale_cap}), got {self.large_scale}")


@dataclass(frozen=True)
class TestInputs:
    """The validated extra inputs and how many each source proposed and kept."""

    __test__ = False

    inputs: tuple[str, ...]
    """Validated, de-duplicated inputs, at most max_inputs, deterministic for a seed."""
    counts: dict[str, int] = field(default_factory=dict)
    """<source>_proposed / <source>_valid per source, plus proposed / valid totals."""
    sources: tuple[str, ...] = ()
    """The source of each kept input (same order as `inputs`)."""
