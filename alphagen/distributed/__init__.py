"""Scale-out on Ray: sampler actors holding a model each, sandbox execution as Ray tasks, merge on the driver.

Nothing here imports Ray at module import time: `alphagen` without `--ray` never loads it (an optional extra).
"""

from __future__ import annotations

from types import ModuleType


def require_ray() -> ModuleType:
    """Import Ray, or fail with the install hint a user can act on."""
    try:
        import ray
    except ImportError:
        import click

        raise click.ClickException("Ray is not installed: pip install 'alphagen[ray]'") from None
    return ray
