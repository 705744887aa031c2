from alphagen.clustering import (
    OutputNorm,
    cluster,
    codet_scores,
    fallback_pool,
    norm_from_tolerance,
    output_key,
    picking_pool,
    select,
    signature,
)
from alphagen.results import Candidate


def cand(i: int, sig: str | None, passed: bool = True, dup: int | None = None, cpu: float = 0.1,
         code: str = "x") -> Candidate:
    return Candidate(index=i, language="python", code=code, passed_examples=passed, signature=sig,
                     duplicate_of=dup, cpu_s=cpu)


def test_output_key_normalizes_whitespace_case_and_floats() -> None:
    assert output_key(b"1  2\n3\n", "ok", OutputNorm()) == output_key(b"1 2 3", "ok", OutputNorm())
    assert output_key(b"YES", "ok", OutputNorm(case_insensitive=True)) == "yes"
    norm = norm_from_tolerance(1e-6, None, False)
    assert output_key(b"0.3333333333", "ok", norm) == output_key(b"0.33333333", "ok", norm)
    assert output_key(b"", "time_limit", OutputNorm()) == "<time_limit>"


def test_largest_cluster_first_and_one_pick_per_cluster() -> None:
    cs = [cand(0, "a"), cand(1, "b"), cand(2, "b"), cand(3, "c"), cand(4, "b"), cand(5, "c")]
    picks = select(cs, num_picks=3)
    assert [p.cluster_size for p in picks] == [3, 2, 1]
    assert [p.candidate for p in picks] == [1, 3, 0]
    assert [p.rank for p in picks] == [1, 2, 3]


def test_round_robin_when_fewer_clusters_than_picks() -> None:
    cs = [cand(0, "a"), cand(1, "a"), cand(2, "b")]
    picks = select(cs, num_picks=10)
    assert [p.candidate for p in picks] == [0, 2, 1]


def test_failed_and_duplicate_candidates_are_not_picked_but_duplicates_vote() -> None:
    cs = [cand(0, "a"), cand(1, "b"), cand(2, None, passed=False), cand(3, None, dup=1), cand(4, None, dup=1)]
    picks = select(cs, num_picks=10)
    assert [p.candidate for p in picks] == [1, 0]
    assert picks[0].cluster_size == 3


def test_representative_is_the_shortest_then_earliest_never_timing_dependent() -> None:
    cs = [cand(0, "a", cpu=0.01, code="long code"), cand(1, "a", cpu=0.9, code="s"), cand(2, "a", cpu=0.1, code="t")]
    assert select(cs, num_picks=1)[0].candidate == 1
    # CPU times differ between runs; the pick must not.
    slower = [cand(c.index, "a", cpu=1.0 - c.cpu_s, code=c.code) for c in cs]
    assert select(slower, num_picks=1)[0].candidate == 1


def test_codet_prefers_agreeing_cluster_over_bigger_one() -> None:
    keys = {0: ["1", "2", "3"], 1: ["1", "2", "3"], 2: ["9", "9", "9"], 3: ["9", "9", "9"], 4: ["9", "9", "9"],
            5: ["1", "2", "3"], 6: ["1", "2", "3"]}
    agree = codet_scores(keys)
    assert agree[0] == 3.0 and agree[2] == 0.0
    sigs = {i: signature(k) for i, k in keys.items()}
    cs = [cand(i, sigs[i]) for i in keys]
    by_size = cluster(cs, "alphacode")
    assert len(by_size[0].members) == 4
    by_codet = cluster(cs, "codet", agree)
    assert 0 in by_codet[0].members


def test_signature_depends_on_order_and_content() -> None:
    assert signature(["1", "2"]) != signature(["2", "1"])
    assert signature(["1", "2"]) == signature(["1", "2"])


def failed(i: int, status: str, passed: int, sig: str | None = None, dup: int | None = None) -> Candidate:
    return Candidate(index=i, language="python", code=f"p{i}", passed_examples=False, example_status=status,
                     examples_passed=passed, signature=sig, duplicate_of=dup)


def test_fallback_pool_takes_the_wrong_answers_that_passed_most_examples() -> None:
    cs = [failed(0, "wrong_answer", 1), failed(1, "runtime_error", 2), failed(2, "wrong_answer", 1),
          failed(3, "wrong_answer", 0), failed(4, "wrong_answer", 1, dup=0), failed(5, "compile_error", 0)]
    # A crash passed more examples, but answering beats crashing; duplicates are votes, not members.
    assert fallback_pool(cs) == {0, 2}
    assert fallback_pool([failed(0, "runtime_error", 1), failed(1, "time_limit", 0)]) == frozenset()


def test_picking_pool_is_the_survivors_whenever_there_are_any() -> None:
    cs = [failed(0, "wrong_answer", 1), cand(1, "a")]
    assert picking_pool(cs) == {1}
    assert picking_pool(cs[:1]) == {0}
    assert picking_pool(cs[:1], fallback=False) == frozenset()


def test_fallback_picks_cluster_by_behaviour_and_say_they_failed_an_example() -> None:
    cs = [failed(0, "wrong_answer", 1, "a"), failed(1, "wrong_answer", 1, "b"), failed(2, "wrong_answer", 1, "b"),
          failed(3, "wrong_answer", 0, "c"), failed(4, "wrong_answer", 1, dup=0), failed(5, "wrong_answer", 1, dup=0)]
    picks = select(cs, num_picks=10)
    # Cluster a has one program and two duplicate votes: 3 > 2. Program 3 passed fewer examples: not a candidate.
    assert [p.candidate for p in picks] == [0, 1, 2]
    assert [p.cluster_size for p in picks] == [3, 2, 2]
    assert not any(p.passed_examples for p in picks)
    assert select(cs, num_picks=10, fallback=False) == []
    # One survivor leaves 9 picks: they go to the fallback pool's clusters, after it (a spare program with the
    # survivor's signature is a cluster of its own: it failed an example the survivor passed).
    one = [(p.candidate, p.passed_examples) for p in select([*cs, cand(9, "a")], num_picks=10)]
    assert one == [(9, True), (0, False), (1, False), (2, False)]
    # With at least num_picks survivors nothing is spare.
    assert [p.candidate for p in select([*cs, cand(9, "a")], num_picks=1)] == [9]


def test_spare_picks_never_change_the_survivors_clusters() -> None:
    survivors = [cand(0, "x"), cand(1, "y"), cand(2, "y"), cand(3, "z")]
    spare = [failed(4, "wrong_answer", 1, "x"), failed(5, "wrong_answer", 1, "x"), failed(6, "wrong_answer", 1, "w"),
             failed(7, "wrong_answer", 0, "v")]
    alone = cluster(survivors)
    both = cluster(survivors + spare, fill=10)
    # The survivors' clusters first, as they were; then the spare ones (4 and 5 agree, 7 passed fewer examples).
    assert [c.members for c in both[: len(alone)]] == [c.members for c in alone]
    assert [c.score for c in both[: len(alone)]] == [c.score for c in alone]
    assert [c.members for c in both[len(alone):]] == [(4, 5), (6,)]
    assert picking_pool(survivors + spare, fill=4) == {0, 1, 2, 3}
    assert picking_pool(survivors + spare, fill=5) == {0, 1, 2, 3, 4, 5, 6}
    assert picking_pool(survivors + spare, fallback=False, fill=10) == {0, 1, 2, 3}
