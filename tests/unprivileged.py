"""Rerun sandbox test files as a fresh unprivileged user: the non-root mode (one uid for zygote and candidates).

Shared by the hostile/escape suite and the red-team suite, which each rerun themselves this way."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RERUN_FLAG = "SANDBOX_UNPRIVILEGED_RERUN"


def rerun_unprivileged(tmp_path: Path, files: list[str], prefix: str, timeout: int) -> subprocess.CompletedProcess[str]:
    """pytest on `files` as a user made for this run (removed after); skips when that cannot be done here."""
    if os.environ.get(RERUN_FLAG):
        pytest.skip("already the unprivileged rerun")
    if os.geteuid() != 0:
        pytest.skip("needs root to create an unprivileged user (we are already one: the suite ran as such)")
    if shutil.which("useradd") is None or shutil.which("setpriv") is None:
        pytest.skip("useradd/setpriv not installed")
    name = f"{prefix}{os.getpid()}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
    try:
        user = pwd.getpwnam(name)
        os.chown(tmp_path, user.pw_uid, user.pw_gid)
        site = [p for p in sys.path if p.endswith("site-packages")]
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "TMPDIR": str(tmp_path),
            "PYTHONPATH": os.pathsep.join([str(ROOT), *site]),
            RERUN_FLAG: "1",
        }
        return subprocess.run(
            ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
             "/usr/bin/python3", "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *files],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
        )
    finally:
        subprocess.run(["userdel", name], check=False)
