"""Scratch directories on paths a candidate could have touched. Standard library only (the zygote loads it by
path; the controller imports it as sandbox._scratch).

Every test gets a fresh directory inside its slot's directory, which the candidate cannot modify (root-owned
when we are root; with one uid for everything, the zygote removes whatever else appears there after each
test). Everything we do on such paths goes through directory fds and never follows a symlink: files are
created with O_EXCL | O_NOFOLLOW, and removal unlinks names (a symlink is removed, not its target). A mode is
only ever changed through an fd (fchmod, or fchmodat2 on an O_PATH fd), never by name: a live thread of the
candidate (a several-tests child keeps running between tests) may swap a name for a symlink at any moment, and
a chmod by name would then follow it to a file of the user's. Removal never recurses either, on the stack or
otherwise: a directory nested thousands deep is flattened level by level into its top directory (rename is
O(1)), so it costs one open directory at a time and no Python recursion.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import stat
import tempfile

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_HANDLE_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
"""A handle on a directory we may not read (a candidate's mkdir(d, 0)): enough to change its mode."""
MAX_PASSES = 1_000_000
"""Bound on flattening rounds: a tree that keeps changing under us (it cannot: its writers are dead) ends in
an error instead of a loop."""
_SYS_FCHMODAT2 = 452 if platform.machine() in ("x86_64", "aarch64") else -1
_AT_EMPTY_PATH = 0x1000
_libc = ctypes.CDLL(None, use_errno=True)


def scratch_parent(base: str | None = None) -> str:
    """The per-user directory every Executor's root is created in: <base or the temp dir>/alphagen-sandbox-<uid>,
    a directory of ours (never a symlink), 0711 as root (slot uids traverse it) and 0700 otherwise. A non-root
    zygote covers this whole directory with an empty tmpfs, so its candidates see no other Executor's scratch.
    A name of that kind that is not ours (planted in a shared temp dir) is left alone: a private directory
    is made instead."""
    base = base or tempfile.gettempdir()
    uid = os.geteuid()
    mode = 0o711 if uid == 0 else 0o700
    name = f"alphagen-sandbox-{uid}"
    base_fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            os.mkdir(name, mode, dir_fd=base_fd)
        except FileExistsError:
            pass
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=base_fd)
        except OSError:
            fd = -1  # a symlink (ELOOP) or not a directory: not ours to use
        if fd >= 0:
            try:
                info = os.fstat(fd)
                if info.st_uid == uid:
                    if stat.S_IMODE(info.st_mode) != mode:
                        os.chmod(fd, mode)
                    return os.path.join(base, name)
            finally:
                os.close(fd)
    finally:
        os.close(base_fd)
    private = tempfile.mkdtemp(prefix=f"{name}-", dir=base)
    os.chmod(private, mode)
    return private


def make_dir(parent: str, name: str, uid: int, locked: int | None = None) -> str:
    """Create parent/name (mode 0700) for one test and hand it to uid (when >= 0). A leftover of that name
    (a planted symlink, an old directory) is removed first: mkdir never follows a symlink, it fails with
    EEXIST, so we never reuse something the candidate could have prepared. locked: parent's mode between our
    visits (one uid for everything: read-only, so the candidate cannot add anything next to its directory);
    it is opened up (0700) only while we create, through its fd."""
    parent_fd = os.open(parent, _DIR_FLAGS)
    try:
        if locked is not None:
            os.chmod(parent_fd, 0o700)
        try:
            try:
                os.mkdir(name, 0o700, dir_fd=parent_fd)
            except FileExistsError:
                remove(parent_fd, name)
                os.mkdir(name, 0o700, dir_fd=parent_fd)
            if uid >= 0:
                fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
                try:
                    os.chown(fd, uid, uid)
                finally:
                    os.close(fd)
        finally:
            if locked is not None:
                os.chmod(parent_fd, locked)
    finally:
        os.close(parent_fd)
    return os.path.join(parent, name)


def write_files(directory: str, files: list[tuple[str, memoryview]]) -> None:
    """Create each file anew in directory (which we just made): O_EXCL refuses any existing name, O_NOFOLLOW
    any symlink, so root writes only the files it creates. Mode 0644 inside a 0700 directory: readable by the
    slot uid that owns the directory and by nobody else."""
    dir_fd = os.open(directory, _DIR_FLAGS)
    try:
        for name, content in files:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(os.path.basename(name), flags, 0o644, dir_fd=dir_fd)
            try:
                while content:
                    content = content[os.write(fd, content) :]
            finally:
                os.close(fd)
    finally:
        os.close(dir_fd)


def remove_path(path: str) -> None:
    """Remove path (a file, a symlink, or a whole tree) without following symlinks; missing is fine."""
    parent, name = os.path.split(os.path.abspath(path))
    try:
        parent_fd = os.open(parent, _DIR_FLAGS)
    except FileNotFoundError:
        return
    try:
        remove(parent_fd, name)
    finally:
        os.close(parent_fd)


def empty_dir(path: str, keep: frozenset[str] = frozenset(), locked: int | None = None) -> None:
    """Remove every entry of the directory at path except the names in keep. locked: as in make_dir."""
    dir_fd = os.open(path, _DIR_FLAGS)
    try:
        if locked is not None:
            os.chmod(dir_fd, 0o700)
        try:
            for name in os.listdir(dir_fd):
                if name not in keep:
                    remove(dir_fd, name)
        finally:
            if locked is not None:
                os.chmod(dir_fd, locked)
    finally:
        os.close(dir_fd)


def seal_dir(path: str) -> None:
    """Mode 0 on the directory at path (one we could not remove: nobody uses it again), through an fd."""
    handle = os.open(path, _HANDLE_FLAGS)
    try:
        _chmod_handle(handle, 0)
    finally:
        os.close(handle)


def remove(parent_fd: int, name: str) -> None:
    """Remove parent_fd/name: unlink a non-directory; flatten and remove a directory."""
    for _ in range(MAX_PASSES):
        if _unlink_or_rmdir(parent_fd, name):
            return
        top = _open_dir(parent_fd, name)
        if top >= 0:
            break
        # No longer a directory (swapped under us): look again.
    else:
        raise OSError(errno.ELOOP, f"{name} keeps changing")
    try:
        _flatten_and_empty(top)
    finally:
        os.close(top)
    os.rmdir(name, dir_fd=parent_fd)


def _unlink_or_rmdir(dir_fd: int, name: str) -> bool:
    """True when name is gone (removed, or never there); False for a non-empty directory."""
    try:
        os.unlink(name, dir_fd=dir_fd)
        return True
    except FileNotFoundError:
        return True
    except (IsADirectoryError, PermissionError) as exc:
        if isinstance(exc, PermissionError):
            # Our own uid (non-root mode) and a directory without write permission: give it back first.
            _make_accessible(dir_fd)
            try:
                os.unlink(name, dir_fd=dir_fd)
                return True
            except (IsADirectoryError, FileNotFoundError):
                pass
    try:
        os.rmdir(name, dir_fd=dir_fd)
        return True
    except FileNotFoundError:
        return True
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.EACCES, errno.EPERM):
            return False
        raise


def _flatten_and_empty(top: int) -> None:
    """Empty the directory top: each pass removes what it can and moves the contents of each non-empty
    subdirectory up into top, so the tree gets one level shallower per pass, whatever its depth."""
    serial = 0
    for _ in range(MAX_PASSES):
        names = os.listdir(top)
        if not names:
            return
        for name in names:
            if _unlink_or_rmdir(top, name):
                continue
            sub = _open_dir(top, name)
            if sub < 0:
                continue  # swapped for a non-directory under us: the next pass removes what is there now
            try:
                for child in os.listdir(sub):
                    if _unlink_or_rmdir(sub, child):
                        continue
                    # A non-empty directory one level down: hoist it into top under a fresh name (if a
                    # name is taken the rename fails or replaces an empty directory: both harmless here).
                    while True:
                        serial += 1
                        try:
                            os.rename(child, f".rm{serial}", src_dir_fd=sub, dst_dir_fd=top)
                            break
                        except OSError as exc:
                            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                                raise
            finally:
                os.close(sub)
    raise OSError(errno.ELOOP, "directory tree did not shrink")


def _open_dir(parent_fd: int, name: str) -> int:
    """An fd for listing the directory parent_fd/name, never through a symlink; -1 when name is no longer a
    directory (or gone)."""
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except PermissionError:
        # Non-root mode: a directory the candidate created with mode 0 is still ours: open it up first, through
        # a handle on the directory itself, so that a name swapped for a symlink in between is refused
        # (O_NOFOLLOW | O_DIRECTORY), never followed to a file outside scratch.
        try:
            handle = os.open(name, _HANDLE_FLAGS, dir_fd=parent_fd)
        except (NotADirectoryError, FileNotFoundError):
            return -1
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return -1
            raise
        try:
            _chmod_handle(handle, 0o700)
            fd = os.open(".", _DIR_FLAGS, dir_fd=handle)
        finally:
            os.close(handle)
    except (NotADirectoryError, FileNotFoundError):
        return -1
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symlink now: O_NOFOLLOW refused it
            return -1
        raise
    _make_accessible(fd)
    return fd


def _chmod_handle(handle: int, mode: int) -> None:
    """chmod the inode an O_PATH fd holds (fchmod refuses O_PATH fds): fchmodat2(fd, "", AT_EMPTY_PATH) on
    kernels that have it (6.6+), else through the fd's /proc/self/fd link, which names that inode, not a path."""
    if _SYS_FCHMODAT2 >= 0:
        if _libc.syscall(_SYS_FCHMODAT2, handle, b"", mode, _AT_EMPTY_PATH) == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(err, os.strerror(err))
    os.chmod(f"/proc/self/fd/{handle}", mode)


def _make_accessible(dir_fd: int) -> None:
    """Owner rwx on a directory we own, so we can list and unlink in it (no-op as root: DAC does not apply)."""
    if os.geteuid() == 0:
        return
    try:
        mode = os.fstat(dir_fd).st_mode
        if mode & 0o700 != 0o700:
            os.chmod(dir_fd, (mode & 0o7777) | 0o700)
    except OSError:
        pass
