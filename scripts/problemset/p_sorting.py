"""Sorting and greedy problems; several are 'medium': O(n^2) is too slow on the large tests."""

from __future__ import annotations

import random

from spec import ProblemSpec, array_input, dedent, ints, line

# --- lecture-schedule (activity selection) -----------------------------------------------------------------


def _intervals_input(iv: list[tuple[int, int]]) -> str:
    return f"{len(iv)}\n" + "".join(f"{a} {b}\n" for a, b in iv)


def _random_intervals(rng: random.Random, n: int, coord: int, max_len: int) -> list[tuple[int, int]]:
    out = []
    for _ in range(n):
        a = rng.randint(0, coord - 1)
        out.append((a, min(coord, a + rng.randint(1, max_len))))
    return out


def _lecture_private(rng: random.Random) -> list[str]:
    cases = [
        _intervals_input([(0, 1)]),
        _intervals_input([(1, 3), (3, 5), (5, 7)]),  # touching lectures are compatible
        _intervals_input([(0, 10), (1, 2), (2, 3), (3, 4)]),  # earliest start is the wrong greedy
        _intervals_input([(1, 5), (1, 5), (1, 5)]),
        _intervals_input([(0, 4), (3, 6), (5, 9)]),
    ]
    cases += [_intervals_input(_random_intervals(rng, rng.randint(1, 9), 30, 10)) for _ in range(5)]
    cases.append(_intervals_input(_random_intervals(rng, 15000, 10**5, 50)))
    cases.append(_intervals_input(_random_intervals(rng, 15000, 10**5, 10**5)))
    cases.append(_intervals_input([(i * 40, i * 40 + 40) for i in range(2500)]))
    return cases


LECTURE_SCHEDULE = ProblemSpec(
    name="lecture-schedule",
    statement=dedent("""
        A lecture hall receives n booking requests. Request i asks for the hall from time l_i to time r_i
        (it occupies the half-open interval [l_i, r_i)). Two accepted lectures must not overlap, but one may
        start exactly when another ends. What is the maximum number of requests that can be accepted?

        Input
        The first line contains an integer n.
        Each of the next n lines contains two integers l_i and r_i.

        Output
        Print one integer: the maximum number of pairwise non-overlapping requests.

        Constraints
        1 <= n <= 15000
        0 <= l_i < r_i <= 10^5
    """),
    rating=1300,
    tags=("greedy", "sortings"),
    solution=dedent("""
        import sys
        data = list(map(int, sys.stdin.buffer.read().split()))
        n = data[0]
        iv = sorted(zip(data[2:2 + 2 * n:2], data[1:1 + 2 * n:2]))
        count, free_at = 0, -1
        for r, l in iv:
            if l >= free_at:
                count += 1
                free_at = r
        print(count)
    """),
    brute=dedent("""
        n = int(input())
        iv = [tuple(map(int, input().split())) for _ in range(n)]
        best = 0
        for mask in range(1, 1 << n):
            chosen = sorted(iv[i] for i in range(n) if mask >> i & 1)
            if all(chosen[k][1] <= chosen[k + 1][0] for k in range(len(chosen) - 1)):
                best = max(best, len(chosen))
        print(best)
    """),
    public=("4\n1 4\n3 5\n0 6\n5 7\n", "3\n1 3\n3 5\n2 4\n"),
    private=_lecture_private,
    validator=dedent("""
        (n,) = ints(1, 1, 15000)
        for _ in range(n):
            l, r = ints(2, 0, 10**5)
            if l >= r:
                fail("need l < r")
        done()
    """),
    brute_max_chars=80,
)

# --- river-boats (two pointers after sorting) --------------------------------------------------------------


def _boats_input(c: int, w: list[int]) -> str:
    return f"{len(w)} {c}\n{line(w)}\n"


def _boats_private(rng: random.Random) -> list[str]:
    cases = [
        _boats_input(10, [10]),
        _boats_input(10, [5, 5]),
        _boats_input(10, [6, 5]),
        _boats_input(100000, [100000] * 5),
        _boats_input(7, [1, 1, 1, 1, 1]),  # at most two per boat even if light
        _boats_input(10, [9, 1, 8, 2, 5, 5, 7]),
    ]
    for _ in range(4):
        c = rng.randint(5, 20)
        cases.append(_boats_input(c, ints(rng, rng.randint(1, 8), 1, c)))
    cases.append(_boats_input(100000, ints(rng, 20000, 1, 100000)))
    cases.append(_boats_input(100000, ints(rng, 20000, 30000, 70000)))
    return cases


RIVER_BOATS = ProblemSpec(
    name="river-boats",
    statement=dedent("""
        n tourists must cross a river. The i-th tourist weighs w_i kilograms. Every boat carries at most two
        tourists, and the total weight in a boat must not exceed c kilograms. No tourist is heavier than c.
        What is the minimum number of boats needed to carry everyone?

        Input
        The first line contains two integers n and c.
        The second line contains n integers w_1, ..., w_n.

        Output
        Print one integer: the minimum number of boats.

        Constraints
        1 <= n <= 20000
        1 <= w_i <= c <= 100000
    """),
    rating=1200,
    tags=("greedy", "sortings", "two pointers"),
    solution=dedent("""
        import sys
        data = list(map(int, sys.stdin.buffer.read().split()))
        n, c = data[0], data[1]
        w = sorted(data[2:2 + n])
        i, j, boats = 0, n - 1, 0
        while i <= j:
            if i < j and w[i] + w[j] <= c:
                i += 1
            j -= 1
            boats += 1
        print(boats)
    """),
    brute=dedent("""
        from functools import lru_cache
        n, c = map(int, input().split())
        w = list(map(int, input().split()))

        @lru_cache(maxsize=None)
        def best(mask):
            if mask == 0:
                return 0
            i = (mask & -mask).bit_length() - 1
            rest = mask & ~(1 << i)
            res = 1 + best(rest)
            for j in range(n):
                if rest >> j & 1 and w[i] + w[j] <= c:
                    res = min(res, 1 + best(rest & ~(1 << j)))
            return res

        print(best((1 << n) - 1))
    """),
    public=("4 10\n3 5 3 4\n", "3 5\n5 1 4\n"),
    private=_boats_private,
    validator=dedent("""
        n, c = ints(2, 1, 100000)
        if n > 20000:
            fail("n too large")
        ints(n, 1, c)
        done()
    """),
    brute_max_chars=60,
)

# --- kth-distinct ------------------------------------------------------------------------------------------


def _kth_private(rng: random.Random) -> list[str]:
    cases = [
        array_input([5], "1 1"),
        array_input([5], "1 2"),  # fewer distinct values than k
        array_input([3, 3, 3, 3], "4 2"),
        array_input([-1000000000, 1000000000, 0], "3 3"),
        array_input([4, 1, 4, 2, 1], "5 3"),
        array_input([-2, -2, -5, -1], "4 2"),
    ]
    for _ in range(4):
        n = rng.randint(1, 30)
        cases.append(array_input(ints(rng, n, -10, 10), f"{n} {rng.randint(1, 12)}"))
    cases.append(array_input(ints(rng, 10000, -10**9, 10**9), "10000 9999"))
    cases.append(array_input(ints(rng, 10000, 1, 1000), "10000 1000"))
    cases.append(array_input(ints(rng, 10000, 1, 1000), "10000 1001"))
    return cases


KTH_DISTINCT = ProblemSpec(
    name="kth-distinct",
    statement=dedent("""
        A judge received n scores. Equal scores are considered the same. Sort the different score values in
        increasing order; what is the k-th of them? If there are fewer than k different values, print -1.

        Input
        The first line contains two integers n and k.
        The second line contains n integers a_1, ..., a_n.

        Output
        Print the k-th smallest distinct value, or -1 if there are fewer than k distinct values.

        Constraints
        1 <= n <= 10000
        1 <= k <= 10000
        -10^9 <= a_i <= 10^9
    """),
    rating=1000,
    tags=("sortings", "implementation"),
    solution=dedent("""
        import sys
        data = list(map(int, sys.stdin.buffer.read().split()))
        n, k = data[0], data[1]
        vals = sorted(set(data[2:2 + n]))
        print(vals[k - 1] if k <= len(vals) else -1)
    """),
    brute=dedent("""
        n, k = map(int, input().split())
        a = list(map(int, input().split()))
        seen = []
        for x in a:
            if x not in seen:
                seen.append(x)
        for _ in range(k - 1):
            if seen:
                seen.remove(min(seen))
        print(min(seen) if seen else -1)
    """),
    public=("6 2\n5 1 5 3 1 9\n", "3 3\n7 7 2\n"),
    private=_kth_private,
    validator=dedent("""
        n, k = ints(2, 1, 10000)
        ints(n, -10**9, 10**9)
        done()
    """),
)

# --- frequency-sort ----------------------------------------------------------------------------------------


def _freq_private(rng: random.Random) -> list[str]:
    cases = [
        array_input([1]),
        array_input([2, 1]),
        array_input([-1, -1, 2, 2]),  # equal counts: smaller value first
        array_input([3, 1, 3, 2, 1, 3]),
        array_input([1000000000, -1000000000, 1000000000]),
        array_input([0, 0, 0, 0]),
    ]
    cases += [array_input(ints(rng, rng.randint(1, 40), -5, 5)) for _ in range(4)]
    cases.append(array_input(ints(rng, 10000, -10**9, 10**9)))
    # Heavy-tailed values: many repeated small numbers, so frequencies and ties really matter.
    skewed = [min(10**9, int(rng.paretovariate(1.2))) * rng.choice([-1, 1]) for _ in range(10000)]
    cases.append(array_input(skewed))
    return cases


FREQUENCY_SORT = ProblemSpec(
    name="frequency-sort",
    statement=dedent("""
        Reorder an array so that more frequent values come first. Precisely: all copies of a value stay
        together; a value that occurs more often comes before a value that occurs less often; among values
        that occur equally often, the smaller value comes first.

        Input
        The first line contains an integer n.
        The second line contains n integers a_1, ..., a_n.

        Output
        Print the n reordered numbers separated by spaces.

        Constraints
        1 <= n <= 10000
        -10^9 <= a_i <= 10^9
    """),
    rating=1100,
    tags=("sortings", "hashing"),
    solution=dedent("""
        import sys
        from collections import Counter
        data = sys.stdin.buffer.read().split()
        n = int(data[0])
        cnt = Counter(map(int, data[1:1 + n]))
        out = []
        for v, c in sorted(cnt.items(), key=lambda vc: (-vc[1], vc[0])):
            out.extend([v] * c)
        print(" ".join(map(str, out)))
    """),
    brute=dedent("""
        n = int(input())
        a = list(map(int, input().split()))
        print(*sorted(a, key=lambda x: (-a.count(x), x)))
    """),
    public=("7\n4 6 2 6 4 4 1\n",),
    private=_freq_private,
    validator=dedent("""
        (n,) = ints(1, 1, 10000)
        ints(n, -10**9, 10**9)
        done()
    """),
)

# --- close-pairs -------------------------------------------------------------------------------------------


def _close_private(rng: random.Random) -> list[str]:
    cases = [
        array_input([5], "1 0"),
        array_input([3, 3], "2 0"),
        array_input([1, 2], "2 0"),
        array_input([1, 1000000], "2 999999"),  # exactly d apart counts
        array_input([7, 7, 7, 7, 7], "5 0"),
        array_input([10, 1, 5, 3], "4 1000000000"),
    ]
    for _ in range(4):
        n = rng.randint(1, 40)
        cases.append(array_input(ints(rng, n, 0, 30), f"{n} {rng.randint(0, 8)}"))
    cases.append(array_input(ints(rng, 20000, 0, 10**6), "20000 1000"))
    cases.append(array_input(ints(rng, 2000, 0, 10**6), "2000 1000000000"))
    cases.append(array_input(ints(rng, 20000, 0, 1000), "20000 3"))
    return cases


CLOSE_PAIRS = ProblemSpec(
    name="close-pairs",
    statement=dedent("""
        There are n houses on a straight road; the i-th is at coordinate a_i (several houses may share a
        coordinate). Two houses are neighbours if the distance between them is at most d. Count the pairs of
        houses (i, j) with i < j that are neighbours, that is |a_i - a_j| <= d.

        Input
        The first line contains two integers n and d.
        The second line contains n integers a_1, ..., a_n.

        Output
        Print one integer: the number of such pairs.

        Constraints
        1 <= n <= 20000
        0 <= d <= 10^9
        0 <= a_i <= 10^6
    """),
    rating=1400,
    tags=("sortings", "two pointers", "binary search"),
    solution=dedent("""
        import sys
        data = list(map(int, sys.stdin.buffer.read().split()))
        n, d = data[0], data[1]
        a = sorted(data[2:2 + n])
        total, lo = 0, 0
        for hi in range(n):
            while a[hi] - a[lo] > d:
                lo += 1
            total += hi - lo
        print(total)
    """),
    brute=dedent("""
        n, d = map(int, input().split())
        a = list(map(int, input().split()))
        print(sum(1 for i in range(n) for j in range(i + 1, n) if abs(a[i] - a[j]) <= d))
    """),
    public=("5 2\n1 4 2 8 3\n", "3 0\n5 5 5\n"),
    private=_close_private,
    validator=dedent("""
        n, d = ints(2, 0, 10**9)
        if not 1 <= n <= 20000:
            fail("n out of range")
        ints(n, 0, 10**6)
        done()
    """),
)

SPECS = [LECTURE_SCHEDULE, RIVER_BOATS, KTH_DISTINCT, FREQUENCY_SORT, CLOSE_PAIRS]
