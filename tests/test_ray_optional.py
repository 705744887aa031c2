"""Ray is an optional extra: without --ray nothing imports it, and --ray without it says how to install it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_commands_do_not_import_ray() -> None:
    res = _python(
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from alphagen.cli import main\n"
        "r = CliRunner().invoke(main, ['bench', '--help'])\n"
        "assert r.exit_code == 0 and '--ray' in r.output, r.output\n"
        "r = CliRunner().invoke(main, ['solve', '--help'])\n"
        "assert r.exit_code == 0 and '--ray' in r.output, r.output\n"
        "print('ray' in sys.modules)\n"
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"


def test_ray_option_without_ray_installed_explains_the_fix(tmp_path: Path) -> None:
    # sys.modules['ray'] = None makes `import ray` fail exactly as when the package is absent.
    res = _python(
        "import sys\n"
        "sys.modules['ray'] = None\n"
        "from click.testing import CliRunner\n"
        "from alphagen.cli import main\n"
        f"r = CliRunner().invoke(main, ['bench', 'problems/sum-of-two.json', '--ray', 'auto', '--out', "
        f"{str(tmp_path / 'run')!r}])\n"
        "print(r.exit_code)\n"
        "print(r.output)\n"
    )
    assert res.returncode == 0, res.stderr
    code, _, output = res.stdout.partition("\n")
    assert code == "2"  # an error (1 means "ran, no answer")
    assert "Ray is not installed: pip install 'alphagen[ray]'" in output
