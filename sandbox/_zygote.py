"""The per-slot fork server. Runs as `python3 -I _zygote.py`, standard library only, one instance per worker
slot.

It sets up what can be shared once (network namespace, Landlock rulesets, seccomp filters, compiled code
objects),
then for every test forks a child that applies the per-test isolation and executes the candidate. Forking a
warm
interpreter costs about a millisecond; starting a fresh one costs tens. The controller talks to it over
stdin/stdout with length-prefixed marshal frames (see _protocol.py).
"""

from __future__ import annotations

import ctypes
import gc
import importlib.util
import os
import signal
import sys
import time
import traceback
from typing import Any

sys.dont_write_bytecode = True  # candidates import stdlib modules; never try to write .pyc files for them
_HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name: str) -> Any:
    """Import a sibling module by path, leaving sys.path and sys.modules as they were.

    Not a plain `import`: -I keeps our directory off sys.path, and putting it there (or registering our modules
    in sys.modules) would hand it to every candidate forked from us, whose `import compile` or `import executor`
    would then find sandbox code instead of failing as it does on a judge."""
    spec = importlib.util.spec_from_file_location(f"_sandbox{name}", os.path.join(_HERE, f"{name}.py"))
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {name}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


protocol = _load("_protocol")
landlock = _load("_landlock")
seccomp = _load("_seccomp")
child = _load("_child")
many = _load("_many")
scratch = _load("_scratch")
confine = _load("_confine")
ns = _load("_ns")

libc = ctypes.CDLL(None, use_errno=True)
PR_SET_CHILD_SUBREAPER = 36
SETUP_MARKER = b"\x00sandbox-setup-failed: "
"""A child that fails to isolate itself writes this to stderr and exits: the zygote reports sandbox_error."""


class Zygote:
    """State shared by all tests of one slot."""

    def __init__(self, config: dict[str, Any], spaces: dict[str, Any]) -> None:
        self.slot: int = config["slot"]
        self.scratch: str = config["scratch"]
        """The slot's directory: each test gets a fresh directory inside it (see _scratch)."""
        self.isolation: str = config["isolation"]
        self.uid: int = config["uid"]
        self.nproc: int = config["nproc"]
        self.spaces = spaces
        self.warnings: list[str] = list(spaces["warnings"])
        self.programs: dict[str, tuple[str, Any]] = {}
        self.pid = os.getpid()
        self.tests = 0
        self.in_buf = protocol.WipeBuffer()
        """Inputs and checker files of the current request; children see zeros here (MADV_WIPEONFORK)."""
        self.out_buf = protocol.WipeBuffer()
        """stdout/stderr of the current reply, likewise never inherited."""
        # Subreaper: anything a candidate leaves behind (double fork, setsid) is re-parented to us, not to
        # init, so we can see it (waitpid) and kill it. (In a PID namespace we are that init anyway.)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        isolate = self.isolation != "none"
        self.switch_uid = isolate and self.uid >= 0 and os.geteuid() == 0
        if isolate and not self.switch_uid:
            self.warnings.append("uid: not root, candidates run under the controller's uid")
        self.landlock_abi = landlock.abi_version() if isolate else 0
        if isolate and self.landlock_abi == 0:
            self.warnings.append("landlock: unavailable, writes outside scratch are limited only by file modes")
        if self.landlock_abi:
            # Reads too, for every ruleset of this zygote (here and in prepare): only what programs need (system
            # libraries, this interpreter, their scratch and binary), never the user's files or a terminal.
            landlock.configure(landlock.program_reads(), config["bin"])
        self.py_ruleset = landlock.create_ruleset(self.landlock_abi, self.scratch, None) if self.landlock_abi else -1
        self.seccomp_py = self.seccomp_cpp = None
        if isolate and seccomp.supported():
            self.seccomp_py = seccomp.Installer(allow_execve=False)
            self.seccomp_cpp = seccomp.Installer(allow_execve=True)
        elif isolate:
            self.warnings.append("seccomp: unknown architecture, syscalls are not filtered")
        # A user namespace gave us every capability in it: children must not inherit them.
        if spaces["userns"] and not ns.drop_capabilities():
            self.warnings.append("capabilities: capset failed, candidates keep user-namespace capabilities")
        # What the interpreter already maps before the candidate allocates anything: the memory limit comes on
        # top.
        self.base_as = _vm_size_bytes()

    def capabilities(self) -> dict[str, Any]:
        return {
            "netns": self.spaces["netns"],
            "ipcns": self.spaces["ipcns"],
            "pidns": self.spaces["pidns"],
            "mountns": self.spaces["mountns"],
            "landlock": self.landlock_abi,
            "seccomp": self.seccomp_py is not None,
            "uid": self.switch_uid,
            "warnings": self.warnings,
            "pid": ns.host_pid(),
        }

    # ---- programs
    # -------------------------------------------------------------------------------------------
    def prepare(self, key: str, lang: str, payload: str) -> tuple[str, Any]:
        """Compile Python source once per program (or register a C++ binary); cached by key."""
        entry = self.programs.get(key)
        if entry is not None:
            return entry
        if len(self.programs) >= 256:
            # Bounded cache: drop the oldest program (and its Landlock ruleset) first.
            old_key = next(iter(self.programs))
            old = self.programs.pop(old_key)
            if old[0] == "cpp" and old[1][1] >= 0:
                os.close(old[1][1])
        if lang == "python":
            try:
                entry = ("py", compile(payload, "main.py", "exec", dont_inherit=True))
            except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
                entry = ("err", "".join(traceback.format_exception_only(type(exc), exc))[-2000:])
        else:
            ruleset = -1
            if self.landlock_abi:
                # The controller says how the toolchain linked it (never the binary's own headers, which the
                # candidate controls): a dynamic binary needs the loader, so only then may it execute anything.
                executable = "/" if lang == "cpp-dynamic" else payload
                ruleset = landlock.create_ruleset(self.landlock_abi, self.scratch, executable)
            entry = ("cpp", (payload, ruleset))
        self.programs[key] = entry
        return entry

    # ---- one test
    # ---------------------------------------------------------------------------------------------
    def run(self, request: tuple[Any, ...], spans: list[tuple[int, int]]) -> Reply:
        """One test in a fresh child. Blobs (in in_buf): stdin, then the files named in the request."""
        _, req_id, key, lang, payload, lim, names, argv = request
        time_s, wall_s, mem_mb, out_bytes, err_tail = lim
        entry = self.prepare(key, lang, payload)
        if entry[0] == "err":
            return (req_id, "compile_error", None, None, 0.0, 0.0, 0, entry[1]), 0, 0
        test_dir = self.new_test_dir()
        try:
            # Checker files: created anew (O_EXCL | O_NOFOLLOW) in a directory made for this test.
            files = [(n, self.in_buf.view(*span)) for n, span in zip(names, spans[1:], strict=True)]
            scratch.write_files(test_dir, files)
            del files  # views of in_buf must not outlive the request (the buffer may be replaced)
            # stdin is a real file (some programs fstat fd 0); stdout/stderr are memory files read back.
            fds = [os.memfd_create("stdin"), os.memfd_create("stdout"), os.memfd_create("stderr")]
            try:
                _write_all(fds[0], self.in_buf.view(*spans[0]))
                os.lseek(fds[0], 0, os.SEEK_SET)
                start = time.monotonic()
                pid = os.fork()
                if pid == 0:
                    try:
                        self._child(entry, fds, lim, argv, test_dir)
                    finally:
                        os._exit(125)  # whatever happened, the child never returns into the zygote's loop
                killed = child.wait_limits(pid, time_s, wall_s)
                _, status, usage = os.wait4(pid, 0)
                wall = time.monotonic() - start
                confine.kill_strays(self)
                n_out, out_len, n_err, oom = self.read_outputs(fds, out_bytes, err_tail, lang)
                setup_failed = os.pread(fds[2], len(SETUP_MARKER), 0) == SETUP_MARKER
                failure = os.pread(fds[2], 2000, len(SETUP_MARKER)) if setup_failed else b""
            finally:
                for fd in fds:
                    os.close(fd)
        finally:
            self.remove_test_dir(test_dir)
        cpu = usage.ru_utime + usage.ru_stime
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        if killed == "cpu" or sig == signal.SIGXCPU:
            # Its CPU clock passed time_s (ours, or RLIMIT_CPU's); rusage (scaled from ticks) may say a bit less.
            cpu = max(cpu, time_s)
        verdict, detail = child.classify(lang, code, sig, cpu, killed, out_len, oom, usage.ru_maxrss, lim)
        if setup_failed:
            verdict, detail = "sandbox_error", failure.decode("utf-8", "replace")
        return (req_id, verdict, code, sig, cpu, wall, usage.ru_maxrss, detail), n_out, n_err

    def read_outputs(self, fds: list[int], out_bytes: int, err_tail: int, lang: str) -> tuple[int, int, int, bool]:
        """Copy stdout (at most out_bytes) and the stderr tail into out_buf, never into a Python object.
        Returns (stdout bytes kept, stdout size, stderr bytes kept, out-of-memory marker seen in stderr)."""
        out_len = os.fstat(fds[1]).st_size
        err_len = os.fstat(fds[2]).st_size
        n_out, n_err = min(out_len, out_bytes), min(err_len, err_tail)
        buf = self.out_buf.reserve(n_out + n_err)
        _pread_into(fds[1], self.out_buf.view(0, n_out), 0)
        _pread_into(fds[2], self.out_buf.view(n_out, n_err), err_len - n_err)
        marker = b"MemoryError" if lang == "python" else b"bad_alloc"
        return n_out, out_len, n_err, buf.find(marker, n_out, n_out + n_err) >= 0

    def kill_strays(self) -> None:
        confine.kill_strays(self)

    def new_test_dir(self) -> str:
        """A fresh directory for one test (or one several-tests child), owned by the slot uid."""
        self.tests += 1
        if self.switch_uid:
            return scratch.make_dir(self.scratch, f"t{self.tests}", self.uid)
        # One uid for everything: the slot directory is read-only (0500) except while we create or remove in
        # it, so the candidate (which may not chmod: seccomp) cannot add anything next to its own directory.
        # Its mode changes through its fd (scratch never chmods a name a candidate could swap for a symlink).
        return scratch.make_dir(self.scratch, f"t{self.tests}", -1, locked=0o500)

    def remove_test_dir(self, path: str) -> None:
        """Remove a test's directory; nothing of it reaches the next test, whatever the candidate made of it.
        Never raises: a directory that cannot be removed is closed off, and the next test has its own."""
        try:
            if self.switch_uid:
                try:
                    os.rmdir(path)  # fast path: most tests leave nothing behind
                except OSError:
                    scratch.remove_path(path)
            else:
                # Everything in the slot directory goes (a stray there would be the candidate's).
                scratch.empty_dir(self.scratch, locked=0o500)
        except (OSError, RecursionError) as exc:
            print(f"zygote: cleaning {path} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            try:
                scratch.seal_dir(path)  # through an fd: never follows a symlink planted at path
            except OSError:
                pass

    def _child(
        self, entry: tuple[str, Any], fds: list[int], lim: tuple[Any, ...], argv: list[str], test_dir: str
    ) -> None:
        """In the forked child: isolate, then run the candidate. Always ends with os._exit."""
        try:
            confine.isolate(self, entry, fds, lim, test_dir)
        except BaseException as exc:  # noqa: BLE001 - any failure here must end the child, reported by marker
            try:
                os.write(2, SETUP_MARKER + f"{type(exc).__name__}: {exc}".encode())
            finally:
                os._exit(125)
        if entry[0] == "cpp":
            path = entry[1][0]
            try:
                os.execve(path, [path, *argv], {})
            except OSError as exc:
                os.write(2, SETUP_MARKER + f"exec failed: {exc}".encode())
                os._exit(125)
        os._exit(child.exec_python(entry[1], argv))

    child_module = child
    landlock_module = landlock
    scratch_module = scratch
    ns_module = ns
    """_many reaches these helpers through the zygote (it is loaded by path, like us)."""

    def child_many(
        self,
        entry: tuple[str, Any],
        fds: list[int],
        lim: tuple[Any, ...],
        keep: tuple[int, ...],
        inputs: list[tuple[int, int]],
        argv: list[str],
        test_dir: str,
    ) -> None:
        """In a forked child for several tests: isolate once, then run them all (see _many). Ends with _exit."""
        try:
            confine.isolate(self, entry, fds, lim, test_dir, keep, tests=len(inputs))
        except BaseException:  # noqa: BLE001 - no report: the zygote falls back to one child per test
            os._exit(125)
        os._exit(child.serve_many(entry[1], inputs, argv))

Reply = tuple[tuple[Any, ...], int, int]
"""A reply's header fields, and how many bytes of stdout and stderr tail lie at the start of out_buf."""


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        data = data[os.write(fd, data) :]


def _pread_into(fd: int, view: memoryview, offset: int) -> None:
    while view:
        got = os.preadv(fd, [view], offset)
        if not got:
            raise OSError("short read from an output memory file")
        view = view[got:]
        offset += got


def _vm_size_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) << 10
    return 64 << 20


def send(fd: int, zygote: Zygote, reply: Reply) -> None:
    """One reply frame: header fields, then stdout and the stderr tail straight from out_buf."""
    meta, n_out, n_err = reply
    protocol.write_views(fd, [protocol.frame_head(meta, [n_out, n_err]), zygote.out_buf.view(0, n_out + n_err)])


def main() -> None:
    stdin, stdout = 0, 1
    # Our own stdout is the protocol pipe: keep stray prints (there should be none) off it.
    proto_out = os.dup(stdout)
    os.dup2(2, 1)
    config, _ = protocol.read_request(stdin, protocol.WipeBuffer())
    # Namespaces first (this may fork: we continue as the init of a new PID namespace).
    spaces = ns.enter(config["isolation"] != "none", config["root"], [config["scratch"], config["bin"]])
    zygote = Zygote(config, spaces)
    # Python's C-locale coercion put LC_CTYPE into our (otherwise empty) environment: candidates get nothing.
    os.environ.clear()
    # Everything allocated so far is shared with every child: keep the collector from touching (and so
    # copying) those pages in each child.
    gc.freeze()
    protocol.write_message(proto_out, ("ready", zygote.capabilities()))
    while True:
        try:
            request, spans = protocol.read_request(stdin, zygote.in_buf)
        except EOFError:
            return  # the controller went away: children die with us (PDEATHSIG, PID namespace)
        if request[0] == "quit":
            return
        if request[0] == "runmany":
            # Several tests of one program: one reply per test, each sent as soon as it is known.
            many.run_many(zygote, request, spans, lambda reply: send(proto_out, zygote, reply))
            continue
        try:
            reply = zygote.run(request, spans)
        except Exception as exc:  # noqa: BLE001 - infrastructure failure of one test, the slot keeps serving
            reply = many.error_reply(request[1], exc)
        send(proto_out, zygote, reply)


if __name__ == "__main__":
    main()
