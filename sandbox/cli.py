"""`python -m sandbox run PROGRAM --lang {python,cpp} [--input FILE]... [--time-limit S] [--memory-limit MB]
[--json]`.

Runs one program on each input file (or on our own stdin when none is given) and prints one result per input.
argparse, not click: the sandbox depends on nothing but the standard library and psutil.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from sandbox.executor import Executor
from sandbox.values import Language, Limits, Program, Result

MAX_WORKERS = 1000
"""The most worker slots the Executor accepts."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="Run untrusted programs in the sandbox."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run one program on one or more inputs")
    run.add_argument("program", help="source file of the program")
    run.add_argument(
        "--lang",
        choices=[lang.value for lang in Language],
        default=None,
        help="language (default: from the file extension, .cpp/.cc/.cxx -> cpp, else python)",
    )
    run.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="FILE",
        help="stdin for one execution; repeat for several (default: read our own stdin once)",
    )
    run.add_argument(
        "--time-limit", type=float, default=Limits.time_s, metavar="S",
        help="CPU seconds per test (default: %(default)s)",
    )
    run.add_argument(
        "--wall-limit", type=float, default=None, metavar="S", help="wall seconds (default 2*T+1)"
    )
    run.add_argument(
        "--memory-limit", type=int, default=Limits.memory_mb, metavar="MB",
        help="memory in MiB (default: %(default)s)",
    )
    run.add_argument(
        "--output-limit", type=int, default=Limits.output_bytes, metavar="BYTES",
        help="stdout cap in bytes (default: %(default)s)",
    )
    run.add_argument(
        "--python", default="/usr/bin/python3", help="interpreter for Python programs (default: %(default)s)"
    )
    run.add_argument(
        "--isolation", choices=["auto", "strict", "none"], default="auto",
        help="auto: warn once about missing isolation layers; strict: refuse to run without them; "
        "none: rlimits only, for debugging (default: %(default)s)",
    )
    run.add_argument("--workers", type=int, default=None, help="worker slots (default: one per CPU)")
    run.add_argument("--json", action="store_true", help="print one JSON object per line")
    return parser


def _language(path: str, lang: str | None) -> Language:
    if lang is not None:
        return Language(lang)
    return Language.CPP if path.endswith((".cpp", ".cc", ".cxx", ".C")) else Language.PYTHON


def _as_json(name: str, result: Result) -> str:
    return json.dumps(
        {
            "input": name,
            "status": result.status.value,
            "exit_code": result.exit_code,
            "signal": result.signal,
            "cpu_s": round(result.cpu_s, 4),
            "wall_s": round(result.wall_s, 4),
            "peak_memory_kb": result.peak_memory_kb,
            "stdout": result.stdout.decode("utf-8", "replace"),
            "stderr": result.stderr.decode("utf-8", "replace"),
            "detail": result.detail,
        }
    )


def _as_text(name: str, result: Result) -> str:
    head = (
        f"== {name}: {result.status.value} (exit {result.exit_code}, signal {result.signal}, "
        f"cpu {result.cpu_s:.3f}s, wall {result.wall_s:.3f}s, peak {result.peak_memory_kb} KiB)"
    )
    parts = [head]
    if result.detail:
        parts.append(f"detail: {result.detail}")
    parts.append(result.stdout.decode("utf-8", "replace").rstrip("\n"))
    if result.stderr:
        parts.append("-- stderr --\n" + result.stderr.decode("utf-8", "replace").rstrip("\n"))
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status (0 when every execution ended ok)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s", stream=sys.stderr)
    try:
        # Options first: a bad value is reported before our stdin is read (which could wait on a terminal).
        if args.workers is not None and not 1 <= args.workers <= MAX_WORKERS:
            raise ValueError(f"--workers must be between 1 and {MAX_WORKERS}, got {args.workers}")
        with open(args.program, encoding="utf-8", errors="surrogateescape") as f:
            source = f.read()
        names = args.input or ["<stdin>"]
        inputs = [sys.stdin.buffer.read()] if not args.input else [open(p, "rb").read() for p in args.input]
        limits = Limits(
            time_s=args.time_limit,
            wall_s=args.wall_limit,
            memory_mb=args.memory_limit,
            output_bytes=args.output_limit,
        )
        workers = args.workers if args.workers is not None else min(len(inputs), 4)
        program = Program(source, _language(args.program, args.lang))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    all_ok = True
    with Executor(workers=workers, python=args.python, isolation=args.isolation) as executor:
        results = sorted(executor.run_batch([program], inputs, limits), key=lambda r: r.input_index)
    for result in results:
        all_ok &= result.ok
        name = names[result.input_index]
        print(_as_json(name, result) if args.json else _as_text(name, result), flush=True)
    return 0 if all_ok else 1
