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
import math
import os
import resource
import signal
import sys
import time
import traceback
from typing import Any

sys.dont_write_bytecode = True  # candidates import stdlib modules; never try to write .pyc files for them
_HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name: str) -> Any:
    """Import a sibling module by path: -I keeps our directory off sys.path (and sandbox/types.py would shadow
    the stdlib types module if we put it there)."""
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
ns = _load("_ns")

libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
SETUP_MARKER = b"\x00sandbox-setup-failed: "
"""A child that fails to isolate itself writes this to stderr and exits: the zygote reports sandbox_error."""
PY_STACK_MB = 64
"""Main-thread stack for Python candidates (threads get theirs from threading.stack_size, not this)."""
AS_SLACK_MB = 32
"""Address space on top of the memory limit and the interpreter's own mappings (arenas, libraries)."""


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
                self.kill_strays()
                n_out, out_len, n_err, oom = self.read_outputs(fds, out_bytes, err_tail, lang)
                setup_failed = os.pread(fds[2], len(SETUP_MARKER), 0) == SETUP_MARKER
                failure = os.pread(fds[2], 2000, len(SETUP_MARKER)) if setup_failed else b""
            finally:
                for fd in fds:
                    os.close(fd)
        finally:
            self.remove_test_dir(test_dir)
        cpu = usage.ru_utime + usage.ru_stime
        if killed == "cpu":
            # Killed once its exact CPU clock passed time_s; rusage (tick-sampled) may say slightly less.
            cpu = max(cpu, time_s)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
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

    def new_test_dir(self) -> str:
        """A fresh directory for one test (or one several-tests child), owned by the slot uid."""
        self.tests += 1
        return scratch.make_dir(self.scratch, f"t{self.tests}", self.uid if self.switch_uid else -1)

    def remove_test_dir(self, path: str) -> None:
        """Remove a test's directory; nothing of it reaches the next test, whatever the candidate made of it.
        Never raises: a directory that cannot be removed is closed off, and the next test has its own."""
        try:
            scratch.remove_path(path)
            if not self.switch_uid:
                # One uid for everything: the candidate could write in the slot directory itself.
                scratch.empty_dir(self.scratch)
        except (OSError, RecursionError) as exc:
            print(f"zygote: cleaning {path} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            try:
                os.chmod(path, 0)
            except OSError:
                pass

    def _child(
        self, entry: tuple[str, Any], fds: list[int], lim: tuple[Any, ...], argv: list[str], test_dir: str
    ) -> None:
        """In the forked child: isolate, then run the candidate. Always ends with os._exit."""
        try:
            self._isolate(entry, fds, lim, test_dir)
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
            self._isolate(entry, fds, lim, test_dir, keep, tests=len(inputs))
        except BaseException:  # noqa: BLE001 - no report: the zygote falls back to one child per test
            os._exit(125)
        os._exit(child.serve_many(entry[1], inputs, argv))

    def _isolate(
        self,
        entry: tuple[str, Any],
        fds: list[int],
        lim: tuple[Any, ...],
        test_dir: str,
        keep: tuple[int, ...] = (),
        tests: int = 1,
    ) -> None:
        """Apply every limit and isolation mechanism to this (child) process. fds become 0-2 and `keep` becomes
        3, 4, ... (the several-tests control pipes); everything else is closed."""
        time_s, _, mem_mb, out_bytes, _ = lim
        # Own session and process group: the candidate cannot signal our group by accident.
        os.setsid()
        # Park the control pipes far above 0-2 first, so the dup2s below cannot clobber one of them.
        parked = [os.dup2(fd, 100 + k) for k, fd in enumerate(keep)]
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.chdir(test_dir)
        # Several tests in one child: the zygote enforces each test's CPU limit; this is only the backstop.
        cpu = max(1, math.ceil(time_s * tests))
        mem = mem_mb << 20
        address_space = mem + (AS_SLACK_MB << 20) + (self.base_as if entry[0] == "py" else 0)
        stack = min(mem, PY_STACK_MB << 20) if entry[0] == "py" else mem
        limits = [
            (resource.RLIMIT_CORE, 0, 0),
            # Soft limit sends SIGXCPU at the rounded-up time; the hard one SIGKILLs a program that ignores
            # it.
            (resource.RLIMIT_CPU, cpu, cpu + 1),
            (resource.RLIMIT_AS, address_space, address_space),
            # C++ gets the whole memory limit as stack (deep DFS is common); Python only recurses on the C
            # stack
            # through builtins, where a smaller stack turns runaway recursion into a quick, honest segfault.
            (resource.RLIMIT_STACK, stack, stack),
            # One byte over the cap is enough to know the program wanted to write more.
            (resource.RLIMIT_FSIZE, out_bytes + 1, out_bytes + 1),
            (resource.RLIMIT_NOFILE, 64, 64),
        ]
        if self.switch_uid:
            # Per-uid process count: meaningful only for a uid that nothing else uses (threads count too).
            limits.append((resource.RLIMIT_NPROC, self.nproc, self.nproc))
        for which, soft, hard in limits:
            resource.setrlimit(which, (soft, hard))
        if self.switch_uid:
            os.setgroups([])
            os.setgid(self.uid)
            os.setuid(self.uid)
        # Die with the zygote (set after setuid: a credential change clears it), and catch the race where the
        # zygote already died.
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != self.pid:
            os._exit(137)
        if self.isolation != "none":
            if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
            ruleset = self.py_ruleset if entry[0] == "py" else entry[1][1]
            if ruleset >= 0:
                landlock.restrict_self(ruleset)
        # Only now (the Landlock ruleset fd is used up) do the control pipes take their places 3, 4, ...
        for k, fd in enumerate(parked):
            os.dup2(fd, 3 + k)
        # Nothing but stdin/stdout/stderr (and our own control pipes) survives: no pipe to the controller, no
        # ruleset, no other memfds.
        os.closerange(3 + len(keep), 1 << 16)
        installer = self.seccomp_py if entry[0] == "py" else self.seccomp_cpp
        if installer is not None:
            installer.install()
        if entry[0] == "cpp":
            # Python ignores these; an exec'd binary would inherit "ignored", so restore the defaults.
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)

    def kill_strays(self) -> None:
        """Kill whatever the candidate left running. Fast path: waitpid says we have no children at all."""
        deadline = time.monotonic() + 5.0
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid:
                continue  # reaped a zombie stray; look again
            if time.monotonic() > deadline:
                return
            self._kill_round()
            time.sleep(0.001)

    def _kill_round(self) -> None:
        if self.spaces["pidns"]:
            # We are the init of our PID namespace: kill(-1) reaches every other process in it, and only those.
            os.kill(-1, signal.SIGKILL)
            return
        if self.switch_uid:
            # A helper that becomes the slot uid and kills -1 reaches every process of that uid, wherever it
            # hid.
            helper = os.fork()
            if helper == 0:
                try:
                    os.setgroups([])
                    os.setgid(self.uid)
                    os.setuid(self.uid)
                    os.kill(-1, signal.SIGKILL)
                finally:
                    os._exit(0)
            os.waitpid(helper, 0)
            return
        # Same uid as us: find our re-parented children in /proc and kill them (and their groups).
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat = f.read()
                ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
                if ppid == self.pid:
                    os.kill(int(entry), signal.SIGKILL)
            except (OSError, ValueError):
                continue


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
