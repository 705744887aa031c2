"""What a mix of two models would have drawn, from two stored runs, without sampling again (#29).

    python -m alphagen.benchmarks.mix_pool OUT_RUN RUN_A RUN_B -n N [--group 8]
    alphagen bench PROBLEMS... --model A,B -n N --seed S --replay OUT_RUN --out MIX_RUN

`--model a,b` (`sampling.mix.MixSampler`) gives prompt group g (samples g*8 .. g*8+7 at 8 samples a prompt) to
model g mod 2, and a sample keeps its index and its random stream whichever call draws it. So the mix's sample i
is RUN_A's or RUN_B's sample i (both drawn with the same settings but the model), up to the batch noise of bf16
decoding. This writes a source run directory whose pools are exactly those samples, deduplicated again across the
two models; `bench --replay` then redoes the test inputs, clustering, picks and judging on it with real runs.

The sampling CPU-seconds of the mix are not measured here: each run's CPU-seconds per sample (all stages, from the
coverage benchmark's record) times the samples taken from it is the estimate printed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from alphagen.atomic import write_atomic
from alphagen.evaluation.replay import AFTER_SAMPLING
from alphagen.evaluation.runner import as_current
from alphagen.evaluation.store import CONFIG, PROBLEMS, read_jsonl
from alphagen.extract import fingerprint

# Settings that may differ between the two runs: the model, the sample count, and what acts after sampling.
_MAY_DIFFER = AFTER_SAMPLING | {"model", "n", "settle_min", "budget"}


def _fresh_samples(run: Path, stem: str) -> dict[int, tuple[dict[str, Any], float]]:
    """A problem's fresh samples in a run, by index, each with its step's sampling seconds per sample."""
    out: dict[int, tuple[dict[str, Any], float]] = {}
    for ev in read_jsonl(run / PROBLEMS / f"{stem}.jsonl"):
        stage = ev.get("stage", {})
        if ev.get("event") != "pool" or not str(stage.get("name", "")).startswith("fresh"):
            continue
        cands = stage.get("candidates", [])
        per = float(stage.get("seconds", 0.0)) / max(1, len(cands))
        for c in cands:
            out[int(c["index"])] = (c, per)
    return out


def mix_config(a: dict[str, Any], b: dict[str, Any], n: int) -> dict[str, Any]:
    """The mix run's config: RUN_A's, with both models and n; the runs must agree on every other sampling
    setting."""
    diffs = sorted(k for k in set(a) | set(b) if k not in _MAY_DIFFER and a.get(k) != b.get(k))
    if diffs:
        raise ValueError(f"the two runs must differ only in the model, got {', '.join(diffs)} too")
    models = [as_current(c)["model"] for c in (a, b)]
    if models[0] == models[1]:
        raise ValueError(f"the two runs must be of two models, got {models[0]} for both")
    return a | {"model": ",".join(models), "n": n}


def merged_pool(sources: list[dict[int, tuple[dict[str, Any], float]]], n: int, group: int) -> tuple[
        list[dict[str, Any]], float]:
    """Samples 0..n-1 of the mix (group g from source g mod 2), re-deduplicated, and their sampling seconds."""
    out: list[dict[str, Any]] = []
    seconds = 0.0
    first: dict[str, int] = {}
    for i in range(n):
        src = sources[(i // group) % len(sources)]
        if i not in src:
            raise ValueError(f"sample {i} is missing from run {(i // group) % len(sources) + 1}")
        cand, per = src[i]
        key = fingerprint(cand["code"], cand.get("language", "python"))
        dup = first.setdefault(key, i)
        out.append(cand | {"duplicate_of": None if dup == i else dup})
        seconds += per
    return out, seconds


def write_mix(out: Path, run_a: Path, run_b: Path, n: int, group: int) -> dict[str, Any]:
    """Write OUT's config and one fresh pool per problem both runs hold; what was written."""
    cfg_a, cfg_b = (json.loads((r / CONFIG).read_text(encoding="utf-8")) for r in (run_a, run_b))
    config = mix_config(cfg_a, cfg_b, n)
    if config.get("samples_per_prompt") != group:
        raise ValueError(f"--group must be the runs' samples per prompt ({config.get('samples_per_prompt')}), "
                         f"got {group}")
    stems = sorted({p.stem for p in (run_a / PROBLEMS).glob("*.jsonl")} & {p.stem for p in (run_b / PROBLEMS).glob(
        "*.jsonl")})
    # Every pool first: a missing sample refuses before anything is written.
    pools = {stem: merged_pool([_fresh_samples(run_a, stem), _fresh_samples(run_b, stem)], n, group)
             for stem in stems}
    (out / PROBLEMS).mkdir(parents=True, exist_ok=False)
    write_atomic(out / CONFIG, json.dumps(config, indent=1, sort_keys=True) + "\n")
    for stem, (pool, seconds) in pools.items():
        event = {"event": "pool", "stage": {"name": "fresh", "candidates": pool, "seconds": round(seconds, 4)}}
        write_atomic(out / PROBLEMS / f"{stem}.jsonl", json.dumps(event) + "\n")
    taken = [sum(1 for i in range(n) if (i // group) % 2 == k) * len(stems) for k in (0, 1)]
    return {"problems": len(stems), "model": config["model"], "n": n, "samples_from": taken}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, help="the source run directory to write (must not exist)")
    ap.add_argument("run_a", type=Path, help="a bench run of the first model (its groups: 0, 2, 4, ...)")
    ap.add_argument("run_b", type=Path, help="a bench run of the second model (groups 1, 3, ...)")
    ap.add_argument("-n", type=int, required=True, help="samples a problem in the mix")
    ap.add_argument("--group", type=int, default=8, help="samples per prompt group (the runs' own)")
    args = ap.parse_args()
    if args.out.exists():
        ap.error(f"out must not exist yet, got {args.out}")
    try:
        print(json.dumps(write_mix(args.out, args.run_a, args.run_b, args.n, args.group)))
    except (ValueError, OSError) as e:
        ap.error(str(e))


if __name__ == "__main__":
    main()
