"""Verdicts nobody can forge (#27): a function problem's hidden `check` runs in a process of its own, never the
candidate's, and only plain data crosses. Each attack below forged a pass against the in-process harness."""

from __future__ import annotations

import pytest

from alphagen.hidden_check import CheckTarget, run_hidden_checks
from alphagen.judging import judge
from alphagen.problems import Problem, Test
from alphagen.problems.evaluator import CODEC
from sandbox import Executor, Limits

# A check that is a loop (nothing an importer can parse into data tests): the harness alone decides.
LOOP_CHECK = """
def check(candidate):
    for a in range(20):
        assert candidate(a, 3) == a * 3 + 1, "wrong for " + str(a)
"""
PROBLEM = Problem(
    name="affine",
    description="Return a * b + 1.",
    kind="function",
    entry_point="affine",
    signature='def affine(a, b):\n    """a * b + 1"""\n',
    test_code=LOOP_CHECK,
    public_tests=(Test("[1, 3]", "4"),),
)
HONEST = "def affine(a, b):\n    return a * b + 1\n"
MARKER = "alphagen-harness-passed"

FORGERIES = {
    "marker on fd 1, then _exit": f"import os\nos.write(1, b'{MARKER}\\n')\nos._exit(0)\n",
    "marker on sys.__stdout__, then SystemExit(0)": (
        f"import sys\nsys.__stdout__.write('{MARKER}\\n')\nsys.__stdout__.flush()\nraise SystemExit(0)\n"
    ),
    "atexit handler after the failing assert": (
        "import atexit, os\n"
        f"atexit.register(lambda: (os.write(1, b'{MARKER}\\n'), os._exit(0)))\n"
        "def affine(a, b):\n    return 0\n"
    ),
    "always-equal int subclass": (
        "class Yes(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\n"
        "def affine(a, b):\n    return Yes(0)\n"
    ),
    "builtins.compile patched to an empty check": (
        "import builtins\n_real = builtins.compile\n"
        "def _fake(src, *a, **k):\n    return _real('def check(candidate):\\n    pass\\n', *a[1:], **k)\n"
        "builtins.compile = _fake\n"
        "def affine(a, b):\n    return 0\n"
    ),
    "the hidden asserts read from memory reachable from its frames": (
        "import sys\n"
        "NEEDLE = 'def ' + 'check('\n"
        "def _strings():\n"
        "    seen, todo = set(), []\n"
        "    f = sys._getframe()\n"
        "    while f is not None:\n"
        "        todo += [f.f_locals, f.f_globals]\n"
        "        f = f.f_back\n"
        "    while todo and len(seen) < 200000:\n"
        "        v = todo.pop()\n"
        "        if id(v) in seen:\n"
        "            continue\n"
        "        seen.add(id(v))\n"
        "        try:\n"
        "            if isinstance(v, str):\n"
        "                yield v\n"
        "            elif isinstance(v, dict):\n"
        "                todo += list(v.values())\n"
        "            elif isinstance(v, (list, tuple)):\n"
        "                todo += list(v)\n"
        "            elif type(v).__name__ == 'code':\n"
        "                todo += list(v.co_consts)\n"
        "            elif isinstance(getattr(v, '__dict__', None), dict) and not isinstance(v, type):\n"
        "                todo.append(vars(v))\n"
        "        except Exception:\n"
        "            pass\n"
        "def affine(a, b):\n"
        "    for s in _strings():\n"
        "        if NEEDLE in s and s != NEEDLE:\n"
        "            return a * b + 1\n"
        "    return 0\n"
    ),
    "a method of class Solution only": "class Solution:\n    def affine(self, a, b):\n        return a * b + 1\n",
}


@pytest.fixture(scope="module")
def executor() -> Executor:
    # One slot: every program runs in the slot where the honest one was judged just before.
    with Executor(workers=1) as ex:
        yield ex


def test_an_honest_program_passes_and_a_wrong_one_fails(executor: Executor) -> None:
    assert judge(executor, PROBLEM, HONEST, "python").passed
    wrong = judge(executor, PROBLEM, "def affine(a, b):\n    return a * b + (a != 7)\n", "python")
    assert not wrong.passed and wrong.status == "runtime_error"
    assert "AssertionError: wrong for 7" in wrong.detail


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forged_passes_are_judged_failed(executor: Executor, name: str) -> None:
    # Judged right after an honest program in the same slots: nothing of its judgement may help.
    assert judge(executor, PROBLEM, HONEST, "python").passed
    verdict = judge(executor, PROBLEM, FORGERIES[name], "python")
    assert not verdict.passed, f"{name}: {verdict}"


def test_checks_whose_calls_depend_on_answers_take_more_rounds(executor: Executor) -> None:
    # Each call's argument is the previous answer: discovery sees one call per round.
    chained = Problem(
        name="chain", description="d", kind="function", entry_point="inc", signature="def inc(x):\n    pass\n",
        test_code="def check(candidate):\n    x = 0\n    for _ in range(3):\n        x = candidate(x)\n"
                  "    assert x == 3\n",
        public_tests=(Test("[0]", "1"),),
    )
    target = CheckTarget.of(chained)
    assert target is not None
    good, bad = "def inc(x):\n    return x + 1\n", "def inc(x):\n    return x + 2\n"
    results = run_hidden_checks(executor, target, [good, bad], Limits(time_s=2))
    assert [r.passed for r in results] == [True, False]


def test_tuples_sets_and_exceptions_cross_as_plain_data(executor: Executor) -> None:
    problem = Problem(
        name="shapes", description="d", kind="function", entry_point="f", signature="def f(x):\n    pass\n",
        test_code=(
            "def check(candidate):\n"
            "    assert candidate(1) == (1, 2)\n"
            "    assert candidate(2) == {2, 3}\n"
            "    assert candidate(3) == {'k': [1.5, None, True, b'x', 2j]}\n"
            "    try:\n        candidate(4)\n        assert False\n    except ValueError as e:\n"
            "        assert 'four' in str(e)\n"
        ),
        public_tests=(Test("[1]", "[1, 2]"),),
    )
    code = (
        "def f(x):\n"
        "    if x == 1:\n        return (1, 2)\n"
        "    if x == 2:\n        return {2, 3}\n"
        "    if x == 3:\n        return {'k': [1.5, None, True, b'x', 2j]}\n"
        "    raise ValueError('four')\n"
    )
    assert judge(executor, problem, code, "python").passed
    # A list is not a tuple: Python's == says so, and so does the evaluator.
    as_list = code.replace("return (1, 2)", "return [1, 2]")
    assert not judge(executor, problem, as_list, "python").passed


def test_the_codec_refuses_anything_but_plain_data() -> None:
    ns: dict[str, object] = {}
    exec(CODEC, ns)
    encode, decode = ns["_ag_encode"], ns["_ag_decode"]
    value = [(1, "a"), {"k": {1, 2}}, frozenset({3}), b"\x00", 1.5, None, True, 10**40]
    assert decode(encode(value)) == value  # type: ignore[operator]
    for bad in ({"x": 1, "y": 2}, {"zz": []}, {"t": "not a list"}, {"d": [[[1], 2]]}):
        with pytest.raises((ValueError, TypeError)):
            decode(bad)  # type: ignore[operator]
    with pytest.raises(TypeError, match="not plain data"):
        encode(object())  # type: ignore[operator]


def test_the_prompts_helpers_and_the_entry_by_name_are_the_programs_own(executor: Executor) -> None:
    # HumanEval/32 and /50: check feeds an answer to a helper the prompt defines (100 calls, one round when the
    # program keeps the helper); /33: check calls the entry point by its name.
    helper = Problem(
        name="helper", description="d", kind="function", entry_point="inc",
        signature='def double(x):\n    return 2 * x\n\n\ndef inc(x):\n    """x + 1"""\n',
        test_code=(
            "def check(candidate):\n"
            "    for a in range(100):\n"
            "        y = candidate(a)\n"
            "        assert double(y) == 2 * a + 2\n"
            "    assert inc(5) == 6\n"
        ),
        public_tests=(Test("[1]", "2"),),
    )
    keeps = "def double(x):\n    return 2 * x\n\n\ndef inc(x):\n    return x + 1\n"
    omits = "def inc(x):\n    return x + 1\n"
    breaks = "def double(x):\n    return 3 * x\n\n\ndef inc(x):\n    return x + 1\n"
    assert judge(executor, helper, keeps, "python").passed
    assert judge(executor, helper, omits, "python").passed
    # Its own double is what check calls, as the official harness would (prompt + completion): it fails.
    assert not judge(executor, helper, breaks, "python").passed
