"""Clustering presumes time-outs (#29, item 6): a survivor that timed out on an input is not run on the later inputs
at least as large in every number; its key there is the one a real time-out gets."""

from __future__ import annotations

from collections.abc import Iterator

from alphagen import clustering
from alphagen.cluster_runs import CLUSTER_CHUNK, ClusterClock, Clustered, bounded_signatures, cluster_survivors
from alphagen.problems.harness import ProblemHarness
from alphagen.problems.model import Problem, Test
from alphagen.results import Candidate
from alphagen.run_memo import RunMemo
from alphagen.testgen.validate import SlowCheckers
from sandbox.interface import BatchExecutor, BatchRequest
from sandbox.values import Result, Status
from tests.testgen_fakes import run_source

# Programs on 'n k': the first token decides how long they take (a loop to n, as 1076B's and 762A's survivors).
SLOW = "n, k = map(int, input().split())  # loops to n\nprint(n + k)\n"
"""Right, but times out when n > 100."""
FAST = "n, k = map(int, input().split())\nprint(k + n)\n"
"""The same answers, always in time: one cluster with SLOW where SLOW runs, another where it times out."""
WRONG = "n, k = map(int, input().split())\nprint(n * k)\n"
EVEN = "n, k = map(int, input().split())  # loops to n when it is even\nprint(n - k)\n"
"""Times out when n > 100 is even and not otherwise (1076B's loops end early on an odd prime): a presumption on a
larger odd n is wrong."""


def times_out(source: str, text: str) -> bool:
    n = int(text.split()[0])
    if "# loops to n when it is even" in source:
        return n > 100 and n % 2 == 0
    return "# loops to n" in source and n > 100


class LimitedExecutor(BatchExecutor):
    """In-process runs that report a time-out the way the sandbox does (status time limit, the whole limit in CPU
    seconds, whatever was printed); records every run and every batch."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, str]] = []
        self.batches = 0

    def execute(self, request: BatchRequest) -> Iterator[Result]:
        self.batches += 1
        for p, i in request.todo():
            source, text = request.programs[p].source, str(request.inputs[i])
            self.runs.append((source, text))
            if times_out(source, text):
                yield Result(p, i, Status.TIME_LIMIT, stdout=b"partial", cpu_s=request.limits.time_s)
                continue
            status, stdout = run_source(source, text)
            yield Result(p, i, status, stdout=stdout, cpu_s=0.001)


HARNESS = ProblemHarness.of(Problem(name="n-k", description="Print n + k.", public_tests=(Test("1 2\n", "3\n"),)))
# Mixed sizes in no order; '5 999999' is longer than '300 1' but its n is small: it is never presumed.
INPUTS = ("5 1\n", "1000 1\n", "3 3\n", "2000 7\n", "99 1\n", "300 1\n", "5 999999\n", "70000 2\n", "300 5\n",
          "7 2\n", "20 20\n", "400 0\n")


def candidates(*codes: str) -> list[Candidate]:
    return [Candidate(index=i, language="python", code=code, passed_examples=True) for i, code in enumerate(codes)]


def cluster(executor: BatchExecutor, pool: list[Candidate], presume: bool, inputs: tuple[str, ...] = INPUTS
            ) -> Clustered:
    return cluster_survivors(HARNESS, pool, inputs, executor, presume=presume)


def test_a_presumed_time_out_gets_the_key_of_a_real_one() -> None:
    # The runs below compare keys through signatures: a presumed and a real time-out must be one key.
    norm = clustering.norm_from_tolerance(None, None, False)
    real = clustering.output_key(b"partial", Status.TIME_LIMIT.value, norm)
    assert real == clustering.output_key(b"", Status.TIME_LIMIT.value, norm) == "<time_limit>"


def test_presumed_pairs_are_not_run_and_the_clusters_are_those_of_running_everything() -> None:
    pool = candidates(SLOW, FAST, WRONG, SLOW.replace("n + k", "k + n + 0"))
    every_ex, presumed_ex = LimitedExecutor(), LimitedExecutor()
    every = cluster(every_ex, pool, presume=False)
    got = cluster(presumed_ex, pool, presume=True)
    # SLOW (two copies) times out on 300 1 first (the smallest n over 100); after it, every input with n >= 300
    # and k >= its k is presumed: 400 0 has a smaller k and runs (and times out).
    slow_inputs = sorted(t for s, t in presumed_ex.runs if s == SLOW)
    assert slow_inputs == sorted(["3 3\n", "5 1\n", "7 2\n", "20 20\n", "99 1\n", "300 1\n", "300 5\n", "400 0\n",
                                  "5 999999\n"])
    assert got.presumed == 2 * 3  # 1000 1, 2000 7, 70000 2, for each slow copy
    assert len(presumed_ex.runs) == len(every_ex.runs) - got.presumed
    # The signatures, agreement, splits and clusters are those of running every pair.
    assert [c.signature for c in got.candidates] == [c.signature for c in every.candidates]
    assert got.agreement == every.agreement
    assert got.distinguishing == every.distinguishing and got.splits == every.splits
    assert len(clustering.cluster(got.candidates, "alphacode", got.agreement, False)) == 3
    # A presumed run took no CPU time: the slow copies' totals count their real time-outs only (300 1, 300 5, 400 0).
    assert got.candidates[0].cpu_s < every.candidates[0].cpu_s
    assert every.presumed == 0


def test_nothing_is_presumed_when_nothing_times_out() -> None:
    pool = candidates(FAST, WRONG, FAST.replace("k + n", "n + k + 0"))
    every_ex, chunked_ex = LimitedExecutor(), LimitedExecutor()
    every = cluster(every_ex, pool, presume=False)
    got = cluster(chunked_ex, pool, presume=True)
    assert got.presumed == 0
    assert sorted(chunked_ex.runs) == sorted(every_ex.runs)
    assert [c.signature for c in got.candidates] == [c.signature for c in every.candidates]
    # One round per chunk of each program's inputs: as many children as one batch of everything.
    assert chunked_ex.batches == -(-len(INPUTS) // CLUSTER_CHUNK)


def test_a_wrong_presumption_changes_only_that_key_and_a_known_run_is_never_presumed() -> None:
    # EVEN times out on 300 1 and 400 0, not on 1001 1: presumed (without a memo) where it would have run.
    # The first round (CLUSTER_CHUNK inputs, smallest first) holds the two time-outs, 1001 1 comes after them.
    inputs = ("5 1\n", "300 1\n", "400 0\n", "1001 1\n", "1 2\n", "2 2\n", "3 2\n", "4 2\n", "6 2\n")
    pool = candidates(EVEN, FAST)
    every = cluster(LimitedExecutor(), pool, presume=False, inputs=inputs)
    guessed = cluster(LimitedExecutor(), pool, presume=True, inputs=inputs)
    assert guessed.presumed == 1 and guessed.candidates[0].signature != every.candidates[0].signature
    # The survivor that never timed out is unaffected.
    assert guessed.candidates[1].signature == every.candidates[1].signature
    # With the test-input stage's runs in a RunMemo (here: 1001 1 ran there at the full limit), the known run
    # is read back, first, and never presumed.
    memo = RunMemo(LimitedExecutor())
    list(memo.run_batch([HARNESS.program(EVEN, "python")], ["1001 1\n"], HARNESS.limits))
    known = cluster(memo, pool, presume=True, inputs=inputs)
    assert known.presumed == 0 and memo.hits == 1
    assert [c.signature for c in known.candidates] == [c.signature for c in every.candidates]


def test_a_known_time_out_presumes_from_the_first_round() -> None:
    # The test-input stage's full-limit time-out on 300 1 (in the memo) presumes 2000 7 and 70000 2 before anything
    # else runs; 1000 1 too.
    memo = RunMemo(LimitedExecutor())
    list(memo.run_batch([HARNESS.program(SLOW, "python")], ["300 1\n"], HARNESS.limits))
    got = cluster(memo, candidates(SLOW, FAST), presume=True)
    assert got.presumed == 4  # 1000 1, 2000 7, 70000 2, 300 5
    inner = memo.inner
    assert isinstance(inner, LimitedExecutor)
    assert not any(s == SLOW and t in ("1000 1\n", "2000 7\n", "70000 2\n", "300 5\n") for s, t in inner.runs)
    every = cluster(LimitedExecutor(), candidates(SLOW, FAST), presume=False)
    assert [c.signature for c in got.candidates] == [c.signature for c in every.candidates]
    assert got._replace(candidates=[], presumed=0) == every._replace(candidates=[], presumed=0)


# --- slow programs run at the tighter limits ---------------------------------------------------------------------

NEG = "n, k = map(int, input().split())  # forever on a negative\nprint(n + k)\n"
"""Right, but never ends on a negative number (HumanEval 116's bit count on a negative): no input is larger than
another in the way that presumes, so each such input would cost a whole limit."""
HALF = "n, k = map(int, input().split())  # half a limit when n > 100\nprint(n + k)\n"
"""Right, and takes half the time limit when n > 100: in time at the full limit, not at a quarter of it."""
SIGNED = ("20 -2\n", "1 1\n", "2 2\n", "-3 5\n", "3 3\n", "4 4\n", "30 -3\n", "5 5\n", "-1 9\n", "6 6\n", "7 7\n",
          "10 -1\n")
"""Smallest first, NEG's first round (CLUSTER_CHUNK inputs) is the seven positive ones and -1 9, its first
time-out; none of the later ones is at least as large as -1 9 in every number (9 is the largest k)."""


class TimedExecutor(BatchExecutor):
    """In-process runs that take a program's time on an input and time out past the request's limit; records
    each run with the limit it ran under."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, str, float]] = []

    @staticmethod
    def seconds(source: str, text: str, limit: float) -> float:
        n, k = map(int, text.split())
        if "# forever on a negative" in source and (n < 0 or k < 0):
            return float("inf")
        if "# half a limit" in source and n > 100:
            return HARNESS.limits.time_s / 2
        return 0.001

    def execute(self, request: BatchRequest) -> Iterator[Result]:
        limit = request.limits.time_s
        for p, i in request.todo():
            source, text = request.programs[p].source, str(request.inputs[i])
            self.runs.append((source, text, limit))
            if self.seconds(source, text, limit) > limit:
                yield Result(p, i, Status.TIME_LIMIT, stdout=b"", cpu_s=limit)
                continue
            status, stdout = run_source(source, text)
            yield Result(p, i, status, stdout=stdout, cpu_s=self.seconds(source, text, limit))


def test_a_slow_program_runs_its_later_inputs_at_the_tighter_limit() -> None:
    full = HARNESS.limits.time_s
    pool = candidates(NEG, FAST, WRONG)
    every = cluster_survivors(HARNESS, pool, SIGNED, TimedExecutor(), presume=False)
    timed = TimedExecutor()
    got = cluster_survivors(HARNESS, pool, SIGNED, timed, slow_share=0.25)
    neg = [(t, lim) for s, t, lim in timed.runs if s == NEG]
    # Its first round (CLUSTER_CHUNK inputs) at the full limit holds its first time-out; every later run is at a
    # quarter of it (-3 5 and 10 -1 are not at least as large as -1 9: they run; 20 -2 and 30 -3 are presumed
    # from 10 -1's time-out at the tighter limit).
    first = neg[:CLUSTER_CHUNK]
    assert all(lim == full for _, lim in first) and first[-1] == ("-1 9\n", full)
    assert neg[CLUSTER_CHUNK:] == [("-3 5\n", full * 0.25), ("10 -1\n", full * 0.25)]
    assert got.presumed == 2 and len(neg) + got.presumed == len(SIGNED)
    # Its time-outs stay time-outs and its answers answers: the same signatures and clusters as running everything.
    assert [c.signature for c in got.candidates] == [c.signature for c in every.candidates]
    assert got.agreement == every.agreement and got.splits == every.splits
    # It paid a quarter of a limit for each later time-out instead of a whole one.
    assert got.candidates[0].cpu_s < every.candidates[0].cpu_s
    # The programs that never timed out ran everything at the full limit.
    assert all(lim == full for s, _, lim in timed.runs if s != NEG)


def test_a_run_between_the_two_limits_is_a_time_out_only_for_a_slow_program() -> None:
    # HALF times out nowhere at the full limit: nothing changes for it. Made slow (its first time-out is on a
    # negative), a run that takes half a limit becomes a time-out: the one key the tighter limit can change.
    slow_half = HALF.replace("# half", "# forever on a negative; half")
    inputs = ("-1 1\n", "1 1\n", "2 2\n", "3 3\n", "4 4\n", "5 5\n", "6 6\n", "7 7\n", "300 1\n")
    every = cluster_survivors(HARNESS, candidates(HALF, slow_half), inputs, TimedExecutor(), presume=False)
    got = cluster_survivors(HARNESS, candidates(HALF, slow_half), inputs, TimedExecutor(), slow_share=0.25)
    assert got.candidates[0].signature == every.candidates[0].signature
    assert got.candidates[1].signature != every.candidates[1].signature


def test_the_test_input_checks_slow_runs_are_read_back() -> None:
    # The test-input checks saw NEG time out at the full limit and ran it at a quarter limit on the other inputs
    # (SlowCheckers): clustering starts it slow and reads those runs back instead of running them again.
    memo = RunMemo(TimedExecutor())
    program = HARNESS.program(NEG, "python")
    tight = SlowCheckers(share=0.25).limits(HARNESS.limits)
    list(memo.run_batch([program], ["-1 5\n"], HARNESS.limits))
    list(memo.run_batch([program], list(SIGNED[1:]), tight))
    assert memo.timed_out(program, HARNESS.limits)
    assert not memo.timed_out(HARNESS.program(FAST, "python"), HARNESS.limits)
    inner = memo.inner
    assert isinstance(inner, TimedExecutor)
    before = len(inner.runs)
    got = cluster_survivors(HARNESS, candidates(NEG, FAST), SIGNED, memo, slow_share=0.25)
    # NEG ran nothing new; FAST ran every input once, at the full limit.
    assert [(s, lim) for s, _, lim in inner.runs[before:]] == [(FAST, HARNESS.limits.time_s)] * len(SIGNED)
    every = cluster_survivors(HARNESS, candidates(NEG, FAST), SIGNED, TimedExecutor(), presume=False)
    assert [c.signature for c in got.candidates] == [c.signature for c in every.candidates]


def test_spare_programs_run_at_the_tighter_limit_from_the_start() -> None:
    # With fewer survivors than picks, the fallback pool joins (`fill`): wrong answers, slow or not, ranked last.
    spare = Candidate(index=1, language="python", code=NEG, passed_examples=False, example_status="wrong_answer")
    pool = [Candidate(index=0, language="python", code=FAST, passed_examples=True), spare]
    timed = TimedExecutor()
    got = cluster_survivors(HARNESS, pool, SIGNED, timed, slow_share=0.25, fill=10)
    neg = [lim for s, _, lim in timed.runs if s == NEG]
    assert neg and all(lim == HARNESS.limits.time_s * 0.25 for lim in neg)
    assert all(lim == HARNESS.limits.time_s for s, _, lim in timed.runs if s == FAST)
    assert got.candidates[1].signature is not None
    # Without fill the spare program is not clustered at all.
    plain = cluster_survivors(HARNESS, pool, SIGNED, TimedExecutor(), slow_share=0.25)
    assert plain.candidates[1].signature is None


# --- a clustering budget (#29, item 6) --------------------------------------------------------------------------

def test_past_the_budget_a_slow_program_stops_and_joins_the_programs_it_agreed_with() -> None:
    # count-at-most: survivors that scan per query run each large input in up to a second, never timing out.
    half_wrong = HALF.replace("print(n + k)", "print(n * k)")
    pool = candidates(HALF, FAST, half_wrong, WRONG)
    every = cluster_survivors(HARNESS, pool, INPUTS, TimedExecutor(), presume=False)
    timed = TimedExecutor()
    clock = ClusterClock(0.0)
    got = cluster_survivors(HARNESS, pool, INPUTS, timed, clock=clock)
    ran = {src: sum(1 for s, _, _ in timed.runs if s == src) for src in (HALF, FAST, half_wrong, WRONG)}
    # The slow ones ran their first round (the smallest CLUSTER_CHUNK inputs, 300 1 among them: half a limit);
    # the fast ones ran everything.
    assert ran == {HALF: CLUSTER_CHUNK, FAST: len(INPUTS), half_wrong: CLUSTER_CHUNK, WRONG: len(INPUTS)}
    assert got.unrun == 2 * (len(INPUTS) - CLUSTER_CHUNK)
    # Each slow program agreed wherever it ran with the fast one that gives its answers: it is in that one's
    # cluster, as when every pair runs.
    assert [c.signature for c in got.candidates] == [c.signature for c in every.candidates]
    assert len(clustering.cluster(got.candidates, "alphacode", got.agreement, False)) == 2
    # An input not run agrees with nothing in CodeT's count. The splits are shown by the programs that ran every
    # input: the same inputs and outputs as when every pair runs.
    assert got.agreement[0] < every.agreement[0]
    assert [(s.input_index, [o for _, o in s.outputs]) for s in got.splits] == \
        [(s.input_index, [o for _, o in s.outputs]) for s in every.splits]
    # Time not left is not given again; with a budget that is never spent, everything runs as without one.
    assert clock.seconds_left < 0
    roomy = cluster_survivors(HARNESS, pool, INPUTS, TimedExecutor(), clock=ClusterClock(1e9))
    assert roomy.unrun == 0 and [c.signature for c in roomy.candidates] == [c.signature for c in every.candidates]


def test_a_partial_program_takes_the_signature_of_the_largest_cluster_it_agrees_with() -> None:
    keys: dict[int, list[str | None]] = {
        0: ["1", "2", "3"], 1: ["1", "2", "4"], 2: ["1", "2", "4"],  # two clusters, the second the larger
        3: ["1", None, None],  # agrees with both where it ran: joins the larger
        4: ["9", None, None],  # agrees with none: a signature of its own
        5: ["9", "8", None],  # agrees with 4 where both ran
    }
    sig = bounded_signatures(keys)
    assert sig[0] == clustering.signature(["1", "2", "3"]) and sig[1] == sig[2] != sig[0]
    assert sig[3] == sig[1]
    # 5 (more inputs run) is placed first, with none to join; 4 then agrees with 5 where both ran.
    assert sig[5] not in {sig[0], sig[1]} and sig[4] == sig[5]
    # Complete keys alone: exactly clustering.signature of each.
    assert bounded_signatures({0: ["a"], 1: ["b"]}) == {0: clustering.signature(["a"]), 1: clustering.signature(["b"])}
