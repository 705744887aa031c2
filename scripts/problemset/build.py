"""Regenerate problems/*.json from the specs in this folder: `python scripts/problemset/build.py`.

Why a script: expected outputs are produced by running each reference under /usr/bin/python3 (the interpreter
users have), inputs come from fixed seeds, and every reference is cross-checked against an independent brute
force on the small inputs, so a wrong reference or a drifting generator is caught here, not by users.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# Running as a script puts this folder first on sys.path, so the sibling modules import by plain name.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from spec import ProblemSpec  # noqa: E402
from specs import all_specs  # noqa: E402
from validator_prelude import PRELUDE  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"
MAX_INPUT_BYTES = 400_000
MAX_TOTAL_BYTES = 10_000_000
MIN_PRIVATE = 10


def run_program(argv: list[str], stdin: str, timeout: float) -> tuple[str, float]:
    """Run one program on one input; return (stdout, CPU seconds). Raise on crash or timeout.

    CPU time (user + sys of that child alone, from wait4) rather than wall time, so that other work on a
    shared machine does not make a fast reference look slow."""
    with tempfile.TemporaryFile("w+") as fin, tempfile.TemporaryFile("w+") as fout, \
            tempfile.TemporaryFile("w+") as ferr:
        fin.write(stdin)
        fin.seek(0)
        proc = subprocess.Popen(argv, stdin=fin, stdout=fout, stderr=ferr, text=True)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
        fout.seek(0)
        ferr.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[-1]} exited {proc.returncode}: {ferr.read()[-800:]}")
        return fout.read(), usage.ru_utime + usage.ru_stime


def tokens_equal(a: str, b: str) -> bool:
    """The checker's comparison: whitespace-separated tokens must match exactly."""
    return a.split() == b.split()


def describe(spec: ProblemSpec, examples: list[dict[str, str]]) -> str:
    """Statement plus the Examples section, so the shown text and the public tests can never disagree."""
    parts = [spec.statement.rstrip("\n"), "", "Examples"]
    for i, ex in enumerate(examples, 1):
        parts += ["", f"Example {i}", "Input", ex["input"].rstrip("\n"), "Output", ex["output"].rstrip("\n")]
    return "\n".join(parts) + "\n"


def compile_cpp(source: str, workdir: Path) -> Path | None:
    """Compile the optional C++ reference; None when g++ is missing (the check is then skipped, loudly)."""
    if shutil.which("g++") is None:
        print("  warning: g++ not found, C++ reference not checked", file=sys.stderr)
        return None
    src, exe = workdir / "ref.cpp", workdir / "ref"
    src.write_text(source)
    subprocess.run(["g++", "-O2", "-std=c++17", "-o", str(exe), str(src)], check=True, capture_output=True)
    return exe


def build_one(spec: ProblemSpec, use_brute: bool, check_time: bool) -> dict[str, object]:
    """Generate inputs, compute outputs with the reference, cross-check, and return the JSON document."""
    import random

    # A string seed hashes deterministically (random.seed version 2), so the build is reproducible.
    rng = random.Random(f"alphagen-problemset:{spec.name}")
    public_inputs = list(spec.public)
    # Tiny random cases can repeat an example or each other; a repeat tests nothing, so drop it.
    private_inputs: list[str] = []
    for inp in spec.private(rng):
        if inp not in public_inputs and inp not in private_inputs:
            private_inputs.append(inp)
    everything = public_inputs + private_inputs
    if len(private_inputs) < MIN_PRIVATE:
        raise ValueError(f"{spec.name}: needs >= {MIN_PRIVATE} private tests, got {len(private_inputs)}")
    if len(set(everything)) != len(everything):
        raise ValueError(f"{spec.name}: duplicate test inputs")
    for inp in everything:
        if len(inp.encode()) > MAX_INPUT_BYTES:
            raise ValueError(f"{spec.name}: an input has {len(inp.encode())} bytes > {MAX_INPUT_BYTES}")
        if not inp.endswith("\n"):
            raise ValueError(f"{spec.name}: every input must end with a newline")

    validator = PRELUDE + "\n\n" + spec.validator
    with tempfile.TemporaryDirectory() as tmp:
        # Every input, examples included, must satisfy the statement's format and bounds.
        val = Path(tmp) / "validator.py"
        val.write_text(validator)
        for inp in everything:
            try:
                run_program([PYTHON, str(val)], inp, timeout=30)
            except RuntimeError as e:
                raise ValueError(f"{spec.name}: validator rejects {inp[:120]!r}: {e}") from None

        ref = Path(tmp) / "ref.py"
        ref.write_text(spec.solution)
        outputs, times = [], []
        for inp in everything:
            out, elapsed = run_program([PYTHON, str(ref)], inp, timeout=30)
            if not out.strip():
                raise ValueError(f"{spec.name}: reference printed nothing")
            outputs.append(out)
            times.append(elapsed)

        # An independent brute force must agree wherever it is fast enough to run.
        brute_checked = 0
        if use_brute and spec.brute is not None:
            brute = Path(tmp) / "brute.py"
            brute.write_text(spec.brute)
            for inp, out in zip(everything, outputs, strict=True):
                if len(inp) <= spec.brute_max_chars:
                    got, _ = run_program([PYTHON, str(brute)], inp, timeout=60)
                    if not tokens_equal(got, out):
                        raise ValueError(
                            f"{spec.name}: brute {got[:80]!r} != reference {out[:80]!r} on {inp[:200]!r}"
                        )
                    brute_checked += 1

        # The reference must run in under a third of the limit on its slowest input (best of 3 runs, since
        # the machine may be busy with other work).
        slowest = everything[max(range(len(everything)), key=times.__getitem__)]
        best = min(run_program([PYTHON, str(ref)], slowest, timeout=30)[1] for _ in range(3))
        if check_time and best > spec.time_limit / 3:
            limit = spec.time_limit / 3
            raise ValueError(f"{spec.name}: reference took {best:.2f}s > {limit:.2f}s on a test")

        cpp_checked = False
        if spec.cpp_solution is not None:
            exe = compile_cpp(spec.cpp_solution, Path(tmp))
            if exe is not None:
                for inp, out in zip(everything, outputs, strict=True):
                    got, _ = run_program([str(exe)], inp, timeout=30)
                    if not tokens_equal(got, out):
                        raise ValueError(f"{spec.name}: C++ reference disagrees on {inp[:200]!r}")
                cpp_checked = True

    n_pub = len(public_inputs)
    examples = [{"input": i, "output": o} for i, o in zip(public_inputs, outputs[:n_pub], strict=True)]
    private = [{"input": i, "output": o} for i, o in zip(private_inputs, outputs[n_pub:], strict=True)]
    solutions = [{"language": "python", "code": spec.solution}]
    if spec.cpp_solution is not None:
        solutions.append({"language": "cpp", "code": spec.cpp_solution})
    print(
        f"{spec.name:32s} tests {n_pub}+{len(private)}  brute-checked {brute_checked:2d}  "
        f"largest input {max(map(len, everything)):7d} B, slowest test {best:.3f}s CPU"
        f"{'  cpp ok' if cpp_checked else ''}"
    )
    doc: dict[str, object] = {
        "name": spec.name,
        "kind": "stdio",
        "description": describe(spec, examples),
        "time_limit": spec.time_limit,
        "memory_limit": 256,
        "rating": spec.rating,
        "tags": list(spec.tags),
        "checker": {"mode": "tokens"},
        "public_tests": examples,
        "private_tests": private,
        "validator": validator,
    }
    # One reference is stored as "solution"; a second (C++) one moves both into "solutions".
    if len(solutions) == 1:
        doc["solution"] = solutions[0]
    else:
        doc["solutions"] = solutions
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="only these problems (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "problems")
    parser.add_argument("--no-brute", action="store_true", help="skip the brute-force cross-check")
    parser.add_argument("--no-time-check", action="store_true", help="don't fail on a slow reference")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)

    specs = all_specs()
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise SystemExit("duplicate problem names in specs")
    unknown = set(args.names) - set(names)
    if unknown:
        raise SystemExit(f"unknown problem names: {sorted(unknown)}")
    chosen = [s for s in specs if not args.names or s.name in args.names]

    args.out.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        docs = list(pool.map(lambda s: build_one(s, not args.no_brute, not args.no_time_check), chosen))
    for doc in docs:
        path = args.out / f"{doc['name']}.json"
        path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")

    total = sum(p.stat().st_size for p in args.out.glob("*.json"))
    print(f"{len(docs)} problems written to {args.out}; problems/ totals {total / 1e6:.2f} MB")
    if total > MAX_TOTAL_BYTES:
        raise SystemExit(f"problems/ is {total} bytes > {MAX_TOTAL_BYTES}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
