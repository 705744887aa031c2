"""Plan the next problem's sampling so Ray actors generate it while the driver executes the current one."""

from __future__ import annotations

from alphagen.config import Models, SolveConfig
from alphagen.problems.model import Problem


def plan_next(models: Models, problem: Problem | None, cfg: SolveConfig) -> None:
    """Tell a Ray sampler which problem comes next (no-op for local samplers or at the end)."""
    if problem is None or not hasattr(models.sampler, "plan_next"):
        return
    # The pipeline's own plan: the shards the actors prepare match what stage 1 will ask for exactly.
    from alphagen.draws import plan_sampling

    plan = plan_sampling(problem, cfg, models.code.tokenizer)
    models.sampler.plan_next(list(plan.requests), plan.params)
