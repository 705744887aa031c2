"""`Json`: the type of a value `json.loads` returns, for code that reads decoded JSON (problem rows, stored
results, function problems' arguments). A room of its own so the low modules can share it without importing
one another."""

from __future__ import annotations

from typing import TypeAlias

Json: TypeAlias = "None | bool | int | float | str | list[Json] | dict[str, Json]"
"""A value json.loads may return; recursive, so nested lists and objects keep their element types."""
