"""The run directory: append-only JSON lines plus atomically replaced summaries: nothing lost on a crash.

Layout:
  config.json             what produced the run (a resume must match it)
  problems/<name>.jsonl   append-only events per problem: start, samples, verdict..., error, done
  results.jsonl           one line per finished problem, appended and fsynced only once it is complete
  summary.json            aggregate metrics, replaced atomically after every problem
  report.html, solve_rate.png

A `kill -9` can leave a torn last line in any .jsonl file: readers skip it and writers cut it off before
appending, so the next line never glues onto a fragment.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from alphagen.atomic import write_atomic

CONFIG = "config.json"
RESULTS = "results.jsonl"
SUMMARY = "summary.json"
PROBLEMS = "problems"
LOCK = ".lock"


class RunDirError(Exception):
    """A run directory cannot be used as asked (exists, config differs, locked, ...)."""


def safe_name(name: str) -> str:
    """A file name for a problem name; names that had to change get a short hash so two never collide."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "problem"
    if cleaned == name:
        return name
    return f"{cleaned[:80]}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """All complete JSON-object lines; a torn or garbled line (crash mid-write) is skipped, not fatal."""
    if not path.exists():
        return []
    out: list[dict[str, Any]] = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            # A line without its newline was being written when the process died.
            if not line.endswith("\n"):
                break
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
    return out


def repair_tail(path: Path) -> None:
    """Cut a torn last line off so the next append starts on a fresh line."""
    if not path.exists():
        return
    with open(path, "rb+") as f:
        data = f.read()
        if not data or data.endswith(b"\n"):
            return
        f.truncate(data.rfind(b"\n") + 1)


def append_jsonl(path: Path, obj: dict[str, Any], sync: bool = False) -> None:
    """Append one line; with `sync`, fsync so the line survives a power cut (used for commit points)."""
    line = json.dumps(obj, ensure_ascii=False, sort_keys=True) + "\n"
    if not line.isascii():
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate in a candidate's text: escaped (\udXXX), it still round-trips through json.
            line = json.dumps(obj, sort_keys=True) + "\n"
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        if sync:
            os.fsync(f.fileno())


class RunStore:
    """One run directory, opened for writing by one process at a time."""

    def __init__(
        self, root: Path, config: dict[str, Any], resume: bool, compare_keys: tuple[str, ...],
        upgrade: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        """Create `root` for a new run, or reopen it with `resume` (config must match on `compare_keys`; `upgrade`
        reads both configs in today's terms, e.g. a key it lacks as the setting that run used
        implicitly)."""
        self.root = root
        self._lock: IO[str] | None = None
        existing = root / CONFIG
        if not resume and root.exists() and any(root.iterdir()):
            raise RunDirError(
                f"{root} already exists and is not empty: pass --resume to continue it, or a new --out"
            )
        if resume and not root.is_dir():
            raise RunDirError(f"--resume needs an existing run directory, got {root}")
        root.mkdir(parents=True, exist_ok=True)
        self._acquire_lock()
        if resume and existing.exists():
            old = json.loads(existing.read_text(encoding="utf-8"))
            old, new = (upgrade(old), upgrade(config)) if upgrade is not None else (old, config)
            diffs = [k for k in compare_keys if old.get(k) != new.get(k)]
            if diffs:
                self.close()
                detail = ", ".join(f"{k}: run has {old.get(k)!r}, now {new.get(k)!r}" for k in diffs)
                raise RunDirError(f"cannot resume {root}: settings differ ({detail}); use a new --out")
        # The config is written first (atomically) so a run killed at any later point can be resumed; a resume
        # keeps the original file, the record of how the run started. (Resuming a run killed before it even
        # wrote its config simply starts it.)
        if not existing.exists():
            write_atomic(existing, json.dumps(config, indent=2, sort_keys=True) + "\n")
        (root / PROBLEMS).mkdir(exist_ok=True)
        repair_tail(root / RESULTS)

    def _acquire_lock(self) -> None:
        # Two processes appending to the same files would interleave problems: refuse the second one.
        f = open(self.root / LOCK, "w")  # noqa: SIM115 - held open for the life of the store
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            f.close()
            raise RunDirError(f"{self.root} is in use by another alphagen bench process") from e
        self._lock = f

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- finished problems -------------------------------------------------------------------------------
    def finished(self) -> dict[str, dict[str, Any]]:
        """Finished problems by name (a name written twice keeps its last record: never counted twice)."""
        return {str(r["name"]): r for r in read_jsonl(self.root / RESULTS) if "name" in r}

    def commit(self, record: dict[str, Any]) -> None:
        """Mark a problem finished: the one durable commit point of a problem."""
        append_jsonl(self.root / RESULTS, record, sync=True)

    # -- per-problem event logs ----------------------------------------------------------------------------
    def events_path(self, name: str) -> Path:
        return self.root / PROBLEMS / f"{safe_name(name)}.jsonl"

    def events(self, name: str) -> list[dict[str, Any]]:
        path = self.events_path(name)
        repair_tail(path)
        return read_jsonl(path)

    def log(self, name: str, event: dict[str, Any]) -> None:
        append_jsonl(self.events_path(name), event)

    # -- summaries -------------------------------------------------------------------------------------------
    def write_summary(self, summary: dict[str, Any]) -> None:
        write_atomic(self.root / SUMMARY, json.dumps(summary, indent=2, sort_keys=True) + "\n")
