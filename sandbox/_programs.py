"""What a zygote keeps of the programs it runs: file descriptors only, never code (#27). Standard library only:
the zygote loads this file by path.

Every child starts as a copy of the zygote's memory, so no program's code may live there (a candidate once walked
its frames to the zygote's cache of compiled programs and read a function problem's hidden `check`). What is
kept, per slot:

* per C++ binary path, its Landlock ruleset (an fd);
* per Python program key, a memory file of its marshalled code, written by the first child that compiled it,
  before that child's candidate ran; later children of the program load it instead of compiling. Every child
  closes all of these fds before its candidate's first instruction, so none can read another program's code.
"""

from __future__ import annotations

import os
import types
from typing import Any

CODE_CACHE_PROGRAMS = 64
"""Compiled Python programs kept (as memory files of marshalled code) per slot; the oldest goes past this."""
CODE_CACHE_BYTES = 4 << 20
"""A program whose marshalled code is larger is compiled by each of its children instead."""
CPP_RULESETS = 64
"""Landlock rulesets of C++ binaries kept open (one per binary path); the oldest is closed past this."""


def write_all(fd: int, data: memoryview) -> None:
    while data:
        data = data[os.write(fd, data) :]


class Programs:
    """One slot's program fds (see the module docstring)."""

    def __init__(self, landlock: types.ModuleType, landlock_abi: int, scratch: str) -> None:
        self.landlock, self.landlock_abi, self.scratch = landlock, landlock_abi, scratch
        self.cpp_rulesets: dict[str, int] = {}
        self.code_cache: dict[str, int] = {}

    def prepare(self, lang: str, payload: str) -> tuple[str, Any]:
        """What a child needs to run a program: ("py", None) (its source travels in a memory file), or
        ("cpp", (binary path, Landlock ruleset fd)) with the ruleset made once per binary."""
        if lang == "python":
            return ("py", None)
        ruleset = self.cpp_rulesets.get(payload, -1)
        if ruleset < 0 and self.landlock_abi:
            if len(self.cpp_rulesets) >= CPP_RULESETS:
                os.close(self.cpp_rulesets.pop(next(iter(self.cpp_rulesets))))
            # The controller says how the toolchain linked it (never the binary's own headers, which the
            # candidate controls): a dynamic binary needs the loader, so only then may it execute anything.
            executable = "/" if lang == "cpp-dynamic" else payload
            ruleset = self.landlock.create_ruleset(self.landlock_abi, self.scratch, executable)
            self.cpp_rulesets[payload] = ruleset
        return ("cpp", (payload, ruleset))

    def fds(self, key: str, source: memoryview) -> tuple[tuple[int, int, int], bool]:
        """(setup, program, code) memory files for a child, and whether `program` holds compiled code.

        program: the candidate's source (`source`, a view of the zygote's wipe-on-fork request buffer: never a
        Python object there), or, when a child compiled this program before, its marshalled code from the cache
        (a memory file, never mapped in the zygote); code: where a child that compiles writes the marshalled
        result, before the candidate's first instruction."""
        setup, code = os.memfd_create("setup"), os.memfd_create("code")
        cached = self.code_cache.get(key)
        if cached is not None:
            self.code_cache[key] = self.code_cache.pop(key)  # most recently used last
            return (setup, os.dup(cached), code), True
        program = os.memfd_create("program")
        write_all(program, source)
        return (setup, program, code), False

    def remember(self, key: str, code: int, compiled: bool) -> None:
        """Keep a child's marshalled code for the next child of the same program (closing `code` otherwise). The
        child wrote the code's length last: a child killed mid-write leaves a file that is not kept."""
        size = os.fstat(code).st_size
        whole = size > 8 and int.from_bytes(os.pread(code, 8, 0), "little") == size - 8
        if not compiled or not whole or key in self.code_cache or size > CODE_CACHE_BYTES:
            os.close(code)
            return
        if len(self.code_cache) >= CODE_CACHE_PROGRAMS:
            os.close(self.code_cache.pop(next(iter(self.code_cache))))
        self.code_cache[key] = code
