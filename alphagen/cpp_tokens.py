"""The dedup key of a C++ program: its preprocessing-token stream, or None when the text is too odd to be sure.

Two programs may share a key only when g++ sees the same program in both. Comments and the whitespace between
tokens are dropped, because the compiler drops them: a comment is one space (translation phase 3) and spacing
cannot change the meaning of tokens that would not glue together anyway. Everything else is kept verbatim:
string and character literals (escapes, prefixes, user-defined suffixes), raw strings, numbers as pp-numbers
(`1e+5` is one token). Where whitespace *can* matter it is kept:

- inside a preprocessor line, as a "space before" mark per token (`#define F(x)` is function-like,
  `#define F (x)` is not), and each directive ends with a newline token;
- everywhere, with each token's physical line, when the program can observe them: a macro that stringizes or
  pastes (`#x`, `a ## b`: `S(a+b)` and `S(a + b)` give different strings) or a token that reads the line
  (`__LINE__`, `std::source_location`, `__builtin_LINE`).

Glue is handled by lexing greedily: identifiers and pp-numbers absorb every character that could continue them,
and operator characters form one run (`a+ +b` gives `+` `+`, `a++b` gives `++`), so text whose tokens would glue
without a space always lexes differently from the spaced text. Only brackets, `;` and `,`, which are never part of
a longer punctuator, stand alone.

Anything this lexer does not fully understand returns None (the caller then keys the raw text, so the program
merges only with an identical one): an unterminated literal or comment, a line splice (backslash-newline) that
is not between tokens, a stray backslash (universal character names), control characters, a carriage return,
trigraphs, the `%:` digraph (a directive introducer), a malformed raw-string delimiter, a header name holding
quotes, comment markers or backslashes, a multi-line comment inside a directive.
"""

from __future__ import annotations

import re

# Operator characters that may glue into longer punctuators; a maximal run of them is one token here.
_OP_CHARS = frozenset("!%&*+-./:<=>?^|~#@`")
# Never part of a longer punctuator (digraphs and trigraphs are refused separately).
_SINGLE = frozenset("()[]{};,")
_WORD_RE = re.compile(r"[A-Za-z0-9_$\x80-\U0010ffff]+")
# pp-number: a digit (or . digit), then identifier characters, dots, signed exponents and digit separators.
_NUMBER_RE = re.compile(r"\.?[0-9](?:[eEpP][+-]|'[A-Za-z0-9_]|[A-Za-z0-9_.$\x80-\U0010ffff])*")
_SPACE = " \t\f\v"
_ENCODING_PREFIXES = frozenset({"L", "u", "U", "u8"})
_RAW_PREFIXES = frozenset({"R", "LR", "uR", "UR", "u8R"})
# Tokens through which a program reads its own line numbers.
_LINE_READERS = frozenset({"__LINE__", "__builtin_LINE", "__builtin_COLUMN", "source_location",
                           "__builtin_source_location"})
# Refused outright: control characters but tab, newline, VT and FF (g++ drops NULs, so `in\0t` is `int`), a
# carriage return, a byte-order mark (g++ skips it, this lexer would glue it to the first token), trigraphs (`??/`
# is a backslash in some modes), the `%:` digraph (a `#`).
_ODD_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f\r\ufeff]|\\?\\?[=/'()!<>\\-]|%:")
# A quoted literal: escapes are a backslash and any character but a newline (possessive: linear on 1 MB lines).
_LITERAL_RES = {q: re.compile(q + r"(?:[^" + q + r"\\\n]++|\\[^\n])*+" + q) for q in ("'", '"')}
_INCLUDES = frozenset({"include", "include_next", "import"})
_HEADER_RE = re.compile(r"[ \t\f\v]*([A-Za-z_]+)([ \t\f\v]*)([<\"])")
# Where a header name may appear outside `#include` (lexed specially by g++, not modelled here).
_HEADER_READERS = frozenset({"__has_include", "__has_include_next"})


class _Unsure(Exception):
    """The text has something this lexer does not model; the caller must not merge it with anything else."""


class _Lexer:
    """One pass over the source: tokens with their 'space before' mark and physical line."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.line = 1
        self.tokens: list[tuple[str, bool, int, bool]] = []  # (text, space before, physical line, in a directive)
        self.directive = False  # inside a preprocessor line
        self.observes_layout = False  # stringizing, pasting or reading __LINE__: spacing and lines matter

    def run(self) -> list[tuple[str, bool, int, bool]]:
        text = self.text
        n = len(text)
        space = False  # whitespace or a comment since the last token
        line_start = True  # nothing but whitespace and comments since the last newline outside a directive
        while self.i < n:
            c = text[self.i]
            if c == "\n":
                self.i += 1
                self.line += 1
                if self.directive:
                    self._end_directive()
                line_start, space = True, True
            elif c in _SPACE:
                self.i += 1
                space = True
            elif c == "\\":
                self._splice()
            elif text.startswith("//", self.i):
                self._line_comment()
                space = True
            elif text.startswith("/*", self.i):
                self._block_comment()
                space = True
            else:
                if c == "#" and line_start:
                    self.directive = True
                    self._add("#", space)
                    self.i += 1
                    self._maybe_header_name()
                else:
                    self._token(space)
                line_start, space = False, False
        if self.directive:
            self._end_directive()
        return self.tokens

    def _add(self, tok: str, space: bool) -> None:
        self.tokens.append((tok, space, self.line, self.directive))

    def _end_directive(self) -> None:
        self._add("\n", False)
        self.directive = False

    def _splice(self) -> None:
        # Backslash-newline joins lines. Safe to drop only between tokens that cannot glue: a space on either
        # side. Anything else (a splice inside a token, a UCN, a stray backslash) is beyond this lexer.
        text, i = self.text, self.i
        if not text.startswith("\\\n", i):
            raise _Unsure("backslash outside a literal")
        before = text[i - 1] if i > 0 else " "
        after = text[i + 2] if i + 2 < len(text) else " "
        if before not in _SPACE + "\n" and after not in _SPACE + "\n":
            raise _Unsure("line splice inside a token")
        self.i += 2
        self.line += 1

    def _line_comment(self) -> None:
        # Up to the newline; a backslash before it (even with spaces between, as g++ accepts) continues the
        # comment onto the next line, which is then commented out too.
        text = self.text
        while True:
            end = text.find("\n", self.i)
            if end < 0:
                self.i = len(text)
                return
            if text[self.i : end].rstrip(_SPACE).endswith("\\"):
                self.i = end + 1
                self.line += 1
                continue
            self.i = end  # the newline itself ends a directive, if any
            return

    def _block_comment(self) -> None:
        end = self.text.find("*/", self.i + 2)
        if end < 0:
            raise _Unsure("unterminated block comment")
        lines = self.text.count("\n", self.i, end)
        if lines and self.directive:
            raise _Unsure("multi-line comment inside a directive")
        self.line += lines
        self.i = end + 2

    def _maybe_header_name(self) -> None:
        # `#include <a/b.h>` or `#include "a.h"`: a header name is not a string literal (no escapes) and
        # not an operator run; take it whole, refusing the characters whose meaning there is unclear.
        m = _HEADER_RE.match(self.text, self.i)
        if m is None or m.group(1) not in _INCLUDES:
            return
        self._add(m.group(1), self.i < m.start(1))
        close = ">" if m.group(3) == "<" else '"'
        start = m.start(3)
        end = self.text.find(close, start + 1)
        newline = self.text.find("\n", start)
        if end < 0 or (0 <= newline < end):
            raise _Unsure("unterminated header name")
        inner = self.text[start + 1 : end]
        if any(s in inner for s in ("//", "/*", "\\", "'", '"')):
            raise _Unsure("odd header name")
        self._add(self.text[start : end + 1], bool(m.group(2)))
        self.i = end + 1

    def _token(self, space: bool) -> None:
        text, i = self.text, self.i
        c = text[i]
        if c in _SINGLE:
            self._add(c, space)
            self.i = i + 1
            return
        if "0" <= c <= "9" or (c == "." and "0" <= text[i + 1 : i + 2] <= "9"):
            m = _NUMBER_RE.match(text, i)
            assert m is not None
            self._add(m.group(), space)
            self.i = m.end()
            return
        if c in _OP_CHARS:
            j = i
            while j < len(text) and text[j] in _OP_CHARS:
                if text.startswith(("//", "/*"), j) or (text[j] == "." and "0" <= text[j + 1 : j + 2] <= "9"):
                    break  # a comment, or a number like .5, starts here
                j += 1
            run = text[i:j]
            if self.directive and "#" in run:
                self.observes_layout = True  # '#x' or 'a ## b' in a macro body
            self._add(run, space)
            self.i = j
            return
        if c == '"' or c == "'":
            self._literal("", space)
            return
        m = _WORD_RE.match(text, i)
        if m is None:
            raise _Unsure(f"unexpected character {c!r}")
        word = m.group()
        self.i = m.end()
        nxt = text[self.i] if self.i < len(text) else ""
        if nxt == '"' and word in _RAW_PREFIXES:
            self._raw_string(word, space)
        elif nxt in ("'", '"') and word in _ENCODING_PREFIXES:
            self._literal(word, space)
        else:
            if word in _LINE_READERS:
                self.observes_layout = True
            if word in _HEADER_READERS or (word in _INCLUDES and self.directive and self.tokens[-1][0] == "#"):
                raise _Unsure("a header name this lexer did not take whole")
            self._add(word, space)

    def _literal(self, prefix: str, space: bool) -> None:
        # "..." or '...' with backslash escapes, on one line (a splice inside is refused); then any
        # user-defined-literal suffix.
        m = _LITERAL_RES[self.text[self.i]].match(self.text, self.i)
        if m is None:
            raise _Unsure("unterminated literal, or a line splice inside one")
        end = self._suffix(m.end())
        self._add(prefix + self.text[self.i : end], space)
        self.i = end

    def _raw_string(self, prefix: str, space: bool) -> None:
        # R"delim( ... )delim": the body is the source text as written (no escapes, no splices).
        text = self.text
        open_paren = text.find("(", self.i + 1, self.i + 18)
        if open_paren < 0:
            raise _Unsure("raw string without a delimiter")
        delim = text[self.i + 1 : open_paren]
        if any(ch in delim for ch in ' ()\\\t\v\f\n"'):
            raise _Unsure("malformed raw-string delimiter")
        close = text.find(")" + delim + '"', open_paren + 1)
        if close < 0:
            raise _Unsure("unterminated raw string")
        end = self._suffix(close + len(delim) + 2)
        self.line += text.count("\n", self.i, end)
        self._add(prefix + text[self.i : end], space)
        self.i = end

    def _suffix(self, j: int) -> int:
        m = _WORD_RE.match(self.text, j)
        return m.end() if m is not None else j


def token_key(code: str) -> str | None:
    """The program's token stream as one string (equal strings: the same program to g++), or None when unsure."""
    if _ODD_RE.search(code):
        return None
    lexer = _Lexer(code)
    try:
        tokens = lexer.run()
    except _Unsure:
        return None
    if lexer.observes_layout:
        # Spacing and lines are observable: keep them for every token.
        parts = [f"{line}:{'d' if directive else 'c'}{'s' if space else 'n'}{tok}"
                 for tok, space, line, directive in tokens]
        return "strict\0" + "\0".join(parts)
    # Outside directives a token is its text; inside, it is marked (\x01 cannot occur in accepted text) with
    # whether a space preceded it.
    parts = [f"\x01{'s' if space else 'n'}{tok}" if directive else tok for tok, space, _, directive in tokens]
    return "tokens\0" + "\0".join(parts)
