"""Plan the next problem's sampling so Ray actors generate it while the driver executes the current one."""

from __future__ import annotations

from typing import Any

from alphagen import prompting
from alphagen.problems.model import Problem
from alphagen.sampling.params import PromptRequest, SamplingParams


def sampling_requests(problem: Problem, cfg: Any, tokenizer: Any) -> tuple[list[PromptRequest], SamplingParams]:
    """The requests and params `pipeline.sample_candidates` will build for this problem and config.

    If the pipeline ever builds them differently, the planned shards simply do not match (the sampler compares
    them exactly) and are not used: a stale copy here can cost time, never correctness.
    """
    groups = prompting.build_prompts(
        tokenizer,
        problem.public_view(),
        cfg.n,
        seed=cfg.seed,
        language=cfg.language,
        samples_per_prompt=cfg.samples_per_prompt,
        use_metadata=cfg.use_metadata,
    )
    params = SamplingParams(
        temperature=cfg.temperature, top_p=cfg.top_p, max_new_tokens=cfg.max_new_tokens, seed=cfg.seed,
        stop=("```",),
    )
    return [PromptRequest(prompt=g.text, count=g.count) for g in groups], params


def plan_next(models: Any, problem: Problem | None, cfg: Any) -> None:
    """Tell a Ray sampler which problem comes next (no-op for local samplers or at the end)."""
    if problem is None or not hasattr(models.sampler, "plan_next"):
        return
    models.sampler.plan_next(*sampling_requests(problem, cfg, models.code.tokenizer))
