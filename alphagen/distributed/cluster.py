"""Connecting to a Ray cluster and sizing the work from what it offers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from alphagen.distributed import require_ray

log = logging.getLogger("alphagen.distributed")


@dataclass(frozen=True)
class RayOptions:
    """How alphagen uses a Ray cluster. Validated when built."""

    address: str = "auto"
    """`auto` (the cluster this machine belongs to) or a head address such as 127.0.0.1:6379."""
    num_samplers: int | None = None
    """Sampler actors (one model each); None: one per GPU in the cluster, else one."""
    programs_per_task: int = 4
    """Programs per execution task: small enough to spread, large enough to amortise a task's overhead."""
    max_in_flight: int | None = None
    """Execution tasks submitted but not yet consumed (back-pressure); None: twice the cluster's CPUs."""
    sampler_resources: tuple[tuple[str, float], ...] = ()
    """Extra Ray resources each sampler actor needs (custom node resources pin actors to chosen nodes)."""
    max_retries: int = 4
    """Ray retries of a lost execution task and restarts of a lost sampler actor."""

    def __post_init__(self) -> None:
        if not isinstance(self.address, str) or not self.address:
            raise ValueError(f"address must be 'auto' or HOST:PORT, got {self.address!r}")
        if self.num_samplers is not None and self.num_samplers < 1:
            raise ValueError(f"num_samplers must be >= 1, got {self.num_samplers}")
        if self.programs_per_task < 1:
            raise ValueError(f"programs_per_task must be >= 1, got {self.programs_per_task}")
        if self.max_in_flight is not None and self.max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1, got {self.max_in_flight}")
        if any(not name or amount <= 0 for name, amount in self.sampler_resources):
            raise ValueError(f"sampler_resources must be (name, amount > 0) pairs, got {self.sampler_resources}")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")


def connect(options: RayOptions) -> dict[str, Any]:
    """Join the cluster (idempotent) and return its total resources."""
    import click

    ray = require_ray()
    if not ray.is_initialized():
        # ray.init retries an unreachable head for a long time, printing GCS errors: probe the port first.
        problem = unreachable(options.address)
        if problem:
            raise click.ClickException(
                f"cannot connect to the Ray cluster at {options.address}: {problem} (start one with "
                "`ray start --head`, or check the address)"
            )
        try:
            # log_to_driver: worker logs (sandbox warnings, model loading) reach this process's stderr.
            ray.init(address=options.address, log_to_driver=True, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, ValueError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise click.ClickException(f"cannot connect to the Ray cluster at {options.address}: {first}") \
                from None
    resources = dict(ray.cluster_resources())
    log.info("ray cluster: %s", resources)
    return resources


def unreachable(address: str, timeout_s: float = 5.0) -> str | None:
    """Why a HOST:PORT head address cannot be reached over TCP within `timeout_s`, or None (also for `auto`
    and ray:// addresses, which ray.init resolves itself)."""
    import socket

    if address == "auto" or "://" in address or ":" not in address:
        return None
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        return f"port must be a number, got {port!r}"
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            return None
    except TimeoutError:
        return f"no answer within {timeout_s:.0f} s"
    except OSError as e:
        return e.strerror or str(e)


def gpu_count(resources: dict[str, Any]) -> int:
    return int(resources.get("GPU", 0))


def cpu_count(resources: dict[str, Any]) -> int:
    return max(1, int(resources.get("CPU", 1)))


def shutdown() -> None:
    """Leave the cluster (the cluster itself keeps running)."""
    import ray

    if ray.is_initialized():
        ray.shutdown()
