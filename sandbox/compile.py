"""C++ compilation: once per distinct source (cached by hash), unprivileged, time- and memory-limited.

g++ reads what the source #includes, so it runs as an unprivileged uid (when we are root) with a CPU, memory
and
file-size limit from prlimit(1), a wall timeout, an empty environment, and TMPDIR in its own build directory.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger("sandbox")
COMPILE_TIMEOUT_S = 60.0
COMPILE_MEMORY_MB = 2048


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

    def __init__(self, root: Path, uid: int, compiler: str = "g++") -> None:
        self.root = root
        self.uid = uid
        self.compiler = shutil.which(compiler) or compiler
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
        digest = hashlib.sha256(source.encode("utf-8", "surrogateescape")).hexdigest()
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
            (build / "main.cpp").write_text(source, encoding="utf-8", errors="surrogateescape")
            if self.uid >= 0:
                for path in (build, build / "main.cpp"):
                    os.chown(path, self.uid, self.uid)
            if self._static is None:
                self._static = self._probe_static(build)
            flags = ["-O2", "-std=gnu++17"] + (["-static"] if self._static else [])
            proc = self._run([self.compiler, *flags, "-o", "main", "main.cpp"], build)
            if proc is None:
                return Compiled(None, f"compilation exceeded {COMPILE_TIMEOUT_S:g}s")
            if proc.returncode != 0 or not (build / "main").exists():
                message = proc.stderr.decode("utf-8", "replace").replace(str(build) + "/", "")
                return Compiled(None, message[-2000:] or f"g++ exited with {proc.returncode}")
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
        proc = self._run([self.compiler, "-static", "-o", "probe", "probe.cpp"], build)
        ok = proc is not None and proc.returncode == 0
        if not ok:
            logger.warning(
                "sandbox: g++ -static does not work here: C++ binaries are dynamic and Landlock must "
                "allow executing any file (install libstdc++ static libraries to fix)"
            )
        return ok

    def _run(self, argv: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes] | None:
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
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "TMPDIR": str(cwd), "LC_ALL": "C"}
        ids = {"user": self.uid, "group": self.uid, "extra_groups": []} if self.uid >= 0 else {}
        proc = subprocess.Popen(
            [*limits, *argv],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            process_group=0,
            **ids,
        )  # type: ignore[call-overload]
        try:
            out, err = proc.communicate(timeout=COMPILE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            # g++ forks cc1plus/as/ld: kill the whole group, not just the driver.
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return None
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)


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
