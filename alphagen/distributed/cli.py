"""The `--ray auto|ADDRESS` option shared by `alphagen bench` and `alphagen solve`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from alphagen.statuses import RunStatus

if TYPE_CHECKING:
    from alphagen.distributed.executor import RayExecutor
    from alphagen.pipeline import Models
    from alphagen.problems.model import Problem

RAY_HELP = ("Run on a Ray cluster: `auto` (this machine's cluster) or the head's HOST:PORT. Sampling runs in "
            "actors holding a model each, execution as Ray tasks. Needs alphagen[ray].")


F = TypeVar("F", bound=Callable[..., object])


def ray_option(f: F) -> F:
    return click.option("--ray", "ray_address", default=None, metavar="auto|ADDRESS", help=RAY_HELP)(f)


def ray_setup(
    address: str, model_spec: str | None, backend: str, device: str | None
) -> tuple[RayExecutor, Callable[[], Models]]:
    """Connect and build (executor, models-loader) for a Ray run; raises ClickException with the fix."""
    from alphagen.distributed import require_ray

    require_ray()
    from alphagen.distributed.cluster import RayOptions
    from alphagen.distributed.executor import RayExecutor
    from alphagen.distributed.sampler import load_models

    try:
        options = RayOptions(address=address)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--ray") from None
    if backend != "hf":
        raise click.BadParameter(f"--ray samples with the hf backend only, got {backend!r}",
                                 param_hint="--backend")
    executor = RayExecutor(options)
    return executor, lambda: load_models(options, model_spec, backend, device)


def upcoming(
    problems: list[Problem], finished: dict[str, Any], retry_errors: bool
) -> Callable[[Problem], Problem | None]:
    """problem -> the next problem the bench will solve (skipping finished ones), or None at the end."""
    todo = [p for p in problems
            if p.name not in finished or (retry_errors and finished[p.name].get("status") == RunStatus.ERROR)]
    following = {a.name: b for a, b in zip(todo, todo[1:], strict=False)}
    return lambda problem: following.get(problem.name)
