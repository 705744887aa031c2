"""Function-kind problems as stdio programs: the driver source and the token rendering of JSON values.

A function problem's test stores JSON (argument array in, return value out). The driver reads the array on
stdin, runs the candidate module, calls the entry point and prints the result *rendered as tokens*: each JSON
scalar is its own whitespace-separated token (`[ 1 2.5 "a\\u0020b" ]`), so the ordinary token-wise comparison,
float tolerance included, judges return values exactly like stdout. `render` here and `_render` in the driver
implement the same rules; a test keeps them in step.
"""

from __future__ import annotations

import json

from alphagen.jsonvalue import Json


def render(value: Json) -> str:
    """Tokens of a JSON value: brackets, keys and scalars separated by spaces; strings have no raw spaces."""
    out: list[str] = []
    _render_into(value, out)
    return " ".join(out)


def _render_into(value: Json, out: list[str]) -> None:
    if isinstance(value, list):
        out.append("[")
        for v in value:
            _render_into(v, out)
        out.append("]")
    elif isinstance(value, dict):
        # Dict equality ignores order in Python: render keys sorted.
        out.append("{")
        for k in sorted(value):
            out.append(_string(str(k)))
            _render_into(value[k], out)
        out.append("}")
    elif isinstance(value, str):
        out.append(_string(value))
    else:
        out.append(json.dumps(value))


def _string(s: str) -> str:
    return json.dumps(s, ensure_ascii=True).replace(" ", "\\u0020")


def render_json_text(text: str) -> str:
    """The expected stdout for a stored JSON return value."""
    return render(json.loads(text))


# The driver's own copy of the rendering (it runs in the sandbox with the standard library only).
_RENDER_SOURCE = """
def _alphagen_plain(value):
    # JSON round trip with the same conversions a judge of `==` would accept: tuples -> lists, sets -> sorted.
    def default(o):
        if isinstance(o, (set, frozenset)):
            try:
                return sorted(o)
            except TypeError:
                return list(o)
        return repr(o)
    return _alphagen_json.loads(_alphagen_json.dumps(value, default=default))


def _alphagen_string(s):
    return _alphagen_json.dumps(s, ensure_ascii=True).replace(" ", "\\\\u0020")


def _alphagen_render(value, out):
    if isinstance(value, list):
        out.append("[")
        for v in value:
            _alphagen_render(v, out)
        out.append("]")
    elif isinstance(value, dict):
        out.append("{")
        for k in sorted(value):
            out.append(_alphagen_string(str(k)))
            _alphagen_render(value[k], out)
        out.append("}")
    elif isinstance(value, str):
        out.append(_alphagen_string(value))
    else:
        out.append(_alphagen_json.dumps(value))


def _alphagen_load(code):
    # Run the candidate as a module not named __main__, so its `if __name__ == "__main__":` block stays idle.
    ns = {"__name__": "__solution__", "__builtins__": __builtins__}
    exec(compile(code, "<solution>", "exec"), ns)
    return ns
"""

ENTRY_SOURCE = """
def _alphagen_entry(ns, name, cls_name):
    # The problem's contract: a method of a LeetCode-style class (cls_name, e.g. Solution), else a module-level
    # function (HumanEval's harness calls a top-level function and accepts nothing else).
    if cls_name is not None:
        cls = ns.get(cls_name)
        if cls is None or not hasattr(cls, name):
            raise NameError("the program defines no class " + repr(cls_name) + " with a method " + repr(name))
        return getattr(cls(), name)
    if callable(ns.get(name)):
        return ns[name]
    raise NameError("the program defines no top-level function " + repr(name))
"""
"""The entry point by the problem's contract; shared by the call driver and the hidden harness's call server
(alphagen/problems/evaluator.py), which both run it in the sandbox with the standard library only."""

_CALL_MAIN = """
def _alphagen_main():
    args = _alphagen_json.loads(_alphagen_sys.stdin.read())
    real = _alphagen_sys.stdout
    # The candidate's own prints must not corrupt the rendered result.
    _alphagen_sys.stdout = _alphagen_io.StringIO()
    ns = _alphagen_load(_ALPHAGEN_CODE)
    result = _alphagen_entry(ns, _ALPHAGEN_ENTRY, _ALPHAGEN_CLASS)(*args)
    _alphagen_sys.stdout = real
    out = []
    _alphagen_render(_alphagen_plain(result), out)
    print(" ".join(out))


_alphagen_main()
"""

_PRELUDE = "import io as _alphagen_io\nimport json as _alphagen_json\nimport sys as _alphagen_sys\n"


def call_driver(code: str, entry_point: str, entry_class: str | None = None) -> str:
    """A stdio program: reads a JSON argument array, calls `entry_point` (a method of `entry_class` when given),
    prints the rendered result."""
    head = (
        f"{_PRELUDE}_ALPHAGEN_CODE = {code!r}\n_ALPHAGEN_ENTRY = {entry_point!r}\n"
        f"_ALPHAGEN_CLASS = {entry_class!r}\n"
    )
    return head + _RENDER_SOURCE + ENTRY_SOURCE + _CALL_MAIN
