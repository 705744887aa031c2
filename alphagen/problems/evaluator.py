"""Function problems' hidden harness (`check(candidate)`, HumanEval's `test`), evaluated out of process.

The official human-eval harness runs the candidate's code, the test code and `check` in one process, so a
candidate can forge a pass (print the pass marker and exit, patch `compile`, return an always-equal object, exit
from an `atexit` hook) and can read the hidden asserts from its own memory. Here two programs run in separate
sandboxed processes and only plain data crosses between them:

* the **call server** (untrusted: it holds the candidate) reads the calls to make, one JSON line each, calls the
  entry point on each in turn (one module load, so state persists across calls as in the official harness) and
  writes one JSON line per call: the encoded return value, or the exception's type and message;
* the **evaluator** (trusted: problem data only, never candidate code) runs `check(candidate)` where `candidate`
  is a proxy that answers each call from those lines, decoded into plain values (None, bool, int, float, str,
  list, tuple, dict, set, frozenset, bytes, complex): every comparison, and so the verdict, happens on its side.

The calls are not known before `check` runs, so the evaluator also *discovers* them: it runs a copy of `check`
whose asserts cannot fail and whose candidate answers with a permissive placeholder, and lists the calls that
copy made (their arguments are computed from the problem's data, so they are the calls `check` makes, as long as
no argument depends on an earlier answer). A run whose `check` makes a call beyond the answered ones asks for
another round with the longer list; `alphagen.hidden_check` drives the rounds. Both programs use only the
standard library: they run under the sandbox's interpreter.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence

from alphagen.problems.driver import ENTRY_SOURCE

CODEC = r'''
import json as _ag_json


def _ag_encode(value, depth=0):
    # Plain data only: exact builtin types as they are, subclasses of them as their base value (whatever their
    # methods say, the receiver compares a plain value), numpy-style scalars and arrays through tolist().
    if depth > 100:
        raise ValueError("value nested deeper than 100 levels")
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is float or kind is str:
        return value
    if kind is list:
        return [_ag_encode(v, depth + 1) for v in value]
    if kind is tuple:
        return {"t": [_ag_encode(v, depth + 1) for v in value]}
    if kind is dict:
        return {"d": [[_ag_encode(k, depth + 1), _ag_encode(v, depth + 1)] for k, v in value.items()]}
    if kind is set or kind is frozenset:
        return {"s" if kind is set else "f": [_ag_encode(v, depth + 1) for v in value]}
    if kind is bytes:
        return {"b": value.hex()}
    if kind is complex:
        return {"c": [value.real, value.imag]}
    for base in (bool, int, float, str, bytes, complex, list, tuple, dict, set, frozenset):
        if isinstance(value, base):
            return _ag_encode(base(value), depth)
    if hasattr(value, "tolist"):
        return _ag_encode(value.tolist(), depth)
    raise TypeError("a value of type " + kind.__name__ + " is not plain data")


def _ag_decode(value, depth=0):
    # The inverse of _ag_encode; anything else is refused (ValueError), never turned into an object.
    if depth > 100:
        raise ValueError("value nested deeper than 100 levels")
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is float or kind is str:
        return value
    if kind is list:
        return [_ag_decode(v, depth + 1) for v in value]
    if kind is dict and len(value) == 1:
        tag, body = next(iter(value.items()))
        if tag == "b" and type(body) is str:
            return bytes.fromhex(body)
        if tag == "c" and type(body) is list and len(body) == 2:
            return complex(float(body[0]), float(body[1]))
        if type(body) is list:
            if tag == "t":
                return tuple(_ag_decode(v, depth + 1) for v in body)
            if tag == "s":
                return {_ag_decode(v, depth + 1) for v in body}
            if tag == "f":
                return frozenset(_ag_decode(v, depth + 1) for v in body)
            if tag == "d" and all(type(p) is list and len(p) == 2 for p in body):
                return {_ag_decode(k, depth + 1): _ag_decode(v, depth + 1) for k, v in body}
    raise ValueError("not an encoded value")
'''

_SERVER_MAIN = r'''
import io as _ag_io
import sys as _ag_sys


def _ag_main():
    # Every call is read before the candidate's code runs: its own reads of stdin find nothing.
    calls = [_ag_json.loads(line) for line in _ag_sys.stdin.read().splitlines() if line]
    real = _ag_sys.stdout
    _ag_sys.stdout = _ag_io.StringIO()
    _ag_sys.stdin = _ag_io.StringIO()
    ns = {"__name__": "__solution__", "__builtins__": __builtins__}
    exec(compile(_AG_CODE, "<solution>", "exec"), ns)
    entry = _alphagen_entry(ns, _AG_ENTRY, _AG_CLASS)
    for name, args, kwargs in calls:
        # name None: the entry point; else a helper of the prompt's that check calls (the program's own
        # definition of it, as in the official harness, where the completion may redefine it).
        function = entry if name is None else ns.get(name)
        if not callable(function):
            real.write(_ag_json.dumps({"missing": True}) + "\n")
            continue
        try:
            value = function(*_ag_decode(args), **_ag_decode(kwargs))
            line = _ag_json.dumps({"r": _ag_encode(value)})
        except Exception as exc:
            line = _ag_json.dumps({"e": type(exc).__name__, "m": str(exc)[:300]})
        real.write(line + "\n")
    real.flush()


_ag_main()
'''

_EVALUATOR_MAIN = r'''
import ast as _ag_ast
import builtins as _ag_builtins
import io as _ag_io
import random as _ag_random
import sys as _ag_sys

_AG_LIMIT = 100000
"""The most calls one check may make."""


class _AgMore(BaseException):
    """check made a call beyond the answered ones (a BaseException: check's own `except Exception` lets it by)."""


class _AgStop(BaseException):
    """Discovery cannot go on: the next call's arguments depend on an answer not known yet."""


class _AgPending:
    """Discovery's placeholder answer: equal to anything, true, empty, zero; arithmetic keeps it pending."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __lt__ = __le__ = __gt__ = __ge__ = __eq__

    def __bool__(self):
        return True

    def __len__(self):
        return 0

    def __iter__(self):
        return iter(())

    def __contains__(self, item):
        return False

    def __hash__(self):
        return 0

    def __float__(self):
        return 0.0

    def __int__(self):
        return 0

    __index__ = __int__

    def __repr__(self):
        return "<pending>"

    def _pending(self, *args, **kwargs):
        return self

    __getitem__ = __call__ = __neg__ = __pos__ = __abs__ = __round__ = _pending
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _pending
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __pow__ = __rpow__ = _pending
    __and__ = __rand__ = __or__ = __ror__ = __xor__ = __rxor__ = _pending

    def __getattr__(self, name):
        return self


def _ag_mentions_pending(value):
    if isinstance(value, _AgPending):
        return True
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_ag_mentions_pending(v) for v in value)
    if isinstance(value, dict):
        return any(_ag_mentions_pending(k) or _ag_mentions_pending(v) for k, v in value.items())
    return False


class _AgSoftAsserts(_ag_ast.NodeTransformer):
    """`assert test, msg` -> `try: test / except Exception: pass`: discovery runs past every assert."""

    def visit_Assert(self, node):
        guard = _ag_ast.Try(
            body=[_ag_ast.Expr(node.test)],
            handlers=[_ag_ast.ExceptHandler(type=_ag_ast.Name("Exception", _ag_ast.Load()), name=None,
                                            body=[_ag_ast.Pass()])],
            orelse=[],
            finalbody=[],
        )
        return _ag_ast.copy_location(guard, node)


def _ag_helpers():
    """Top-level functions the prompt defines besides the entry point (HumanEval/32's poly, /50's
    encode_shift): check may call them, and a program may redefine them."""
    try:
        tree = _ag_ast.parse(_AG_PROMPT)
    except Exception:
        return []  # a stub that does not compile on its own defines nothing check needs
    return [node.name for node in tree.body
            if isinstance(node, (_ag_ast.FunctionDef, _ag_ast.AsyncFunctionDef)) and node.name != _AG_ENTRY]


def _ag_check(soft, proxy, proxied):
    # The problem's own prompt first (its helpers), then its test code, in the namespace check will see, as the
    # official harness builds it; the entry point (check may call it by name: HumanEval/33) and the helpers the
    # program redefines (`proxied`) are then proxies to the program's own definitions.
    ns = {"__name__": "__alphagen_check__", "__builtins__": _ag_builtins}
    try:
        exec(compile(_AG_PROMPT, "<prompt>", "exec"), ns)
    except Exception:
        pass
    trusted = {name: ns[name] for name in _ag_helpers() if callable(ns.get(name))}
    tree = _ag_ast.parse(_AG_TEST, "<test>")
    if soft:
        tree = _ag_ast.fix_missing_locations(_AgSoftAsserts().visit(tree))
    exec(compile(tree, "<test>", "exec"), ns)
    ns[_AG_ENTRY] = proxy(None, None)
    for name, function in trusted.items():
        if name in proxied:
            ns[name] = proxy(name, function)
    return ns["check"], ns[_AG_ENTRY]


def _ag_answer(line):
    """("value", v), ("raised", (type name, message)) or ("missing", None): one answer line, decoded."""
    record = _ag_json.loads(line)
    if type(record) is dict and "r" in record:
        return "value", _ag_decode(record["r"])
    if type(record) is dict and type(record.get("e")) is str and type(record.get("m")) is str:
        return "raised", (record["e"], record["m"])
    if record == {"missing": True}:
        return "missing", None
    raise ValueError("not an answer")


class _AgRaised(Exception):
    """The candidate raised an exception this evaluator has no builtin class for."""


def _ag_raise(name, message):
    # The candidate's exception, as a builtin class where there is one, so `check` can catch it by name.
    cls = getattr(_ag_builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            raise cls(message)
        except TypeError:
            pass
    raise _AgRaised(name + ": " + message)


def _ag_run(calls, lines, soft, made, proxied):
    """Run check once, appending each call it makes to `made`. Answers come from `lines` (the call server's,
    for `calls`); a call past them raises _AgMore, or in discovery (soft) gets a placeholder (a helper: the
    prompt's own definition's value, which a program that keeps the helper answers too)."""

    def proxy(name, trusted):
        def call(*args, **kwargs):
            if len(made) >= _AG_LIMIT:
                raise _AgStop()
            if _ag_mentions_pending((args, kwargs)):
                raise _AgStop()
            record = [name, _ag_encode(list(args)), _ag_encode(dict(kwargs))]
            k = len(made)
            made.append(record)
            if k < len(calls) and calls[k] == record:
                if k >= len(lines):
                    raise RuntimeError("the program ended before answering call " + str(k + 1))
                try:
                    answer = _ag_answer(lines[k])
                except Exception:
                    raise RuntimeError("call " + str(k + 1) + ": the program's answer is not plain data") from None
                if answer[0] == "value":
                    return answer[1]
                if answer[0] == "missing" and trusted is not None:
                    return trusted(*args, **kwargs)  # the program keeps the prompt's definition
                if answer[0] == "missing":
                    raise NameError("the program defines no function " + repr(_AG_ENTRY))
                _ag_raise(*answer[1])
            if not soft:
                raise _AgMore()
            return trusted(*args, **kwargs) if trusted is not None else _AgPending()

        call.__name__ = name or _AG_ENTRY
        return call

    check, candidate = _ag_check(soft, proxy, proxied)
    # The same pseudo-random draws in every run (HumanEval/53's check draws unseeded): a round's calls must be
    # the ones the next round answers.
    _ag_random.seed(0)
    real = _ag_sys.stdout
    _ag_sys.stdout = _ag_io.StringIO()
    try:
        check(candidate)
    finally:
        _ag_sys.stdout = real


def _ag_main():
    request = _ag_json.loads(_ag_sys.stdin.readline())
    calls, proxied = request["calls"], set(request["proxied"])
    lines = _ag_sys.stdin.read().splitlines()
    try:
        _ag_run(calls, lines, False, [], proxied)
        reply = {"verdict": "pass"}
    except _AgMore:
        # A call beyond the answered ones: list the calls check makes, answered ones first, as far as
        # discovery gets (it stops where an argument needs an answer not known yet).
        made = []
        try:
            _ag_run(calls, lines, True, made, proxied)
        except (Exception, _AgStop):
            pass
        reply = {"more": made}
    except BaseException as exc:
        text = (type(exc).__name__ + ": " + str(exc)).strip().rstrip(":")
        reply = {"verdict": "fail", "error": text[:500]}
    print(_ag_json.dumps(reply))


_ag_main()
'''


def call_server(code: str, entry_point: str, entry_class: str | None = None) -> str:
    """The untrusted side: the candidate's code and a loop answering the calls on stdin (see the module doc)."""
    head = f"_AG_CODE = {code!r}\n_AG_ENTRY = {entry_point!r}\n_AG_CLASS = {entry_class!r}\n"
    return head + CODEC + ENTRY_SOURCE + _SERVER_MAIN


def evaluator(prompt: str, test_code: str, entry_point: str) -> str:
    """The trusted side: the problem's prompt and test code, and `check(candidate)` over the answers."""
    head = f"_AG_PROMPT = {prompt!r}\n_AG_TEST = {test_code!r}\n_AG_ENTRY = {entry_point!r}\n"
    return head + CODEC + _EVALUATOR_MAIN


def evaluator_input(calls: list[object], answers: str, proxied: Sequence[str] = ()) -> str:
    """The evaluator's stdin: the calls and the helpers to proxy (one JSON line), then the call server's answer
    lines as they came."""
    return json.dumps({"calls": calls, "proxied": sorted(proxied)}) + "\n" + answers


def redefined_helpers(prompt: str, code: str, entry_point: str) -> list[str]:
    """The prompt's top-level functions (besides the entry point) that `code` defines differently: `check` must
    call the program's own version of those (as the official harness would: the completion follows the prompt),
    and may call the prompt's for the rest, which the program keeps or leaves to the prompt. Total on candidate
    text: when the program cannot be read, every helper is the program's."""
    try:
        tree = ast.parse(prompt)
        helpers = {n.name: ast.dump(n) for n in tree.body if isinstance(n, _DEFS) and n.name != entry_point}
    except Exception:  # noqa: BLE001 - a stub that does not parse on its own defines no helper
        return []
    try:
        mine = {n.name: ast.dump(n) for n in ast.parse(code).body if isinstance(n, _DEFS)}
    except Exception:  # noqa: BLE001 - any failure to read candidate text: trust nothing of it
        return sorted(helpers)
    return sorted(name for name, dump in helpers.items() if name in mine and mine[name] != dump)


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)


def server_input(calls: list[object]) -> str:
    """The call server's stdin: one JSON line per call."""
    return "".join(json.dumps(call) + "\n" for call in calls)
