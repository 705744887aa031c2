"""run_batch's arguments are checked in one place (building a sandbox.BatchRequest), the same way by every executor.

The Ray executor is checked without Ray: `import ray` is made to fail, so a check that passed on to any Ray call
would show up as ImportError instead of the expected error.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from alphagen.distributed.cluster import RayOptions
from alphagen.distributed.executor import RayExecutor
from alphagen.run_memo import RunMemo
from sandbox import BatchExecutor, BatchRequest, CompareOptions, Executor, Limits, Program

P = Program("print(input())")
OK: dict[str, Any] = {"programs": [P, P], "inputs": ["1", b"2"], "limits": Limits()}

# (what changes from OK, the error, the start of its message, literally)
BAD: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"programs": "print(1)"}, TypeError, "programs must be a sequence (list or tuple), got str"),
    ({"programs": ["print(1)"]}, TypeError, "programs must contain Program values, got str"),
    ({"inputs": b"12"}, TypeError, "inputs must be a sequence (list or tuple), got bytes"),
    ({"inputs": ["1", 2]}, TypeError, "inputs must contain str or bytes values, got int"),
    ({"limits": None}, TypeError, "limits must be a Limits, got NoneType"),
    ({"expected": ["1"]}, ValueError, "expected must have one entry per input (2), got 1"),
    ({"expected": ["1", None]}, TypeError, "expected must contain str or bytes values, got NoneType"),
    ({"compare": CompareOptions()}, ValueError, "compare must come with expected outputs"),
    ({"expected": ["1", "2"], "compare": {"float_abs": 1e-6}}, TypeError, "compare must be a CompareOptions"),
    ({"stop_on_first_failure": 1}, TypeError, "stop_on_first_failure must be a bool, got int"),
    ({"pairs": [(0, 2)]}, ValueError, "pairs must index programs and inputs, got (0, 2)"),
    ({"pairs": [(-1, 0)]}, ValueError, "pairs must index programs and inputs, got (-1, 0)"),
    ({"pairs": [(0,)]}, TypeError, "pairs must contain (program index, input index) tuples of ints"),
    ({"tests_per_child": 0}, ValueError, "tests_per_child must be an int in 1..64, got 0"),
    ({"tests_per_child": 65}, ValueError, "tests_per_child must be an int in 1..64, got 65"),
]


@pytest.fixture(scope="module")
def local() -> Iterator[Executor]:
    with Executor(workers=1) as executor:
        yield executor


@pytest.fixture
def ray_executor(monkeypatch: pytest.MonkeyPatch) -> RayExecutor:
    """A RayExecutor that never connected (no cluster), with `import ray` failing from here on."""
    executor = RayExecutor.__new__(RayExecutor)
    executor.options = RayOptions(address="127.0.0.1:1")
    executor.max_in_flight = 2
    executor.executions = 0
    executor.by_node = {}
    monkeypatch.setitem(sys.modules, "ray", None)
    return executor


@pytest.mark.parametrize(("change", "error", "message"), BAD)
def test_a_batch_request_rejects(change: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match="^" + re.escape(message)):
        BatchRequest(**(OK | change))


def test_a_batch_request_accepts_every_documented_form_and_is_a_value() -> None:
    BatchRequest(**OK)
    programs, pairs = [P, P], [(1, 0), [0, 1]]
    req = BatchRequest(
        programs, ("1", "2"), Limits(), expected=(b"1", "2"), compare=CompareOptions(float_abs=1e-6),
        stop_on_first_failure=True, pairs=pairs, tests_per_child=64,  # type: ignore[arg-type]
    )
    BatchRequest([], [], Limits(), expected=[], pairs=[])
    # Kept as tuples: the caller's lists changing later cannot change what runs.
    programs.append(Program("print(2)"))
    assert req.programs == (P, P) and req.pairs == ((1, 0), (0, 1)) and req.todo() == [(1, 0), (0, 1)]
    assert not req.plain and BatchRequest(**OK).plain and BatchRequest(**OK).todo() == [(0, 0), (0, 1), (1, 0), (1, 1)]
    with pytest.raises(AttributeError):
        req.limits = Limits(time_s=9)  # type: ignore[misc]


@pytest.mark.parametrize(("change", "error", "message"), BAD)
def test_every_executor_checks_at_the_call(
    change: dict[str, Any], error: type[Exception], message: str, local: Executor, ray_executor: RayExecutor
) -> None:
    executors: list[BatchExecutor] = [local, ray_executor, RunMemo(local)]
    for executor in executors:
        # Raised by run_batch itself, not when its (lazy) results are first read.
        with pytest.raises(error, match="^" + re.escape(message)):
            executor.run_batch(**(OK | change))


def test_valid_arguments_reach_ray_only_after_the_check(ray_executor: RayExecutor) -> None:
    # Valid arguments pass the check; the first Ray call (here failing, as Ray is hidden) comes after it.
    results = ray_executor.run_batch(**OK)
    with pytest.raises(ImportError):
        next(iter(results))
