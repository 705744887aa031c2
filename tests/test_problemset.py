"""The shipped problem set (problems/*.json): it loads, has the promised shape, its references pass every
test in the sandbox, its validators accept every test, and its hidden tests catch plausible wrong programs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alphagen.judging import judge
from alphagen.problems import Problem, load_problems
from sandbox import Executor, Limits, Program, Status

PROBLEMS_DIR = Path(__file__).resolve().parents[1] / "problems"
FILES = sorted(PROBLEMS_DIR.glob("*.json"))
EASY = ("sum-of-two", "max-in-array", "count-vowels", "reverse-words", "even-sum")


@pytest.fixture(scope="module")
def problems() -> list[Problem]:
    return load_problems(FILES)


def test_every_file_loads_and_is_named_after_its_file(problems: list[Problem]) -> None:
    assert len(problems) == len(FILES)
    assert sorted(p.name for p in problems) == sorted(f.stem for f in FILES)


def test_set_shape(problems: list[Problem]) -> None:
    names = [p.name for p in problems]
    assert len(problems) >= 30
    assert len(set(names)) == len(names)
    assert set(EASY) <= set(names)
    for p in problems:
        assert 1 <= len(p.public_tests) <= 3, p.name
        assert len(p.private_tests) >= 10, p.name
        assert p.kind == "stdio" and p.time_limit_s > 0 and p.rating is not None and p.tags, p.name
        assert any(s.language == "python" for s in p.solutions), p.name
        assert p.validator, p.name
        for section in ("\nInput\n", "\nOutput\n", "\nConstraints\n", "\nExamples\n"):
            assert section in p.description, (p.name, section)
        # The examples shown in the statement are exactly the public tests.
        for t in p.public_tests:
            assert t.input.strip() in p.description and t.output.strip() in p.description, p.name
        inputs = [t.input for t in p.public_tests] + [t.input for t in p.private_tests]
        assert len(set(inputs)) == len(inputs), p.name
        assert max(len(i.encode()) for i in inputs) <= 400_000, p.name
    assert sum(f.stat().st_size for f in FILES) <= 10_000_000


def test_files_are_the_documented_format() -> None:
    for f in FILES:
        doc = json.loads(f.read_text())
        assert doc["checker"] == {"mode": "tokens"} and doc["memory_limit"] == 256, f.name


@pytest.mark.slow
def test_every_reference_passes_every_test(problems: list[Problem], executor: Executor) -> None:
    failures = []
    for p in problems:
        for s in p.solutions:
            v = judge(executor, p, s.code, s.language, tests=p.public_tests + tuple(p.private_tests))
            if not v.passed:
                failures.append(f"{p.name} ({s.language}): {v.detail}")
    assert failures == []


@pytest.mark.slow
def test_validators_accept_every_test_and_reject_garbage(problems: list[Problem], executor: Executor) -> None:
    limits = Limits(time_s=5.0, memory_mb=512)
    for p in problems:
        assert p.validator is not None
        good = [t.input for t in p.public_tests] + [t.input for t in p.private_tests]
        bad = ["", "#" + p.public_tests[0].input, p.public_tests[0].input + "extra\n"]
        runs = executor.run_batch([Program(p.validator)], good + bad, limits)
        results = sorted(runs, key=lambda r: r.input_index)
        accepted = [r.status is Status.OK for r in results]
        assert accepted == [True] * len(good) + [False] * len(bad), p.name


# Plausible wrong programs: each passes the examples but must fail the hidden tests (edge case or speed).
WRONG = {
    "max-in-array": ("import sys\nd = list(map(int, sys.stdin.read().split()))\nbest = 0\n"
                     "for x in d[1:]:\n    best = max(best, x)\nprint(best)\n", "wrong_answer"),
    "integer-sqrt": ("t = int(input())\nfor _ in range(t):\n    print(int(int(input()) ** 0.5))\n",
                     "wrong_answer"),
    "modular-power": ("t = int(input())\nfor _ in range(t):\n    a, b, m = map(int, input().split())\n"
                      "    print(pow(a, b, m) if b else 1)\n", "wrong_answer"),
    "coin-change-ways": ("n, s = map(int, input().split())\nc = list(map(int, input().split()))\n"
                         "w = [1] + [0] * s\nfor x in c:\n"
                         "    for v in range(x, s + 1):\n        w[v] += w[v - x]\n"
                         "print(w[s])\n", "wrong_answer"),
    "gcd-and-lcm": ("from math import gcd\nt = int(input())\nfor _ in range(t):\n"
                    "    a, b = map(int, input().split())\n    print(gcd(a, b), int(a * b / gcd(a, b)))\n",
                    "wrong_answer"),
    "almost-palindrome": ("t = int(input())\nfor _ in range(t):\n    s = input().strip()\n"
                          "    i, j = 0, len(s) - 1\n"
                          "    while i < j and s[i] == s[j]:\n        i, j = i + 1, j - 1\n"
                          "    u = s[i + 1:j + 1]\n    print('YES' if i >= j or u == u[::-1] else 'NO')\n",
                          "wrong_answer"),
    "close-pairs": ("n, d = map(int, input().split())\na = list(map(int, input().split()))\n"
                    "print(sum(1 for i in range(n) for j in range(i + 1, n) if abs(a[i] - a[j]) <= d))\n",
                    "time_limit"),
    "divisible-subarrays": ("n, k = map(int, input().split())\na = list(map(int, input().split()))\nc = 0\n"
                            "for l in range(n):\n    s = 0\n    for r in range(l, n):\n        s += a[r]\n"
                            "        c += s % k == 0\nprint(c)\n", "time_limit"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(WRONG))
def test_hidden_tests_catch_plausible_wrong_programs(
    name: str, problems: list[Problem], executor: Executor
) -> None:
    problem = next(p for p in problems if p.name == name)
    code, status = WRONG[name]
    assert judge(executor, problem, code, "python", tests=problem.public_tests).passed
    verdict = judge(executor, problem, code, "python", tests=tuple(problem.private_tests))
    assert not verdict.passed and verdict.status == status, verdict.detail
