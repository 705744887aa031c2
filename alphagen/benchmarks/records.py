"""Per-problem records of a long benchmark: an interrupted run resumes at the next problem, none scored twice.

Each finished problem's figures are appended as one JSON line (`alphagen.evaluation.store`'s torn-line-safe
JSONL). A record file is named by a hash of everything that changes a result (settings, seeds, model, data, and a
fingerprint of the code that computes it), so a run with other settings or code starts its own file instead of
reusing stale figures.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from alphagen.evaluation.store import append_jsonl, read_jsonl, repair_tail


def code_fingerprint(files: Iterable[Path]) -> str:
    """A short hash of these source files (names and contents, in name order)."""
    digest = hashlib.sha256()
    for f in sorted(files):
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:16]


class ProblemRecords:
    """The finished problems of one keyed run: `done` maps a problem name to its stored figures."""

    def __init__(self, work: Path | None, name: str, key: dict[str, Any]) -> None:
        digest = hashlib.sha256(json.dumps({**key, "name": name}, sort_keys=True).encode()).hexdigest()[:12]
        self.path = work / f"{name}-{digest}.jsonl" if work is not None else None
        self.done: dict[str, dict[str, Any]] = {}
        if self.path is not None:
            # A line cut short by the interruption is skipped (that problem is scored again) and cut off, so the
            # next record starts on a line of its own.
            for rec in read_jsonl(self.path):
                if isinstance(rec.get("case"), str) and isinstance(rec.get("figures"), dict):
                    self.done[rec["case"]] = rec["figures"]
            repair_tail(self.path)

    def record(self, case: str, figures: dict[str, Any]) -> None:
        self.done[case] = figures
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            append_jsonl(self.path, {"case": case, "figures": figures})
