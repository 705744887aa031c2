"""Read problems from files and directories: one object, a JSON list, `.jsonl` (optionally gzipped), parquet.

The row format (ours, CodeContests, APPS, HumanEval, LiveCodeBench) is detected per row and recorded in
`Problem.source`.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any, Literal, overload

from alphagen.jsonvalue import Json
from alphagen.problems.apps import looks_like_apps, parse_apps
from alphagen.problems.codecontests import looks_like_codecontests, parse_codecontests
from alphagen.problems.errors import ProblemError, type_name
from alphagen.problems.humaneval import looks_like_humaneval, parse_humaneval
from alphagen.problems.livecodebench import looks_like_livecodebench, parse_livecodebench
from alphagen.problems.model import Problem
from alphagen.problems.ours import looks_like_ours, parse_ours

SUFFIXES = (".json", ".jsonl", ".jsonl.gz", ".json.gz", ".parquet")
PathLike = str | Path


def problem_files(path: Path) -> list[Path]:
    """The path itself, or every problem file under a directory (recursive, sorted for stable order)."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))
    return [path]


def _text(path: Path) -> str:
    """UTF-8 text of a file (gunzipped if needed); unreadable bytes are a one-line error."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ProblemError(str(path), None, f"cannot read: {e.strerror or e}") from None
    if path.name.endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise ProblemError(str(path), None, f"not a valid gzip file: {e}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProblemError(str(path), None, f"not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start})") from None


def _json(text: str, where: str) -> Json:
    if not text.strip():
        raise ProblemError(where, None, "file is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ProblemError(where, None, f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None


def _rows(path: Path) -> Iterator[tuple[str, Any]]:
    """(location, decoded row) for every row of one file; file-level errors raise before any row."""
    name = str(path)
    if path.name.endswith(".parquet"):
        yield from _parquet_rows(path)
        return
    text = _text(path)
    if path.name.endswith((".jsonl", ".jsonl.gz")):
        # Decode every line first: a broken line is reported with its number, later lines still load.
        for lineno, line in enumerate(text.splitlines(), 1):
            if line.strip():
                where = f"{name}:{lineno}"
                try:
                    yield where, json.loads(line)
                except json.JSONDecodeError as e:
                    yield where, ProblemError(where, None, f"invalid JSON at column {e.colno}: {e.msg}")
        return
    data = _json(text, name)
    if isinstance(data, list):
        for i, row in enumerate(data):
            yield f"{name}[{i}]", row
    else:
        yield name, data


def _parquet_rows(path: Path) -> Iterator[tuple[str, Any]]:
    try:
        import pyarrow.parquet as pq  # optional: only CodeContests' parquet export needs it
    except ImportError:
        raise ProblemError(str(path), None, "reading parquet needs pyarrow: pip install pyarrow") from None
    try:
        table = pq.read_table(path)
    except Exception as e:  # pyarrow raises many types for a broken file
        raise ProblemError(str(path), None, f"not a readable parquet file: {e}") from None
    for i, row in enumerate(table.to_pylist()):
        yield f"{path}[{i}]", row


def _index_flags(directory: Path, cache: dict[Path, dict[str, bool] | None]) -> dict[str, bool] | None:
    """CodeContests folder index.json: file name -> likely_multiple_valid_answers (None when absent)."""
    if directory not in cache:
        cache[directory] = None
        index = directory / "index.json"
        try:
            entries = json.loads(index.read_text(encoding="utf-8")) if index.is_file() else None
        except (OSError, ValueError):
            entries = None
        if _is_index(entries):
            cache[directory] = {e["file"]: bool(e.get("likely_multiple_valid_answers", False)) for e in entries or ()}
    return cache[directory]


def _is_index(data: object) -> bool:
    """A list of summaries with a 'file' key each, not a list of problems."""
    return isinstance(data, list) and bool(data) and all(isinstance(e, Mapping) and "file" in e for e in data)


def parse_row(data: object, where: str, multiple_answers: bool | None = None) -> Problem:
    """Detect the format of one decoded row and convert it."""
    if not isinstance(data, Mapping):
        raise ProblemError(where, None, f"a problem must be a JSON object, got {type_name(data)}")
    if looks_like_livecodebench(data):
        return parse_livecodebench(data, where)
    if looks_like_humaneval(data):
        return parse_humaneval(data, where)
    if looks_like_apps(data):
        return parse_apps(data, where)
    if looks_like_codecontests(data):
        return parse_codecontests(data, where, multiple_answers)
    if looks_like_ours(data) or "public_tests" in data:
        return parse_ours(dict(data), where)
    raise ProblemError(
        where,
        None,
        "not a problem: expected our format (name, description, public_tests) or a CodeContests, APPS, HumanEval "
        "or LiveCodeBench row",
    )


def _load_file(path: Path, cache: dict[Path, dict[str, bool] | None]) -> Iterator[Problem | ProblemError]:
    """Problems and per-row errors of one file; a file-level error ends the file."""
    flags = _index_flags(path.parent, cache)
    try:
        if path.name == "index.json" and flags is not None:
            return  # the CodeContests folder summary, not a problem
        for where, data in _rows(path):
            if isinstance(data, ProblemError):
                yield data
                continue
            try:
                yield parse_row(data, where, None if flags is None else flags.get(path.name, False))
            except ProblemError as e:
                yield e
    except ProblemError as e:
        yield e


@overload
def load_problems(paths: PathLike | Iterable[PathLike], errors: Literal["raise"] = "raise") -> list[Problem]: ...
@overload
def load_problems(
    paths: PathLike | Iterable[PathLike], errors: Literal["collect"]
) -> tuple[list[Problem], list[ProblemError]]: ...
def load_problems(
    paths: PathLike | Iterable[PathLike], errors: Literal["raise", "collect"] = "raise"
) -> list[Problem] | tuple[list[Problem], list[ProblemError]]:
    """Every problem under `paths` (files or directories). errors='raise' stops at the first bad file or row;
    errors='collect' returns (problems, errors) and keeps going."""
    if errors not in ("raise", "collect"):
        raise ValueError(f"errors must be 'raise' or 'collect', got {errors!r}")
    roots = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    problems: list[Problem] = []
    found_errors: list[ProblemError] = []
    seen: dict[str, str] = {}
    cache: dict[Path, dict[str, bool] | None] = {}
    for root in roots:
        if not root.exists():
            missing = ProblemError(str(root), None, "no such file or directory")
            if errors == "raise":
                raise missing
            found_errors.append(missing)
        for path in problem_files(root) if root.exists() else []:
            for item in _load_file(path, cache):
                # Names key results and output files: a second problem with the same name is an error.
                if isinstance(item, Problem) and item.name in seen:
                    item = ProblemError(item.source.split(" (")[0], "name", f"duplicate of {seen[item.name]}")
                if isinstance(item, ProblemError):
                    if errors == "raise":
                        raise item
                    found_errors.append(item)
                    continue
                seen[item.name] = item.source.split(" (")[0]
                problems.append(item)
    if errors == "raise":
        return problems
    return problems, found_errors


def load_problem(path: PathLike) -> Problem:
    """Exactly one problem from a file, else ProblemError."""
    problems = load_problems(path)
    if len(problems) != 1:
        raise ProblemError(str(path), None, f"must hold exactly one problem, got {len(problems)}")
    return problems[0]


def released_since(problems: Iterable[Problem], since: date) -> tuple[list[Problem], int, int]:
    """(problems released on or after `since`, how many were older, how many give no date). A problem without a
    date is left out too: nothing shows it is newer than a model's training data, which is what --since is for."""
    kept, older, undated = [], 0, 0
    for problem in problems:
        if problem.released is None:
            undated += 1
        elif problem.released < since:
            older += 1
        else:
            kept.append(problem)
    return kept, older, undated
