"""The one error type every loader raises: a single line naming the file (and row) and the field."""

from __future__ import annotations


class ProblemError(ValueError):
    """A problem file or row that cannot be read.

    `str(e)` is one line: ``problems/x.json: field 'public_tests[0].output': must be a string, got int``.
    `path` is the file, with ``:LINE`` for a row of a ``.jsonl``; `field` is None for whole-file errors
    (truncated JSON, bad encoding).
    """

    def __init__(self, path: str, field: str | None, message: str) -> None:
        self.path = str(path)
        self.field = field
        # Newlines inside messages would break the one-line-per-error promise of `check`.
        self.message = " ".join(str(message).split())
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.field is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}: field '{self.field}': {self.message}"

    def __reduce__(self) -> tuple[type[ProblemError], tuple[str, str | None, str]]:
        # Keep it picklable across worker processes despite the custom constructor.
        return (ProblemError, (self.path, self.field, self.message))


def type_name(value: object) -> str:
    """JSON-flavoured type names for messages: 'got int', 'got null', 'got object'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__
