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
import marshal
import os
import signal
import sys
import time
import traceback
import types
from typing import Any

sys.dont_write_bytecode = True  # candidates import stdlib modules; never try to write .pyc files for them
_HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name: str) -> types.ModuleType:
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
programs = _load("_programs")
landlock = _load("_landlock")
seccomp = _load("_seccomp")
child = _load("_child")
many = _load("_many")
scratch = _load("_scratch")
confine = _load("_confine")
ns = _load("_ns")

libc = ctypes.CDLL(None, use_errno=True)
PR_SET_CHILD_SUBREAPER = 36
SETUP_FAILED, COMPILE_FAILED = b"S", b"C"
"""The first byte a child writes to its setup memory file when it cannot isolate itself (sandbox_error) or
compile the candidate (compile_error); the reason follows. The child closes that file before the candidate's
first instruction, so a candidate can never write it (it once wrote a marker to stderr that the zygote trusted)."""
SETUP_FD, PROGRAM_FD = 3, 4
"""Where a single-test child finds its setup memory file and the candidate's source (see run)."""
NOTE_MAX = 2000
"""The most bytes of a child's setup report (a compile error's message) sent back."""


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
        self.ctl_buf = protocol.WipeBuffer()
        """A several-tests child's end-of-test report lands here (see _many)."""
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
        self.programs = programs.Programs(landlock, self.landlock_abi, self.scratch)
        """What this zygote keeps of the programs it runs: file descriptors only (see _programs)."""
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
            "base_vm": self.base_as,
        }

    # ---- a child's setup report
    # ---------------------------------------------------------------------------
    def setup_report(self, setup: int, n_out: int, n_err: int) -> tuple[str, int] | None:
        """What the child wrote to its setup file: (verdict, bytes of its reason copied into out_buf after the
        outputs), or None when it wrote nothing (it ran the candidate)."""
        size = os.fstat(setup).st_size
        if not size:
            return None
        tag = os.pread(setup, 1, 0)
        n_note = min(size - 1, NOTE_MAX)
        _pread_into(setup, self.out_buf.view(n_out + n_err, n_note), 1)
        return ("compile_error" if tag == COMPILE_FAILED else "sandbox_error"), n_note

    # ---- one test
    # ---------------------------------------------------------------------------------------------
    def run(self, request: tuple[Any, ...], spans: list[tuple[int, int]]) -> Reply:
        """One test in a fresh child. Blobs (in in_buf): stdin, the files named in the request, then the program
        (a Python candidate's source; empty for a C++ binary, whose path is the payload)."""
        _, req_id, key, lang, payload, lim, names, argv = request
        time_s, wall_s, mem_mb, out_bytes, err_tail = lim
        entry = self.programs.prepare(lang, payload)
        test_dir = self.new_test_dir()
        try:
            # Checker files: created anew (O_EXCL | O_NOFOLLOW) in a directory made for this test.
            files = [(n, self.in_buf.view(*span)) for n, span in zip(names, spans[1:-1], strict=True)]
            scratch.write_files(test_dir, files)
            del files  # views of in_buf must not outlive the request (the buffer may be replaced)
            # stdin is a real file (some programs fstat fd 0); stdout/stderr are memory files read back.
            fds = [os.memfd_create("stdin"), os.memfd_create("stdout"), os.memfd_create("stderr")]
            (setup, program, code_fd), cached = self.programs.fds(key, self.in_buf.view(*spans[-1]))
            entry = ("py", "marshal") if cached and entry[0] == "py" else entry
            try:
                _write_all(fds[0], self.in_buf.view(*spans[0]))
                os.lseek(fds[0], 0, os.SEEK_SET)
                start = time.monotonic()
                pid = os.fork()
                if pid == 0:
                    try:
                        self._child(entry, fds, lim, argv, test_dir, (setup, program, code_fd))
                    finally:
                        os._exit(125)  # whatever happened, the child never returns into the zygote's loop
                killed = child.wait_limits(pid, time_s, wall_s)
                _, status, usage = os.wait4(pid, 0)
                wall = time.monotonic() - start
                confine.kill_strays(self)
                n_out, out_len, n_err, oom = self.read_outputs(fds, out_bytes, err_tail, lang)
                report = self.setup_report(setup, n_out, n_err)
                self.programs.remember(key, code_fd, entry[0] == "py" and not cached and report is None)
                code_fd = -1  # the cache has it, or it is closed
            finally:
                for fd in (*fds, setup, program, code_fd):
                    if fd >= 0:
                        os.close(fd)
        finally:
            self.remove_test_dir(test_dir)
        if report is not None:
            # The reason (a compiler message quotes the candidate) stays in out_buf: it is sent as a blob.
            return (req_id, report[0], None, None, 0.0, wall, 0, ""), n_out, n_err, report[1]
        cpu = usage.ru_utime + usage.ru_stime
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        if killed == "cpu" or sig == signal.SIGXCPU:
            # Its CPU clock passed time_s (ours, or RLIMIT_CPU's); rusage (scaled from ticks) may say a bit less.
            cpu = max(cpu, time_s)
        verdict, detail = child.classify(lang, code, sig, cpu, killed, out_len, oom, usage.ru_maxrss, lim)
        return (req_id, verdict, code, sig, cpu, wall, usage.ru_maxrss, detail), n_out, n_err, 0

    def read_outputs(self, fds: list[int], out_bytes: int, err_tail: int, lang: str) -> tuple[int, int, int, bool]:
        """Copy stdout (at most out_bytes) and the stderr tail into out_buf, never into a Python object.
        Returns (stdout bytes kept, stdout size, stderr bytes kept, out-of-memory marker seen in stderr)."""
        out_len = os.fstat(fds[1]).st_size
        err_len = os.fstat(fds[2]).st_size
        n_out, n_err = min(out_len, out_bytes), min(err_len, err_tail)
        # Room for a setup report after the outputs too (reserve would not keep what is already there).
        buf = self.out_buf.reserve(n_out + n_err + NOTE_MAX)
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
        self,
        entry: tuple[str, Any],
        fds: list[int],
        lim: tuple[Any, ...],
        argv: list[str],
        test_dir: str,
        own: tuple[int, int, int],
    ) -> None:
        """In the forked child: isolate, compile, then run the candidate. Always ends with os._exit.
        own: the setup, program and code memory files, kept as fds SETUP_FD, PROGRAM_FD and PROGRAM_FD + 1."""
        code = self.isolate_and_compile(entry, fds, lim, test_dir, own, SETUP_FD, 1)
        if entry[0] == "cpp":
            path = entry[1][0]
            try:
                os.execve(path, [path, *argv], {})
            except OSError as exc:
                os.pwrite(SETUP_FD, SETUP_FAILED + f"exec failed: {exc}".encode(), 0)
                os._exit(125)
        os._exit(child.exec_python(code, argv))

    def isolate_and_compile(
        self,
        entry: tuple[str, Any],
        fds: list[int],
        lim: tuple[Any, ...],
        test_dir: str,
        keep: tuple[int, ...],
        setup_fd: int,
        tests: int,
    ) -> types.CodeType | None:
        """In a forked child: drop the zygote's buffers, isolate (keep -> fds 3, 4, ...), compile a Python
        candidate from its memory file (the fd after setup_fd) under the test's limits (or load the code a child
        compiled before: entry ("py", "marshal")), write the marshalled code to the next fd for the zygote's
        cache, then close all three files. Returns the code object (None for C++). A failure is reported on the
        setup file and ends the child."""
        # The zygote's request and reply buffers read as zeros here (wipe-on-fork); unmapped, they do not count
        # against the memory limit either.
        for buf in (self.in_buf, self.out_buf):
            try:
                buf.map.close()
            except BufferError:
                pass  # a view is still alive: the mapping stays (zeros), only its size counts
        setup = os.fstat(keep[setup_fd - 3]).st_ino
        try:
            confine.isolate(self, entry, fds, lim, test_dir, keep, tests=tests)
        except BaseException as exc:  # noqa: BLE001 - any failure here must end the child, reported by setup
            _report_setup(setup, (setup_fd, keep[setup_fd - 3]), SETUP_FAILED, f"{type(exc).__name__}: {exc}")
        code = None
        program, out = setup_fd + 1, setup_fd + 2
        if entry[0] == "py":
            try:
                data = os.pread(program, os.fstat(program).st_size, 0)
                os.close(program)
                if entry[1] == "marshal":
                    code = marshal.loads(data[8:])  # an earlier child of this program wrote it, before its candidate
                else:
                    # Compiled here, under the test's CPU and memory limits: constant folding of a hostile
                    # program costs the candidate, never a process another program inherits.
                    code = compile(data.decode("utf-8", "surrogateescape"), "main.py", "exec", dont_inherit=True)
                    # The length goes in last: a child killed while writing leaves a file the zygote will not keep.
                    blob = marshal.dumps(code)
                    os.pwrite(out, blob, 8)
                    os.pwrite(out, len(blob).to_bytes(8, "little"), 0)
                del data
            except Exception as exc:  # noqa: BLE001 - SyntaxError, ValueError, MemoryError, RecursionError...
                detail = "".join(traceback.format_exception_only(type(exc), exc))[-2000:]
                _report_setup(setup, (setup_fd,), COMPILE_FAILED, detail)
            os.close(out)
            os.close(setup_fd)
        else:
            os.close(program)
            os.close(out)
            os.set_inheritable(setup_fd, False)  # closed by execve; until then it can report an exec failure
        return code

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
        """In a forked child for several tests: isolate and compile once, then run them all (see _many).
        keep: the control pipes, the inputs file, then the setup and program files. Ends with _exit."""
        setup_fd = 3 + len(keep) - 3
        code = self.isolate_and_compile(entry, fds, lim, test_dir, keep, setup_fd, len(inputs))
        os._exit(child.serve_many(code, inputs, argv))

Reply = tuple[tuple[Any, ...], int, int, int]
"""A reply's header fields, and how many bytes of stdout, stderr tail and the child's setup report (a compile
error's message) lie in turn at the start of out_buf."""


def _report_setup(inode: int, candidates: tuple[int, ...], tag: bytes, reason: str) -> None:
    """Write tag + reason to the setup file (whichever of the candidate fds it is now) and end the child."""
    try:
        for fd in candidates:
            try:
                if os.fstat(fd).st_ino == inode:
                    os.pwrite(fd, tag + reason.encode("utf-8", "replace"), 0)
                    break
            except OSError:
                continue
    finally:
        os._exit(125)


_write_all = programs.write_all


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
    meta, n_out, n_err, n_note = reply
    head = protocol.frame_head(meta, [n_out, n_err, n_note])
    protocol.write_views(fd, [head, zygote.out_buf.view(0, n_out + n_err + n_note)])


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
