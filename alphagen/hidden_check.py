"""Evaluate programs against a function problem's hidden `check(candidate)`, out of process, in rounds.

Each round runs every open program's call server on its list of calls (one sandboxed process per program, holding
only the candidate's code), then the trusted evaluator (another sandboxed process, holding only the problem's
prompt and test code) on those answers: it says pass, fail, or which longer list of calls `check` makes (see
alphagen/problems/evaluator.py). The first list comes from a discovery run of the evaluator alone, the same for
every program of a problem, so it is made once per problem.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

from alphagen.problems.evaluator import call_server, evaluator, evaluator_input, redefined_helpers, server_input
from alphagen.problems.model import Problem
from sandbox import BatchExecutor, Language, Limits, Program, Result, Status

MAX_ROUNDS = 6
"""Rounds of (call server, evaluator) per program: one when no argument of `check` depends on an answer."""
EVALUATOR_LIMITS = Limits(time_s=10.0, memory_mb=512, output_bytes=16 << 20)
"""The evaluator runs the problem's own code only: generous limits, so a slow `check` never condemns a program."""
_DISCOVERED: dict[str, list[object]] = {}
"""Calls found by discovery, per evaluator source (a problem's prompt and test code); bounded below."""
_DISCOVERED_LOCK = threading.Lock()


@dataclass(frozen=True)
class CheckTarget:
    """What the rounds need of a problem: its evaluator and how a candidate becomes a call server."""

    evaluator: Program
    entry_point: str
    entry_class: str | None
    prompt: str
    """The problem's prompt (its helpers are the program's where it redefines them)."""

    @classmethod
    def of(cls, problem: Problem) -> CheckTarget | None:
        """None unless the problem has a hidden harness (a function problem with `test_code`)."""
        if problem.kind != "function" or not problem.test_code or problem.entry_point is None:
            return None
        source = evaluator(problem.signature or "", problem.test_code, problem.entry_point)
        return cls(Program(source, Language.PYTHON), problem.entry_point, problem.entry_class, problem.signature or "")

    def server(self, code: str) -> Program:
        return Program(call_server(code, self.entry_point, self.entry_class), Language.PYTHON)


def run_hidden_checks(
    executor: BatchExecutor, target: CheckTarget, codes: Sequence[str], limits: Limits
) -> list[Result]:
    """One Result per code (program_index = its position, input_index 0): ok and passed when `check` passed;
    the candidate's own failure (time_limit, memory_limit, runtime_error...) when its call server failed;
    runtime_error with the evaluator's message (e.g. "AssertionError: ...") when `check` failed."""
    first = _discover(executor, target)
    if isinstance(first, Result):
        return [replace(first, program_index=i) for i in range(len(codes))]
    servers = [target.server(code) for code in codes]
    proxied = [redefined_helpers(target.prompt, code, target.entry_point) for code in codes]
    calls: dict[int, list[object]] = dict.fromkeys(range(len(codes)), first)
    done: dict[int, Result] = {}
    cpu = dict.fromkeys(range(len(codes)), 0.0)
    for _ in range(MAX_ROUNDS):
        open_ = sorted(calls)
        if not open_:
            break
        answers = _run_servers(executor, servers, open_, calls, limits)
        replies: dict[int, Result] = {}
        for p, res in answers.items():
            cpu[p] += res.cpu_s
            if not res.ok:
                done[p] = replace(res, passed=False)
                del calls[p]
            else:
                replies[p] = res
        evaluated = _run_evaluator(executor, target, {p: (calls[p], r.stdout, proxied[p]) for p, r in replies.items()})
        for p, reply in evaluated.items():
            base = replace(replies[p], stdout=b"", stderr=b"", cpu_s=cpu[p])
            outcome = _outcome(base, reply, calls[p])
            if isinstance(outcome, Result):
                done[p] = outcome
                del calls[p]
            else:
                calls[p] = outcome
    for p in calls:
        done[p] = _error(p, f"the hidden harness needed more than {MAX_ROUNDS} rounds of calls")
    return [done[p] for p in range(len(codes))]


def _discover(executor: BatchExecutor, target: CheckTarget) -> list[object] | Result:
    """The calls `check` makes before any answer is known (cached per evaluator source), or the error."""
    key = hashlib.sha256(target.evaluator.source.encode("utf-8", "surrogateescape")).hexdigest()
    with _DISCOVERED_LOCK:
        if key in _DISCOVERED:
            return _DISCOVERED[key]
    reply = _run_evaluator(executor, target, {0: ([], b"", [])})[0]
    outcome = _outcome(Result(0, 0, Status.OK), reply, [])
    if isinstance(outcome, Result):
        # check finished without calling the candidate (it passes everything), or it is broken: either way the
        # same for every program.
        return outcome
    with _DISCOVERED_LOCK:
        if len(_DISCOVERED) >= 1024:
            _DISCOVERED.clear()
        _DISCOVERED[key] = outcome
    return outcome


def _run_servers(
    executor: BatchExecutor,
    servers: list[Program],
    open_: list[int],
    calls: dict[int, list[object]],
    limits: Limits,
) -> dict[int, Result]:
    programs = [servers[p] for p in open_]
    inputs = [server_input(calls[p]) for p in open_]
    pairs = [(i, i) for i in range(len(open_))]
    # One fresh child per program, like every hidden test: nothing shared between its runs.
    results = executor.run_batch(programs, inputs, limits, pairs=pairs, tests_per_child=1)
    return {open_[r.program_index]: r for r in results}


def _run_evaluator(
    executor: BatchExecutor, target: CheckTarget, work: dict[int, tuple[list[object], bytes, list[str]]]
) -> dict[int, Result]:
    if not work:
        return {}
    keys = sorted(work)
    inputs = [
        evaluator_input(work[p][0], work[p][1].decode("utf-8", "surrogateescape"), work[p][2]) for p in keys
    ]
    results = executor.run_batch([target.evaluator], inputs, EVALUATOR_LIMITS, tests_per_child=1)
    return {keys[r.input_index]: r for r in results}


def _outcome(base: Result, reply: Result, calls: list[object]) -> Result | list[object]:
    """The verdict of one evaluator run (a Result), or the longer list of calls for the next round."""
    if not reply.ok:
        return _error(base.program_index, f"the hidden harness's evaluator failed: {reply.status.value} "
                                          f"{reply.detail} {reply.stderr[-300:].decode('utf-8', 'replace')}")
    try:
        message = json.loads(reply.stdout)
    except ValueError:
        return _error(base.program_index, "the hidden harness's evaluator answered no verdict")
    if not isinstance(message, dict):
        return _error(base.program_index, "the hidden harness's evaluator answered no verdict")
    if message.get("verdict") == "pass":
        return replace(base, status=Status.OK, passed=True, detail="")
    if message.get("verdict") == "fail":
        return replace(base, status=Status.RUNTIME_ERROR, passed=False, detail=str(message.get("error", "")))
    more = message.get("more")
    if isinstance(more, list) and more != calls:
        return more
    return _error(base.program_index, "the hidden harness's calls could not be discovered")


def _error(index: int, detail: str) -> Result:
    return Result(index, 0, Status.SANDBOX_ERROR, passed=False, detail=detail.strip()[:2000])
