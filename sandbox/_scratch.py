"""Scratch directories on paths a candidate could have touched. Standard library only (the zygote loads it by
path; the controller imports it as sandbox._scratch).

Every test gets a fresh directory inside its slot's directory, which the candidate cannot modify (root-owned
when we are root; with one uid for everything, the zygote removes whatever else appears there after each
test). Everything we do on such paths goes through directory fds and never follows a symlink: files are
created with O_EXCL | O_NOFOLLOW, and removal unlinks names (a symlink is removed, not its target). Removal
never recurses either, on the stack or otherwise: a directory nested thousands deep is flattened level by level
into its top directory (rename is O(1)), so it costs one open directory at a time and no Python recursion.
"""

from __future__ import annotations

import errno
import os

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_PASSES = 1_000_000
"""Bound on flattening rounds: a tree that keeps changing under us (it cannot: its writers are dead) ends in
an error instead of a loop."""


def make_dir(parent: str, name: str, uid: int) -> str:
    """Create parent/name (mode 0700) for one test and hand it to uid (when >= 0). A leftover of that name
    (a planted symlink, an old directory) is removed first: mkdir never follows a symlink, it fails with
    EEXIST, so we never reuse something the candidate could have prepared."""
    parent_fd = os.open(parent, _DIR_FLAGS)
    try:
        try:
            os.mkdir(name, 0o700, dir_fd=parent_fd)
        except FileExistsError:
            remove(parent_fd, name)
            os.mkdir(name, 0o700, dir_fd=parent_fd)
        if uid >= 0:
            os.chown(name, uid, uid, dir_fd=parent_fd, follow_symlinks=False)
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


def empty_dir(path: str, keep: frozenset[str] = frozenset()) -> None:
    """Remove every entry of the directory at path except the names in keep."""
    dir_fd = os.open(path, _DIR_FLAGS)
    try:
        for name in os.listdir(dir_fd):
            if name not in keep:
                remove(dir_fd, name)
    finally:
        os.close(dir_fd)


def remove(parent_fd: int, name: str) -> None:
    """Remove parent_fd/name: unlink a non-directory; flatten and remove a directory."""
    if _unlink_or_rmdir(parent_fd, name):
        return
    top = _open_dir(parent_fd, name)
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
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except PermissionError:
        # Non-root mode: a directory the candidate created with mode 0 is still ours: open it up first.
        # (Its writers are dead: the zygote cleans up only after every process of the test is gone.)
        os.chmod(name, 0o700, dir_fd=parent_fd)
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    _make_accessible(fd)
    return fd


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
