"""The benchmark's wrong programs: single AST edits of a reference, and a meaning-preserving rename."""

from __future__ import annotations

import json

from alphagen.benchmarks.wrong_programs import mutants as mu
from alphagen.benchmarks.wrong_programs.build import STORE
from tests.testgen_fakes import run_source

REF = """import sys
def best(xs):
    m = 0
    for i in range(len(xs)):
        if xs[i] > m:
            m = xs[i]
    return m
data = sys.stdin.read().split()
n = int(data[0])
print(best(sorted(int(x) for x in data[1:1 + n])))
"""


def test_every_operator_site_yields_a_compiling_different_program() -> None:
    found = list(mu.all_mutants(REF))
    ops = {s.op for s, _ in found}
    assert {"cmp", "const+1", "const-1", "binop", "drop-if", "range-1", "slow-sort"} <= ops
    for site, src in found:
        compile(src, "<m>", "exec")
        assert src != REF and mu.apply(REF, site) == src  # deterministic


def test_mutants_change_behaviour_and_rename_does_not() -> None:
    stdin = "4\n3 9 1 9\n"
    assert run_source(REF, stdin)[1] == b"9\n"
    outputs = {run_source(src, stdin)[1] for _, src in mu.all_mutants(REF)}
    assert len(outputs) > 2
    renamed = mu.renamed(REF)
    assert "v_best" in renamed and "v_xs" in renamed
    assert run_source(renamed, stdin)[1] == b"9\n"


def test_stored_set_is_well_formed() -> None:
    data = json.loads(STORE.read_text())
    assert data["problems"]
    for entry in data["problems"]:
        assert entry["wrong"] and set(entry["correct"]) <= {"renamed"}
        for w in entry["wrong"]:
            assert w["op"] in mu.OPERATORS and w["index"] >= 0
