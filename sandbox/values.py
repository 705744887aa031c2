"""Typed values the executor takes and returns. Standard library only: the zygote never imports this."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


def text_bytes(text: str | bytes) -> bytes:
    """UTF-8 of a text that may hold any code point: raw bytes smuggled as U+DC80..U+DCFF (surrogateescape)
    become those bytes again; any other lone surrogate is written as its 3-byte form (an invalid UTF-8 sequence
    for the program to make of what it will), never an exception in the caller."""
    if isinstance(text, bytes):
        return text
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


class Status(str, Enum):
    """How one execution ended. A program's failure is a status, never an exception in the caller."""

    OK = "ok"
    RUNTIME_ERROR = "runtime_error"
    TIME_LIMIT = "time_limit"
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"
    COMPILE_ERROR = "compile_error"
    SANDBOX_ERROR = "sandbox_error"


class Language(str, Enum):
    PYTHON = "python"
    CPP = "cpp"


@dataclass(frozen=True)
class Limits:
    """Per-execution limits. Defaults are the problem kind's defaults; the problem file overrides them."""

    time_s: float = 2.0
    """CPU seconds per test (RLIMIT_CPU-backed, measured exactly)."""
    wall_s: float | None = None
    """Wall-clock seconds per test; None means 2 * time_s + 1 (sleeping programs are killed too)."""
    memory_mb: int = 256
    """Address-space / resident limit in MiB."""
    output_bytes: int = 1 << 20
    """stdout is capped here; a program writing more gets Status.OUTPUT_LIMIT."""
    stderr_tail_bytes: int = 4096
    """How much of the end of stderr a result keeps."""

    def __post_init__(self) -> None:
        if self.time_s <= 0:
            raise ValueError(f"time_s must be > 0, got {self.time_s}")
        if self.wall_s is not None and self.wall_s <= 0:
            raise ValueError(f"wall_s must be > 0, got {self.wall_s}")
        if self.memory_mb < 16:
            raise ValueError(f"memory_mb must be >= 16, got {self.memory_mb}")
        if self.output_bytes < 1:
            raise ValueError(f"output_bytes must be >= 1, got {self.output_bytes}")

    @property
    def effective_wall_s(self) -> float:
        return self.wall_s if self.wall_s is not None else 2 * self.time_s + 1


@dataclass(frozen=True)
class Program:
    """A candidate program: source text and its language."""

    source: str
    language: Language = Language.PYTHON


@dataclass(frozen=True)
class Result:
    """The outcome of one program on one input."""

    program_index: int
    input_index: int
    status: Status
    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int | None = None
    signal: int | None = None
    cpu_s: float = 0.0
    wall_s: float = 0.0
    peak_memory_kb: int = 0
    passed: bool | None = None
    """Set when the caller gave expected outputs: did stdout match (under the compare options)?"""
    detail: str = field(default="")
    """Human-readable reason for non-ok statuses (compiler error tail, sandbox problem...)."""

    @property
    def ok(self) -> bool:
        return self.status is Status.OK
