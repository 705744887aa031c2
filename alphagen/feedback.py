"""What a failed run shows: the feedback text the example filter keeps for each failure, and the clipping that
keeps it (and anything else a repair prompt quotes) short.

The filter (`alphagen.sample_filter`) writes it into each candidate's outcome; repair (`alphagen.repair`) quotes it
in a repair prompt. Neither owns the other: both read this module.
"""

from __future__ import annotations

from alphagen import extract
from alphagen.statuses import TestStatus

MAX_LINES = 20
"""A program's output, an error tail or an example shown in a repair prompt is cut to this many lines ..."""
MAX_CHARS = 1000
"""... and this many characters: enough to see the mistake, few enough to keep the prompt short."""


def clip_head(text: str) -> str:
    """The first MAX_LINES lines / MAX_CHARS characters of an output, marked when cut."""
    lines = text.splitlines()
    cut = "\n".join(lines[:MAX_LINES])[:MAX_CHARS]
    return cut + "\n... (cut)" if cut != text.rstrip("\n") else cut


def clip_tail(text: str) -> str:
    """The last MAX_LINES lines / MAX_CHARS characters of an error stream (the traceback's end says why)."""
    lines = text.rstrip("\n").splitlines()
    cut = "\n".join(lines[-MAX_LINES:])[-MAX_CHARS:]
    return "(cut) ...\n" + cut if cut != text.rstrip("\n") else cut


def feedback_text(status: TestStatus, stdout: bytes, stderr: bytes, detail: str) -> str:
    """What a repair prompt shows of a failed run: the output of a wrong answer, the error tail of a crash or of a
    compiler, nothing for a limit (the status says it all)."""
    if status is TestStatus.WRONG_ANSWER:
        return clip_head(stdout.decode("utf-8", errors="replace"))
    if status in (TestStatus.RUNTIME_ERROR, TestStatus.COMPILE_ERROR):
        err = stderr.decode("utf-8", errors="replace").strip() or detail.strip()
        return clip_tail(err)
    return ""


def syntax_feedback(code: str) -> str:
    """The Python compiler's message for a program that does not compile (it never reached the sandbox)."""
    # Total on hostile text (RecursionError, MemoryError, ...): that error is the message.
    error = extract.python_compile_error(code)
    return clip_tail(error) if error is not None else ""
