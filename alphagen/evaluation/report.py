"""Render a run for people: rich tables on the terminal, the solve-rate curve as a PNG, and report.html.

The HTML page is self-contained (inline CSS, the plot embedded as a data URI) so it opens from anywhere.
"""

from __future__ import annotations

import base64
import html
import io
import logging
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from alphagen.atomic import write_atomic
from alphagen.console import plural
from alphagen.evaluation.store import PROBLEMS, safe_name
from alphagen.statuses import RunStatus

log = logging.getLogger("alphagen.evaluation")

PLOT = "solve_rate.png"
REPORT = "report.html"
# Beyond this many problems the terminal shows only the aggregate table (the HTML report has them all).
MAX_TERMINAL_ROWS = 60


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def metric_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs shared by the terminal and the HTML report."""
    m, t, p = summary["metrics"], summary["timing"], summary["problems"]
    picks = summary["config"].get("num_picks", 10)
    rows = [
        (
            "problems scored / selected",
            f"{p['scored']} / {p['selected']}  ({plural(p['errors'], 'error')}, {p['pending']} pending)",
        ),
        (f"solve rate {picks}@n (real picks)", _pct(m[f"solve_rate_{picks}@n"])),
        ("top-1 pick solve rate", _pct(m["top1_solve_rate"])),
    ]
    rows += [(f"pass@{k}", _pct(v)) for k, v in m["pass@k"].items()]
    rows += [(f"{picks}@{k} (subsampled)", _pct(v)) for k, v in m[f"{picks}@k"].items()]
    rows += picks_rows(m.get("picks_vs_random"))
    rows += [
        ("samples passing examples", _pct(m["example_pass_rate"])),
        ("mean clusters per problem", _num(m["mean_clusters"], 1)),
        ("mean correct samples per problem", _num(m["mean_correct_samples"], 2)),
        ("samples per second (sampling stage)", _num(t["samples_per_second"])),
        ("samples per second (end to end)", _num(t["samples_per_second_end_to_end"])),
        ("seconds per problem", _num(t["seconds_per_problem"], 1)),
    ]
    rows += [(f"time in {name}", f"{secs:.1f}s") for name, secs in t["stage_seconds"].items()]
    rows.append(("time judging hidden tests", f"{t['judge_seconds']:.1f}s"))
    return rows


def picks_rows(pvr: dict[str, Any] | None) -> list[tuple[str, str]]:
    """'j picks: clustering vs random' rows; the contested count says on how many problems they could differ."""
    if not pvr:
        return []
    # A row where no problem is contested compares equal numbers by construction: say so instead of implying
    # that clustering and random picking tied.
    return [
        (
            f"{j} pick{'s' if j > 1 else ''}: clustering / random",
            f"{_pct(pvr['clustering'][str(j)])} / {_pct(pvr['random'][str(j)])}  (random samples "
            f"{_pct(pvr['random_samples'][str(j)])}; {pvr['contested'][str(j)]} contested)"
            + ("  cannot differ at this n: no problem has more survivors than picks with some but not all correct"
               if not pvr["contested"][str(j)] else ""),
        )
        for j in pvr["pick_counts"]
    ]


def print_report(summary: dict[str, Any], console: Console) -> None:
    """Aggregate table, then the per-problem table when it is short enough to read on a terminal."""
    table = Table(title=f"alphagen bench (n={summary['config'].get('n')})", show_header=False)
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right")
    for label, value in metric_rows(summary):
        table.add_row(label, value)
    rows = summary["per_problem"]
    if rows and len(rows) <= MAX_TERMINAL_ROWS:
        per = Table(title="per problem")
        for col in ("problem", "passed ex.", "correct", "clusters", "solved", "rank"):
            per.add_column(col, justify="left" if col == "problem" else "right")
        for r in rows:
            if r["status"] != RunStatus.OK:
                per.add_row(r["name"], "[red]error[/red]", "", "", "", (r.get("error") or "")[:40])
                continue
            solved = "[green]yes[/green]" if r["solved"] else "no"
            per.add_row(
                r["name"],
                f"{r['passed_examples']}/{r['n']}",
                str(r["correct"]),
                str(r["clusters"]),
                solved,
                str(r["first_passing_rank"] or "-"),
            )
        console.print(per)
    console.print(table)


def render_plot(summary: dict[str, Any]) -> bytes | None:
    """The solve-rate curve against the sample budget (log scale), as PNG bytes; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed: no %s (pip install 'alphagen[report]')", PLOT)
        return None
    curve = summary["curve"]
    picks = summary["config"].get("num_picks", 10)
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    if curve:
        ks = [c["k"] for c in curve]
        rates = [100 * (c[f"{picks}@k"] or 0) for c in curve]
        ax.plot(ks, rates, "o-", label=f"{picks}@k (filtered, clustered)")
        pk = [(c["k"], c["pass@k"]) for c in curve if c["pass@k"] is not None]
        ax.plot([k for k, _ in pk], [100 * v for _, v in pk], "s--", label="pass@k (all k submitted)")
        ax.set_xscale("log", base=2)
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.legend(loc="upper left")
    ax.set_xlabel("sample budget k (samples per problem)")
    ax.set_ylabel("solve rate (%)")
    ax.set_ylim(bottom=0)
    ax.set_title(f"Solve rate vs. samples ({plural(summary['problems']['scored'], 'problem')})")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em;color:#222;max-width:1100px}
h1{font-size:1.5em} h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.92em;max-width:100%}
td,th{padding:.3em .7em;overflow-wrap:anywhere;border-bottom:1px solid #eee;text-align:right}
th{background:#f4f4f4;overflow-wrap:normal} td:first-child,th:first-child{text-align:left}
.yes{color:#0a7d2c;font-weight:600} .no{color:#888} .err{color:#b00020}
code,pre{font-family:ui-monospace,Menlo,monospace;font-size:.9em} .muted{color:#777}
"""


def _row(cells: Sequence[str], tag: str = "td") -> str:
    return "<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>"


def _link(name: str) -> str:
    return f"<a href='{html.escape(PROBLEMS)}/{html.escape(safe_name(name))}.jsonl'>{html.escape(name)}</a>"


def render_html(summary: dict[str, Any], records: dict[str, dict[str, Any]], plot_png: bytes | None,
                details: dict[str, dict[str, Any]] | None = None) -> str:
    """The report page. Every value from the run is escaped: problem names and errors are untrusted text."""
    e = html.escape
    cfg = summary["config"]
    picks = cfg.get("num_picks", 10)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>alphagen bench report</title><style>{_CSS}</style></head><body>",
        "<h1>alphagen bench report</h1>",
        f"<p class='muted'>generated {e(datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'))}; "
        f"{'complete' if summary['complete'] else 'partial (run not finished)'}; config: "
        f"<code>{e(', '.join(f'{k}={v}' for k, v in sorted(cfg.items())))}</code></p>",
        "<h2>Metrics</h2><table>",
    ]
    parts += [_row([e(label), e(value)]) for label, value in metric_rows(summary)]
    parts.append("</table>")
    if plot_png is not None:
        data = base64.b64encode(plot_png).decode()
        parts.append("<h2>Solve rate vs. sample budget</h2>")
        parts.append(f"<img alt='solve rate curve' src='data:image/png;base64,{data}'>")
    parts.append("<h2>Per problem</h2><table>")
    parts.append(
        _row(["problem", "samples", "passed examples", "clusters", "correct", "pass@1", f"{picks}@n", "top-1",
              "first passing rank", "picks (hidden tests passed)"], "th")
    )
    for row in summary["per_problem"]:
        name = row["name"]
        if row["status"] != RunStatus.OK:
            # A file that could not be read has no event log to link to; a problem that failed later does.
            label = e(name) if row.get("error_kind") == "load" else _link(name)
            parts.append(
                f"<tr><td>{label}</td><td colspan='9' class='err' style='text-align:left'>"
                f"error ({e(str(row.get('error_kind')))}): {e(str(row.get('error') or ''))}</td></tr>"
            )
            continue
        link = _link(name) + (f" <a href='#{_anchor(name)}'>why</a>" if details and name in details else "")
        rec = records.get(name, {})
        # Each pick links to its code and verdict detail below.
        # A repaired pick is marked "r" (its lineage is in the title and in the problem's section).
        pick_cells = " ".join(
            f"<a href='#{_anchor(name, 'pick', p['rank'])}' class='{'yes' if p['passed'] else 'no'}' "
            f"title='{e(p['status'])}{e(_lineage_title(p))}'>#{p['rank']}:{p['num_passed']}/{p['num_tests']}"
            f"{'r' if len(p.get('lineage', [])) > 1 else ''}</a>"
            for p in rec.get("picks", [])
        )
        solved = "<span class='yes'>yes</span>" if row["solved"] else "<span class='no'>no</span>"
        top1 = "<span class='yes'>yes</span>" if row["top1"] else "<span class='no'>no</span>"
        parts.append(
            _row([
                link, str(row["n"]), str(row["passed_examples"]), str(row["clusters"]), str(row["correct"]),
                _pct(rec.get("pass_at_k", {}).get("1")), solved, top1, str(row["first_passing_rank"] or "-"),
                pick_cells or "<span class='muted'>no picks</span>",
            ])
        )
    parts.append("</table>")
    if details:
        parts.append("<h2>Why each problem was or was not solved</h2>")
        parts += [problem_details(name, d) for name, d in details.items()]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _lineage_title(pick: dict[str, Any]) -> str:
    chain = pick.get("lineage") or []
    return f"; repair of sample {' <- '.join(map(str, chain[1:]))}" if len(chain) > 1 else ""


def _anchor(name: str, *rest: object) -> str:
    return "-".join(["p", safe_name(name), *map(str, rest)])


def load_details(run_dir: Path, records: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per finished problem: its stored samples (stages, candidates, picks, test inputs) and verdicts, read from
    the event logs, for the per-problem sections of the report."""
    from alphagen.evaluation.runner import stored_state
    from alphagen.evaluation.store import read_jsonl

    out: dict[str, dict[str, Any]] = {}
    for name, rec in records.items():
        if rec.get("status") != RunStatus.OK:
            continue
        result, verdicts = stored_state(read_jsonl(run_dir / PROBLEMS / f"{safe_name(name)}.jsonl"))
        if result is not None:
            out[name] = {"result": result, "verdicts": verdicts, "record": rec}
    return out


def problem_details(name: str, d: dict[str, Any]) -> str:
    """One collapsible section: stage counts and times, clusters with their representative's verdict, the
    picks with code and verdict detail, and the generated inputs."""
    e = html.escape
    result, verdicts, rec = d["result"], d["verdicts"], d["record"]
    by_index = {c.index: c for c in result.candidates}

    def root(i: int) -> int:
        c = by_index[i]
        return c.duplicate_of if c.duplicate_of is not None else i

    def verdict_cell(i: int) -> str:
        v = verdicts.get(root(i))
        if v is None:
            return "<span class='muted'>not judged</span>"
        text = "passed" if v.passed else v.status.replace("_", " ")
        cls = "yes" if v.passed else "err"
        return f"<span class='{cls}'>{e(text)}</span> <span class='muted'>{e(v.detail)}</span>"

    solved = "solved" if rec.get("solved") else "not solved"
    parts = [f"<details id='{_anchor(name)}'><summary><b>{e(name)}</b> · {solved} · "
             f"{rec.get('passed_examples', 0)}/{rec.get('n', 0)} passed the examples · "
             f"{plural(rec.get('num_clusters', 0), 'cluster')}</summary>"]
    # Stages: where the samples went, and where the time went.
    parts.append("<table>" + _row(["stage", "in", "out", "seconds"], "th"))
    parts += [_row([e(st.name), str(st.count_in), str(st.count_out), f"{st.seconds:.2f}"]) for st in result.stages]
    parts.append("</table>")
    # Clusters: the picking pool's samples (those passing the examples, or the fallback pool when none did: only
    # those get a signature) grouped by behaviour on the generated inputs.
    clusters: dict[str, list[int]] = {}
    for c in result.candidates:
        r = by_index[root(c.index)]
        if r.signature is not None:
            clusters.setdefault(r.signature, []).append(c.index)
    fallback = " none passed every example: these passed the most;" if clusters and not any(
        c.passed_examples for c in result.candidates) else ""
    if clusters:
        parts.append(f"<p>clusters ({fallback} samples that behave alike on the generated inputs; the verdict is "
                     "of the representative, its first sample):</p><table>"
                     + _row(["cluster", "size", "representative", "verdict on hidden tests"], "th"))
        ordered = sorted(clusters.values(), key=lambda m: (-len(m), m[0]))
        for k, members in enumerate(ordered):
            parts.append(_row([str(k), str(len(members)), f"sample {members[0]}", verdict_cell(members[0])]))
        parts.append("</table>")
    else:
        parts.append("<p class='muted'>no sample passed the examples: nothing to cluster or pick.</p>")
    # The generated inputs that split the clusters, with each cluster's output: why they are separate clusters.
    if result.splits:
        cluster_of = {members[0]: k for k, members in enumerate(ordered)} if clusters else {}
        parts.append(f"<p>{plural(len(result.splits), 'generated input')} that split the clusters (each "
                     "cluster's representative and its output):</p>")
        for sp in result.splits:
            text = result.test_inputs[sp.input_index] if sp.input_index < len(result.test_inputs) else ""
            parts.append(f"<pre>{e(text[:300])}{'…' if len(text) > 300 else ''}</pre><table>"
                         + _row(["cluster", "representative", "output"], "th"))
            parts += [_row([str(cluster_of.get(rep, "?")), f"sample {rep}", f"<code>{e(out)}</code>"])
                      for rep, out in sp.outputs]
            parts.append("</table>")
    # Picks: code collapsed, verdict detail linked from the rank.
    for p in result.picks:
        anchor = _anchor(name, "pick", p.rank)
        parts.append(f"<details id='{anchor}'><summary><a href='#{anchor}'>#{p.rank}</a> · sample "
                     f"{p.candidate}{e(lineage_text(result.candidates, p.candidate))} · cluster size "
                     f"{p.cluster_size} · {verdict_cell(p.candidate)}</summary>"
                     f"<pre>{e(p.code)}</pre></details>")
    # All generated inputs, collapsed.
    if result.test_inputs:
        split = result.testgen.get("distinguishing")
        parts.append(f"<details><summary>{plural(len(result.test_inputs), 'generated input')}"
                     + (f", {split} of them split the survivors" if split is not None else "")
                     + "</summary>")
        parts += [f"<pre>{e(t[:300])}{'…' if len(t) > 300 else ''}</pre>" for t in result.test_inputs[:20]]
        parts.append("</details>")
    parts.append("</details>")
    return "\n".join(parts)


def lineage_text(candidates: Sequence[Any], index: int) -> str:
    """' · repair (round r) of sample p <- q' for a repaired pick: what it was fixed from; '' for a fresh one."""
    from alphagen.results import lineage

    chain = lineage(tuple(candidates), index)
    if len(chain) == 1:
        return ""
    by_index = {c.index: c for c in candidates}
    round_no = getattr(by_index.get(index), "repair_round", 0)
    return f" · repair (round {round_no}) of sample {' <- '.join(map(str, chain[1:]))}"


def write_report(run_dir: Path, summary: dict[str, Any], records: dict[str, dict[str, Any]]) -> Path:
    """Write solve_rate.png and report.html (atomically) and return the report's path."""
    png = render_plot(summary)
    if png is not None:
        write_atomic(run_dir / PLOT, png)
    path = run_dir / REPORT
    write_atomic(path, render_html(summary, records, png, load_details(run_dir, records)))
    return path
