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
