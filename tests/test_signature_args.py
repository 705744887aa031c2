"""Random argument lists from a stub's annotations, for a function problem that shows no example."""

from __future__ import annotations

import json
import random

from alphagen.problems.model import PublicView
from alphagen.testgen import TestGenConfig, generate_test_inputs
from alphagen.testgen.signature_args import SignatureArgs, argument_makers
from sandbox.values import Limits, Program
from tests.testgen_fakes import FakeExecutor

STUB = ("from typing import List\n\n\ndef f(n: int, xs: List[float], s: str, flag: bool, ys: list) -> int:\n"
        '    """No example here."""\n')


def test_each_argument_has_its_annotated_type() -> None:
    texts = SignatureArgs(STUB, "f").propose(50, random.Random(0))
    assert len(texts) == 50 and len(set(texts)) > 40
    for text in texts:
        n, xs, s, flag, ys = json.loads(text)
        assert type(n) is int and type(s) is str and type(flag) is bool
        assert all(type(x) is float for x in xs) and all(type(y) is int for y in ys)
    # Deterministic for a seed.
    assert SignatureArgs(STUB, "f").propose(50, random.Random(0)) == texts


def test_an_argument_that_cannot_be_typed_proposes_nothing() -> None:
    assert argument_makers("def f(n, m: int):\n    pass\n", "f") is None
    assert argument_makers("def f(d: dict):\n    pass\n", "f") is None
    assert argument_makers("def f(*xs: int):\n    pass\n", "f") is None
    assert argument_makers("def g(n: int):\n    pass\n", "f") is None
    assert argument_makers("def f(n: int:\n", "f") is None
    assert SignatureArgs("def f(n):\n    pass\n", "f").propose(10, random.Random(0)) == []


def test_a_function_problem_without_examples_gets_typed_inputs() -> None:
    # HumanEval/41: no example to mutate; before, no input at all, so clustering could not tell programs apart.
    view = PublicView(name="cars", description="Return the number of collisions of n cars each way.",
                      kind="function", public_tests=(), entry_point="car_race_collision",
                      signature='def car_race_collision(n: int):\n    """..."""\n', time_limit_s=1.0,
                      memory_limit_mb=256, rating=None, tags=())
    square = "import json, sys\nn, = json.loads(sys.stdin.read())\nprint(n * n)\n"
    double = "import json, sys\nn, = json.loads(sys.stdin.read())\nprint(2 * n)\n"
    ti = generate_test_inputs(view, [Program(square), Program(double)], FakeExecutor(), Limits(time_s=1.0),
                              TestGenConfig(sources=("mutation", "random")), 0)
    assert ti.inputs and set(ti.sources) == {"random"} and ti.counts["mutation_proposed"] == 0
    assert all(type(json.loads(t)[0]) is int for t in ti.inputs)
    # Some input tells n * n from 2 * n (any n but 0 and 2).
    assert any(json.loads(t)[0] not in (0, 2) for t in ti.inputs)
