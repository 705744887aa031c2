"""Typed field readers over one JSON row: each failure is a ProblemError naming file and field path."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from alphagen.problems.errors import ProblemError, type_name
from alphagen.problems.model import Solution, Test

NAME_RE = re.compile(r"^[a-z0-9_.-]+$")
IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_MISSING = object()


def slug(text: str) -> str:
    """A file-name-like problem name from a title: '1012_B. Chemical table' -> '1012_b-chemical-table'."""
    return re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-") or "problem"


class Row:
    """One JSON object being read, with the location used in every error it raises."""

    def __init__(self, data: Mapping[str, Any], where: str, prefix: str = "") -> None:
        self.data = data
        """The decoded JSON object."""
        self.where = where
        """'path' or 'path:line', the first part of every error message."""
        self.prefix = prefix
        """Field path of this object inside the row ('checker.' for a nested object)."""

    def error(self, key: str, message: str) -> ProblemError:
        return ProblemError(self.where, f"{self.prefix}{key}", message)

    def child(self, key: str) -> Row:
        """The nested object under `key` (which must be an object)."""
        value = self.data.get(key)
        if not isinstance(value, Mapping):
            raise self.error(key, f"must be an object, got {type_name(value)}")
        return Row(value, self.where, f"{self.prefix}{key}.")

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def get(self, key: str, default: object = None) -> object:
        return self.data.get(key, default)

    def string(self, key: str, *, required: bool = True, nonempty: bool = False) -> str | None:
        value = self.data.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                raise self.error(key, "is required" if value is _MISSING else "must be a string, got null")
            return None
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {type_name(value)}")
        if nonempty and not value.strip():
            raise self.error(key, "must not be empty")
        return value

    def required_string(self, key: str, nonempty: bool = True) -> str:
        value = self.string(key, required=True, nonempty=nonempty)
        assert value is not None  # string(required=True) never returns None
        return value

    def number(self, key: str, default: float, *, minimum: float, maximum: float) -> float:
        value = self.data.get(key)
        if value is None:
            return default
        # bool is an int in Python but never a sensible limit.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.error(key, f"must be a number, got {type_name(value)}")
        if not minimum <= value <= maximum:
            raise self.error(key, f"must be between {minimum:g} and {maximum:g}, got {value:g}")
        return float(value)

    def integer(self, key: str, default: int | None, *, minimum: int, maximum: int) -> int | None:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be an integer, got {type_name(value)}")
        if not minimum <= value <= maximum:
            raise self.error(key, f"must be between {minimum} and {maximum}, got {value}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {type_name(value)}")
        return value

    def string_list(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.error(key, f"must be a list of strings, got {type_name(value)}")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error(f"{key}[{i}]", f"must be a string, got {type_name(item)}")
        return tuple(value)

    def tests(self, key: str, *, required: bool) -> tuple[Test, ...]:
        """A list of {"input": str, "output": str} objects; `required` means present and non-empty."""
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.error(key, 'is required (a list of {"input", "output"} objects)')
            return ()
        if not isinstance(value, list):
            raise self.error(key, f"must be a list of tests, got {type_name(value)}")
        if required and not value:
            raise self.error(key, "must hold at least one test, got an empty list")
        tests = []
        for i, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise self.error(f"{key}[{i}]", f"must be an object with input and output, got {type_name(item)}")
            row = Row(item, self.where, f"{self.prefix}{key}[{i}].")
            tests.append(Test(input=row.required_string("input", False), output=row.required_string("output", False)))
        return tuple(tests)

    def solution(self, key: str) -> Solution:
        row = self.child(key)
        language = row.required_string("language")
        if language not in ("python", "cpp"):
            raise row.error("language", f"must be 'python' or 'cpp', got {language!r}")
        return Solution(language="python" if language == "python" else "cpp", code=row.required_string("code"))
