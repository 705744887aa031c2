"""C++ compilation: once per distinct source (cached by hash), unprivileged, time- and memory-limited.

g++ reads what the source #includes, so it runs as an unprivileged uid (when we are root) with a CPU, memory
and file-size limit from prlimit(1), a wall timeout, an empty environment, TMPDIR in its own build directory,
a session of its own (no controlling terminal: `#include "/dev/tty"` cannot read what the user types), and,
where the kernel has Landlock, read rules that leave it the system's headers and libraries and its build
directory only (never the user's files, with one uid for everything or not). What it prints is read with a
cap: a source flooding `#pragma message` costs us at most OUTPUT_CAP bytes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sandbox import _landlock
from sandbox.values import text_bytes

logger = logging.getLogger("sandbox")
COMPILE_TIMEOUT_S = 60.0
COMPILE_MEMORY_MB = 2048
OUTPUT_CAP = 64 << 10
"""Bytes of compiler output kept (the tail, where the error is); the rest is read and dropped."""


@dataclass(frozen=True)
class Compiled:
    """What compiling one C++ source produced."""

    binary: str | None
    """Absolute path of the executable (readable and executable by every slot uid), or None on failure."""
    error: str
    """Compiler message tail when binary is None."""
    static: bool = True
    """Linked with -static (the toolchain's property, never read from the binary): the sandbox then lets it
    execute nothing but itself. False only where g++ -static does not work (the Executor warns)."""
    image_bytes: int = 0
    """Memory the kernel must map to start it (its loadable segments, .bss included)."""

    def __post_init__(self) -> None:
        if self.binary is None and not self.error:
            raise ValueError("error must be set when binary is None")


class CppCompiler:
    """Compiles with g++ -O2 -std=gnu++17 (-static when the toolchain supports it); per-Executor cache."""

    def __init__(self, root: Path, uid: int, compiler: str = "g++", python: str | None = None) -> None:
        self.root = root
        self.uid = uid
        self.compiler = shutil.which(compiler) or compiler
        self.python = python or (sys.executable if os.geteuid() != 0 else "/usr/bin/python3")
        """Runs the Landlock launcher (as the compile uid, so an interpreter every uid can run)."""
        self._landlock = _landlock.abi_version() > 0
        if not self._landlock:
            logger.warning("sandbox: Landlock unavailable: g++ can read every file its uid can (#include)")
        self.bin_dir = root / "bin"
        self.bin_dir.mkdir(mode=0o711, exist_ok=True)
        self._cache: dict[str, Compiled] = {}
        self._lock = threading.Lock()
        self._static: bool | None = None
        self._prlimit = shutil.which("prlimit")
        if self._prlimit is None:
            logger.warning("sandbox: prlimit(1) not found: g++ runs without CPU/memory limits (timeout only)")

    def compile(self, source: str) -> Compiled:
        """Compile (or return the cached result for) one source. Never raises for a bad program."""
        digest = hashlib.sha256(text_bytes(source)).hexdigest()
        with self._lock:
            cached = self._cache.get(digest)
        if cached is not None:
            return cached
        if shutil.which(self.compiler) is None:
            result = Compiled(None, f"C++ compiler {self.compiler!r} not found (install g++)")
        else:
            result = self._build(digest, source)
        with self._lock:
            self._cache[digest] = result
        return result

    def _build(self, digest: str, source: str) -> Compiled:
        build = self.root / f"build-{digest[:16]}-{threading.get_ident()}"
        build.mkdir(mode=0o700)
        try:
            (build / "main.cpp").write_bytes(text_bytes(source))
            if self.uid >= 0:
                for path in (build, build / "main.cpp"):
                    os.chown(path, self.uid, self.uid)
            if self._static is None:
                self._static = self._probe_static(build)
            flags = ["-O2", "-std=gnu++17"] + (["-static"] if self._static else [])
            done = self._run([self.compiler, *flags, "-o", "main", "main.cpp"], build)
            if done is None:
                return Compiled(None, f"compilation exceeded {COMPILE_TIMEOUT_S:g}s")
            returncode, output = done
            if returncode != 0 or not (build / "main").exists():
                message = output.decode("utf-8", "replace").replace(str(build) + "/", "")
                return Compiled(None, message[-2000:] or f"g++ exited with {returncode}")
            interp, image = elf_layout(build / "main")
            if self._static and interp:
                # Only the source can put a loader request (.interp) into a -static link: refuse it rather
                # than let the binary claim it needs other files executed.
                return Compiled(None, "the program must link statically: it requests a program interpreter")
            target = self.bin_dir / digest
            shutil.move(str(build / "main"), target)
            if os.geteuid() == 0:
                os.chown(target, 0, 0)  # the candidate must not be able to rewrite its own binary
            os.chmod(target, 0o755)
            return Compiled(str(target), "", bool(self._static), image)
        finally:
            shutil.rmtree(build, ignore_errors=True)

    def _probe_static(self, build: Path) -> bool:
        """Static binaries need no loader, so Landlock can allow executing exactly one file."""
        probe = build / "probe.cpp"
        probe.write_text('#include <cstdio>\nint main(){std::puts("x");}\n')
        if self.uid >= 0:
            os.chown(probe, self.uid, self.uid)
        done = self._run([self.compiler, "-static", "-o", "probe", "probe.cpp"], build)
        ok = done is not None and done[0] == 0
        if not ok:
            logger.warning(
                "sandbox: g++ -static does not work here: C++ binaries are dynamic and Landlock must "
                "allow executing any file (install libstdc++ static libraries to fix)"
            )
        return ok

    def _run(self, argv: list[str], cwd: Path) -> tuple[int, bytes] | None:
        """(exit status, the tail of stdout and stderr together), or None past COMPILE_TIMEOUT_S."""
        limits = (
            [
                self._prlimit,
                f"--as={COMPILE_MEMORY_MB << 20}",
                f"--cpu={int(COMPILE_TIMEOUT_S)}",
                f"--fsize={512 << 20}",
                "--core=0",
                "--",
            ]
            if self._prlimit
            else []
        )
        # Landlock first (it survives the execs): the toolchain reads the system and its build directory only.
        confine = _landlock.launch_argv(self.python, str(cwd), self._reads()) if self._landlock else []
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "TMPDIR": str(cwd), "LC_ALL": "C"}
        ids = {"user": self.uid, "group": self.uid, "extra_groups": []} if self.uid >= 0 else {}
        deadline = time.monotonic() + COMPILE_TIMEOUT_S
        proc = subprocess.Popen(
            [*confine, *limits, *argv],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # no controlling terminal; its own process group, killed as one
            **ids,
        )  # type: ignore[call-overload]
        assert proc.stdout is not None
        with proc.stdout:
            output = _read_tail(proc.stdout.fileno(), deadline)
        try:
            if output is None:
                raise subprocess.TimeoutExpired(argv, COMPILE_TIMEOUT_S)
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            # g++ forks cc1plus/as/ld: kill the whole group, not just the driver.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
            return None
        return proc.returncode, output or b""

    def _reads(self) -> _landlock.Reads:
        """What the toolchain may read: the system (headers, libraries, its own programs under /usr), the
        compiler itself wherever it lies, /dev/null (also written); the build directory comes on top."""
        extra = [
            (os.path.realpath(self.compiler), _landlock.READ_FILE),
            ("/dev/null", _landlock.READ_FILE | _landlock.WRITE_FILE | _landlock.TRUNCATE),
        ]
        return _landlock.system_reads() + extra


def _read_tail(fd: int, deadline: float) -> bytes | None:
    """Read fd to EOF keeping only the last OUTPUT_CAP bytes; None when the deadline passes first."""
    tail = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        if not select.select([fd], [], [], left)[0]:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return bytes(tail[-OUTPUT_CAP:])
        tail += chunk
        if len(tail) > 2 * OUTPUT_CAP:
            del tail[:-OUTPUT_CAP]


PT_LOAD, PT_INTERP = 1, 3


def elf_layout(path: Path) -> tuple[bool, int]:
    """(has a PT_INTERP header, bytes its PT_LOAD segments span) of an ELF64 file; (False, 0) if not one."""
    with open(path, "rb") as f:
        head = f.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2:
            return False, 0
        phoff = int.from_bytes(head[0x20:0x28], "little")
        phentsize = int.from_bytes(head[0x36:0x38], "little")
        phnum = int.from_bytes(head[0x38:0x3A], "little")
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    interp, low, high = False, None, 0
    for i in range(phnum):
        entry = table[i * phentsize : (i + 1) * phentsize]
        if len(entry) < 0x30:
            break
        kind = int.from_bytes(entry[0:4], "little")
        interp = interp or kind == PT_INTERP
        if kind == PT_LOAD:
            vaddr = int.from_bytes(entry[0x10:0x18], "little")
            memsz = int.from_bytes(entry[0x28:0x30], "little")
            low = vaddr if low is None else min(low, vaddr)
            high = max(high, vaddr + memsz)
    return interp, 0 if low is None else high - low
