"""Shared head of every validator program: strict line-by-line reading with range checks.

Each problem's validator body is appended to `PRELUDE` to make one standalone Python program that reads a
test input on stdin and exits 0 iff the input respects the statement (format and bounds), like testlib.
"""

from __future__ import annotations

PRELUDE = '''\
import re
import sys

_INT = re.compile(r"-?(0|[1-9][0-9]*)")
_text = sys.stdin.read()
if not _text.endswith("\\n"):
    sys.exit("input must end with a newline")
_lines = _text[:-1].split("\\n")
_pos = 0


def fail(msg):
    sys.exit(f"line {_pos}: {msg}")


def read_line():
    global _pos
    if _pos >= len(_lines):
        fail("unexpected end of input")
    _pos += 1
    return _lines[_pos - 1]


def check_int(tok, lo, hi):
    if not _INT.fullmatch(tok) or tok == "-0":
        fail(f"not an integer: {tok[:20]!r}")
    v = int(tok)
    if not lo <= v <= hi:
        fail(f"{v} not in [{lo}, {hi}]")
    return v


def ints(count, lo, hi):
    """A line of exactly `count` integers in [lo, hi] separated by single spaces."""
    toks = read_line().split(" ")
    if len(toks) != count:
        fail(f"expected {count} integers, got {len(toks)}")
    return [check_int(t, lo, hi) for t in toks]


def word(alphabet, min_len, max_len):
    """A line that is one string over `alphabet` with a length in [min_len, max_len]."""
    s = read_line()
    if not min_len <= len(s) <= max_len:
        fail(f"length {len(s)} not in [{min_len}, {max_len}]")
    if s.strip(alphabet):
        fail("unexpected character")
    return s


def done():
    if _pos != len(_lines):
        fail("extra lines after the input")
    sys.exit(0)


LOWER = "abcdefghijklmnopqrstuvwxyz"
'''
