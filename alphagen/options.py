"""The pipeline options `alphagen solve` and `alphagen bench` share: defined once, defaults read from SolveConfig.

Every pipeline setting a user can pass has one option here, with one help text and the default of the matching
`SolveConfig` / `TestGenConfig` field (so a changed default in the dataclass changes both commands). The
decorator hands the command one `PipelineOptions` instead of twenty keyword arguments, already validated.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import MISSING, dataclass
from datetime import date, datetime
from typing import Any, TypeVar

import click

from alphagen.config import mix_specs
from alphagen.console import console, plural
from alphagen.distributed.cli import RAY_HELP
from alphagen.pipeline import SolveConfig
from alphagen.problems import Problem, released_since
from alphagen.prompting import PREFILLS
from alphagen.testgen.config import SOURCES, TestGenConfig

# The sampler backends (alphagen.sampling.factory.BACKENDS; importing that module imports torch, which `--help`
# must not). tests/test_options.py keeps the two lists equal.
BACKENDS = ("hf", "generate", "vllm", "llamacpp")
DTYPES = ("auto", "fp32", "bf16")

QUANTIZE_HELP = (
    "CPU only, int8 dynamic quantization of the linear layers. lossy: dynamic int8 lowers HumanEval greedy "
    "pass@1 from 50% to 20% (40-problem draw); bf16 (the default on CPUs with bf16 units) is about as fast and "
    "loses nothing measurable."
)
JSON_HELP = (
    "Data on stdout as JSON (default when stdout is not a terminal): solve, one line per pick; judge, one line "
    "per verdict; bench, summary.json. People's output always goes to stderr."
)


R = TypeVar("R")


# Any: the default has the field's own type, which a field name given as a string cannot tell a type checker.
def default(name: str, cls: type = SolveConfig) -> Any:
    """The dataclass default of field `name`: the single source of every CLI default."""
    f = cls.__dataclass_fields__[name]  # type: ignore[attr-defined]
    if f.default is not MISSING:
        return f.default
    return f.default_factory()  # pragma: no cover - no factory defaults are exposed today


@dataclass(frozen=True)
class PipelineOptions:
    """What the shared options asked for: the solve settings plus how to load and run the model."""

    solve: SolveConfig
    model: str | None
    test_model: str | None
    backend: str
    device: str | None
    dtype: str
    quantize: str | None
    workers: int | None
    ray_address: str | None


def _options() -> list[Callable[[Any], Any]]:
    sources_default = ",".join(default("sources", TestGenConfig))
    return [
        click.option("-n", "--samples", "n", type=click.IntRange(min=1), default=default("n"), show_default=True,
                     help="Programs sampled per problem (the sample budget K)."),
        click.option("--model", default=None,
                     help="Model: registry name, local dir, .gguf file or hub id (default: the embedded "
                     "qwen2.5-coder-1.5b where installed, as make install does, else qwen2.5-coder-0.5b); a "
                     "comma list (qwen2.5-coder-0.5b,qwen2.5-coder-1.5b) is a mix: prompt groups alternate models."),
        click.option("--test-model", default=None, help="Model proposing test inputs (default: --model)."),
        click.option("--backend", type=click.Choice(BACKENDS), default="hf", show_default=True,
                     help="Sampler: ours with prefix sharing (hf), plain generate() (the baseline), or vLLM."),
        click.option("--device", default=None, help="torch device (default: cuda if available, else cpu)."),
        click.option("--dtype", type=click.Choice(DTYPES), default="auto", show_default=True,
                     help="Weights' dtype; auto: bf16 on GPU and on CPUs with native bf16, else fp32."),
        click.option("--quantize", type=click.Choice(["int8"]), default=None, help=QUANTIZE_HELP),
        click.option("--temperature", type=click.FloatRange(0, 5), default=default("temperature"),
                     show_default=True, help="Sampling temperature of the programs."),
        click.option("--top-p", type=click.FloatRange(0, 1, min_open=True), default=default("top_p"),
                     show_default=True, help="Nucleus sampling: keep the smallest token set with this mass."),
        click.option("--max-new-tokens", type=click.IntRange(min=1), default=default("max_new_tokens"),
                     show_default=True, help="Longest program, in tokens (longer ones are cut)."),
        click.option("--seed", type=int, default=default("seed"), show_default=True,
                     help="Same seed, same samples and picks."),
        click.option("--language", type=click.Choice(["python", "cpp", "mix"]), default=default("language"),
                     show_default=True, help="Language of the programs; mix alternates prompt groups."),
        click.option("--prefill", type=click.Choice(PREFILLS), default=default("prefill"), show_default=True,
                     help="Assistant pre-fill: the code fence only; (function problems) the fence and the stub; or the "
                          "fence and a plan comment (algorithm, running time at the limits) before the code; mix "
                          "alternates prompt groups: fence and stub on function problems, fence and plan on stdio."),
        click.option("--metadata/--no-metadata", "use_metadata", default=default("use_metadata"),
                     show_default=True,
                     help="AlphaCode's random rating and tags in stdio prompts (never shown on function problems)."),
        click.option("--ranking", type=click.Choice(["alphacode", "codet"]), default=default("ranking"),
                     show_default=True, help="Cluster order: largest first (alphacode), or CodeT dual agreement."),
        click.option("--picks", "num_picks", type=click.IntRange(min=1), default=default("num_picks"),
                     show_default=True, help="Submissions per problem (the n of n@k)."),
        click.option("--workers", type=click.IntRange(min=1), default=None,
                     help="Sandbox slots (default: one per core)."),
        click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="Seconds per test (default: the problem's)."),
        click.option("--memory-limit", type=click.IntRange(min=16), default=None,
                     help="MiB per test (default: the problem's)."),
        click.option("--test-sources", default=sources_default, show_default=True,
                     help=f"Where extra clustering inputs come from (comma list of {', '.join(SOURCES)})."),
        click.option("--repair-share", type=float, default=default("repair_share"), show_default=True,
                     metavar="F", help="Share of -n spent repairing programs that failed an example, from what "
                     "they did wrong (0: off; -n stays the total number of model samples). See docs/repair.md."),
        click.option("--repair-rounds", type=int, default=default("repair_rounds"), show_default=True,
                     help="At most this many repair rounds (a round's failing fixes may be repaired next)."),
        click.option("--fallback/--no-fallback", "fallback", default=default("fallback"), show_default=True,
                     help="When no program passes every example of a problem judged by its own test harness "
                     "(HumanEval: its examples are not its tests), pick among those that passed the most (marked "
                     "passed_examples=false) instead of submitting nothing. Never on stdio problems."),
        click.option("--limit-probe/--no-limit-probe", "limit_probe", default=default("limit_probe"),
                     show_default=True, help="Run the survivors on inputs at the statement's stated limits: a "
                     "program that times out, runs out of memory or crashes there is picked after the rest "
                     "(stdio problems). See docs/quality.md."),
        click.option("--speedup-share", type=float, default=default("speedup_share"), show_default=True,
                     metavar="F", help="Share of -n spent, after clustering, asking the model to make the programs "
                     "too slow at the limits asymptotically faster (needs --limit-probe; unspent: fresh samples)."),
        click.option("--settle-min", "settle_min", type=int, default=default("settle_min"), metavar="M",
                     help="Draw in rounds of M samples, clustering after each, and stop once the answer is settled "
                     "(at least three samples pass the examples, all in one cluster, none too slow); -n is the cap. "
                     "Default: all -n at once. See docs/quality.md."),
        click.option("--ray", "ray_address", default=None, metavar="auto|ADDRESS", help=RAY_HELP),
        click.option("--cache-dir", type=click.Path(file_okay=False), default=default("cache_dir"),
                     help="Where GGUF weights are kept once converted (default: $XDG_CACHE_HOME/alphagen, or "
                     "~/.cache/alphagen). Read-only or unusable: a warning, and the weights are converted in "
                     "memory."),
    ]


# The keyword arguments the options above produce, taken out of the command's arguments by the decorator.
_KEYS = ("n", "model", "test_model", "backend", "device", "dtype", "quantize", "temperature", "top_p",
         "max_new_tokens", "seed", "language", "prefill", "use_metadata", "ranking", "num_picks", "workers",
         "time_limit", "memory_limit", "test_sources", "repair_share", "repair_rounds", "fallback", "ray_address",
         "cache_dir", "limit_probe", "speedup_share", "settle_min")


def build(kw: dict[str, Any]) -> PipelineOptions:
    """Validate the raw option values into PipelineOptions; a bad value is a click error naming the option."""
    sources = tuple(s.strip() for s in kw["test_sources"].split(",") if s.strip())
    if not sources or any(s not in SOURCES for s in sources) or len(set(sources)) != len(sources):
        raise click.BadParameter(
            f"must be a comma list of distinct {', '.join(SOURCES)}, got {kw['test_sources']!r}",
            param_hint="--test-sources",
        )
    if kw["quantize"] is not None and kw["dtype"] == "bf16":
        raise click.BadParameter("int8 quantizes fp32 weights: --dtype must be fp32 or auto, got 'bf16'",
                                 param_hint="--quantize")
    if kw["ray_address"] is not None and kw["quantize"] is not None:
        raise click.BadParameter("int8 is not available on Ray sampler actors yet", param_hint="--quantize")
    try:
        specs = mix_specs(kw["model"])
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--model") from None
    if len(specs) > 1 and kw["ray_address"] is not None:
        raise click.BadParameter("a mix of models is not available on Ray sampler actors yet", param_hint="--model")
    # No --model: the default is resolved to a name here, so the run records which model it used (a machine without
    # the 1.5B resolves to the 0.5B, and a resume or replay across the two is refused instead of mixing samples).
    from alphagen.models.registry import default_model

    model = kw["model"] or default_model()
    if kw["ray_address"] is not None and kw["test_model"] not in (None, model):
        raise click.BadParameter("--ray uses one model for programs and tests", param_hint="--test-model")
    if not 0.0 <= kw["repair_share"] < 1.0:
        raise click.BadParameter(f"repair share must be in [0, 1), got {kw['repair_share']:g}",
                                 param_hint="--repair-share")
    if kw["repair_rounds"] < 1:
        raise click.BadParameter(f"repair rounds must be >= 1, got {kw['repair_rounds']}",
                                 param_hint="--repair-rounds")
    if not 0.0 <= kw["speedup_share"] < 1.0 or kw["repair_share"] + kw["speedup_share"] >= 1.0:
        raise click.BadParameter(f"speedup share must be in [0, 1) with the repair share below 1 in all, got "
                                 f"{kw['speedup_share']:g}", param_hint="--speedup-share")
    if kw["speedup_share"] and not kw["limit_probe"]:
        raise click.BadParameter(f"speedup share needs --limit-probe, got {kw['speedup_share']:g} without it",
                                 param_hint="--speedup-share")
    if kw["settle_min"] is not None and kw["settle_min"] < 1:
        raise click.BadParameter(f"must be >= 1, got {kw['settle_min']}", param_hint="--settle-min")
    if kw["settle_min"] is not None and (kw["repair_share"] or kw["speedup_share"]):
        raise click.BadParameter("rounds are not combined with --repair-share or --speedup-share yet, got "
                                 f"repair share {kw['repair_share']:g}, speed-up share {kw['speedup_share']:g}",
                                 param_hint="--settle-min")
    # Only values a user chose: SolveConfig's own defaults fill the rest.
    testgen = None if sources == default("sources", TestGenConfig) else TestGenConfig(sources=sources)
    try:
        solve = SolveConfig(n=kw["n"], temperature=kw["temperature"], top_p=kw["top_p"],
                            max_new_tokens=kw["max_new_tokens"], seed=kw["seed"], language=kw["language"],
                            prefill=kw["prefill"], use_metadata=kw["use_metadata"],
                            ranking=kw["ranking"], num_picks=kw["num_picks"], time_limit_s=kw["time_limit"],
                            memory_limit_mb=kw["memory_limit"], testgen=testgen,
                            repair_share=kw["repair_share"], repair_rounds=kw["repair_rounds"],
                            fallback=kw["fallback"], cache_dir=kw["cache_dir"], limit_probe=kw["limit_probe"],
                            speedup_share=kw["speedup_share"], settle_min=kw["settle_min"])
    except ValueError as e:  # pragma: no cover - the click types above already enforce these ranges
        raise click.BadParameter(str(e)) from None
    return PipelineOptions(solve=solve, model=model, test_model=kw["test_model"], backend=kw["backend"],
                           device=kw["device"], dtype=kw["dtype"], quantize=kw["quantize"], workers=kw["workers"],
                           ray_address=kw["ray_address"])


def pipeline_options(f: Callable[..., R]) -> Callable[..., R]:
    """Add the shared options to a click command; it receives them as one `pipeline: PipelineOptions`."""

    @functools.wraps(f)
    def wrapper(*args: object, **kwargs: object) -> R:
        raw: dict[str, Any] = {k: kwargs.pop(k) for k in _KEYS}
        return f(*args, pipeline=build(raw), **kwargs)

    for option in reversed(_options()):
        wrapper = option(wrapper)
    return wrapper


SINCE_HELP = (
    "Only problems released on or after this day (YYYY-MM-DD; LiveCodeBench's contest_date), e.g. the day after "
    "a model's training cutoff. Problems that give no date are left out."
)


def since_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """`--since DATE`, the same in every command that selects problems; the command receives a date or None."""

    def to_date(ctx: click.Context, param: click.Parameter, value: datetime | None) -> date | None:
        return value.date() if value is not None else None

    return click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, metavar="DATE",
                        callback=to_date, help=SINCE_HELP)(f)


def select_since(problems: list[Problem], since: date | None) -> list[Problem]:
    """The problems --since keeps, and one line on stderr saying how many it left out and why."""
    if since is None:
        return problems
    kept, older, undated = released_since(problems, since)
    console.print(f"--since {since.isoformat()}: {plural(len(kept), 'problem')} kept of {len(problems)} "
                  f"({older} released before, {undated} without a date)", highlight=False)
    return kept


def json_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """`--json/--no-json`, the same meaning in every command (None: decide by whether stdout is a terminal)."""
    return click.option("--json/--no-json", "as_json", default=None, help=JSON_HELP)(f)
