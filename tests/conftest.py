"""Fixtures shared across test modules (pytest finds them here; no imports of fixtures between modules)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from sandbox import Executor

if TYPE_CHECKING:
    from alphagen.models import LoadedModel


@pytest.fixture(scope="module")
def executor() -> Iterator[Executor]:
    """A real two-worker sandbox executor, one per test module (modules needing other settings define their own)."""
    with Executor(workers=2) as ex:
        yield ex


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    """A session-wide tiny model (built once, about a second); torch is imported only by tests that use it."""
    from tests.tiny_model import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny_model"))
