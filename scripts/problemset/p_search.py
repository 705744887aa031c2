"""Binary search and two pointers: counting queries, splitting an array, the longest affordable block."""

from __future__ import annotations

import random

from spec import ProblemSpec, array_input, dedent, ints, line

# --- count-at-most -----------------------------------------------------------------------------------------


def _count_input(a: list[int], xs: list[int]) -> str:
    return f"{len(a)} {len(xs)}\n{line(a)}\n{line(xs)}\n"


def _count_private(rng: random.Random) -> list[str]:
    cases = [
        _count_input([5], [4, 5, 6]),  # equal values are counted (at most, not less than)
        _count_input([-1000000], [-1000000, 1000000, -999999]),
        _count_input([3, 3, 3], [2, 3]),
        _count_input([9, -2, 4, 4, 0], [-3, -2, 4, 100]),
    ]
    for _ in range(5):
        n = rng.randint(1, 30)
        cases.append(_count_input(ints(rng, n, -20, 20), ints(rng, rng.randint(1, 30), -25, 25)))
    n = 10000
    cases.append(_count_input(ints(rng, n, -10**6, 10**6), ints(rng, n, -10**6, 10**6)))
    cases.append(_count_input(ints(rng, n, 0, 10), ints(rng, n, -1, 11)))
    cases.append(_count_input(sorted(ints(rng, n, -10**6, 10**6), reverse=True), [10**6] * 1000))
    return cases


COUNT_AT_MOST = ProblemSpec(
    name="count-at-most",
    statement=dedent("""
        An online judge stores the running times a_1, ..., a_n of n submissions (in any order). It receives q
        queries; for each query value x it must report how many submissions have a running time of at most x.

        Input
        The first line contains two integers n and q.
        The second line contains n integers a_1, ..., a_n.
        The third line contains q integers x_1, ..., x_q: the queries.

        Output
        Print q integers separated by spaces: for each query x_j, the number of i with a_i <= x_j.

        Constraints
        1 <= n, q <= 10000
        -10^6 <= a_i, x_j <= 10^6
    """),
    rating=1200,
    tags=("binary search", "sortings"),
    solution=dedent("""
        import sys
        from bisect import bisect_right
        data = list(map(int, sys.stdin.buffer.read().split()))
        n, q = data[0], data[1]
        a = sorted(data[2:2 + n])
        print(" ".join(str(bisect_right(a, x)) for x in data[2 + n:2 + n + q]))
    """),
    brute=dedent("""
        n, q = map(int, input().split())
        a = list(map(int, input().split()))
        xs = list(map(int, input().split()))
        print(*[sum(1 for v in a if v <= x) for x in xs])
    """),
    public=("5 4\n3 1 4 1 5\n0 1 4 10\n",),
    private=_count_private,
    validator=dedent("""
        n, q = ints(2, 1, 10000)
        ints(n, -10**6, 10**6)
        ints(q, -10**6, 10**6)
        done()
    """),
)

# --- split-array -------------------------------------------------------------------------------------------


def _split_private(rng: random.Random) -> list[str]:
    cases = [
        array_input([7], "1 1"),
        array_input([1, 2, 3], "3 3"),  # every element alone: the answer is the maximum element
        array_input([1, 2, 3], "3 1"),  # one part: the answer is the total
        array_input([10000, 1, 1, 1], "4 2"),
        array_input([5, 5, 5, 5], "4 3"),
        array_input([1, 1, 1, 10, 1, 1, 1], "7 2"),
    ]
    for _ in range(4):
        n = rng.randint(1, 12)
        cases.append(array_input(ints(rng, n, 1, 20), f"{n} {rng.randint(1, n)}"))
    n = 20000
    cases.append(array_input(ints(rng, n, 1, 10000), f"{n} 37"))
    cases.append(array_input(ints(rng, n, 1, 10000), f"{n} {n}"))
    cases.append(array_input([10000] * n, f"{n} 1"))
    cases.append(array_input(ints(rng, 3000, 1, 10000), "3000 2999"))
    return cases


SPLIT_ARRAY = ProblemSpec(
    name="split-array",
    statement=dedent("""
        A hiking trail consists of n segments in order; segment i takes a_i minutes. The trail must be walked
        in exactly k days: each day covers a non-empty block of consecutive segments, every segment is walked
        exactly once, and the order cannot change. The hardest day is the day with the largest total time.
        Split the trail so that the hardest day is as easy as possible, and print its total time.

        Input
        The first line contains two integers n and k.
        The second line contains n integers a_1, ..., a_n.

        Output
        Print one integer: the minimum possible total time of the hardest day.

        Constraints
        1 <= k <= n <= 20000
        1 <= a_i <= 10000
    """),
    rating=1600,
    tags=("binary search", "greedy"),
    solution=dedent("""
        import sys
        data = list(map(int, sys.stdin.buffer.read().split()))
        n, k = data[0], data[1]
        a = data[2:2 + n]

        def days_needed(cap):
            days, cur = 1, 0
            for x in a:
                if cur + x > cap:
                    days += 1
                    cur = x
                else:
                    cur += x
            return days

        lo, hi = max(a), sum(a)
        while lo < hi:
            mid = (lo + hi) // 2
            if days_needed(mid) <= k:
                hi = mid
            else:
                lo = mid + 1
        print(lo)
    """),
    brute=dedent("""
        from functools import lru_cache
        n, k = map(int, input().split())
        a = list(map(int, input().split()))

        @lru_cache(maxsize=None)
        def best(i, parts):
            if parts == 1:
                return sum(a[i:])
            res = None
            for j in range(i + 1, n - parts + 2):
                cand = max(sum(a[i:j]), best(j, parts - 1))
                if res is None or cand < res:
                    res = cand
            return res

        print(best(0, k))
    """),
    public=("5 2\n7 2 5 10 8\n", "4 4\n1 4 2 3\n"),
    private=_split_private,
    validator=dedent("""
        n, k = ints(2, 1, 20000)
        if k > n:
            fail("need k <= n")
        ints(n, 1, 10000)
        done()
    """),
    brute_max_chars=100,
)

# --- longest-affordable-block ------------------------------------------------------------------------------


def _block_private(rng: random.Random) -> list[str]:
    cases = [
        array_input([5], "1 4"),  # nothing affordable: 0
        array_input([5], "1 5"),
        array_input([3, 3, 3], "3 1000000000"),
        array_input([6, 1, 1, 6, 1, 1, 1], "7 3"),
        array_input([10000, 10000], "2 9999"),
        array_input([2, 1, 2, 1, 2], "5 3"),
    ]
    for _ in range(4):
        n = rng.randint(1, 40)
        cases.append(array_input(ints(rng, n, 1, 10), f"{n} {rng.randint(1, 30)}"))
    n = 20000
    cases.append(array_input(ints(rng, n, 1, 10000), f"{n} 5000000"))
    cases.append(array_input(ints(rng, n, 1, 10000), f"{n} 1000000000"))
    cases.append(array_input(ints(rng, n, 1, 10000), f"{n} 60000"))
    return cases


LONGEST_AFFORDABLE_BLOCK = ProblemSpec(
    name="longest-affordable-block",
    statement=dedent("""
        A street has n shops in a row; visiting shop i costs a_i coins. You have s coins and want to visit a
        block of consecutive shops (every shop of the block exactly once) without spending more than s in
        total. What is the largest number of shops such a block can contain? If no single shop is affordable,
        print 0.

        Input
        The first line contains two integers n and s.
        The second line contains n integers a_1, ..., a_n.

        Output
        Print one integer: the maximum length of a block of consecutive shops with total cost at most s.

        Constraints
        1 <= n <= 20000
        1 <= s <= 10^9
        1 <= a_i <= 10000
    """),
    rating=1300,
    tags=("two pointers", "binary search"),
    solution=dedent("""
        import sys
        data = list(map(int, sys.stdin.buffer.read().split()))
        n, s = data[0], data[1]
        a = data[2:2 + n]
        best, left, cur = 0, 0, 0
        for right in range(n):
            cur += a[right]
            while cur > s:
                cur -= a[left]
                left += 1
            if right - left + 1 > best:
                best = right - left + 1
        print(best)
    """),
    brute=dedent("""
        n, s = map(int, input().split())
        a = list(map(int, input().split()))
        best = 0
        for l in range(n):
            for r in range(l, n):
                if sum(a[l:r + 1]) <= s:
                    best = max(best, r - l + 1)
        print(best)
    """),
    public=("5 7\n2 3 1 5 1\n", "3 2\n3 4 5\n"),
    private=_block_private,
    validator=dedent("""
        n, s = ints(2, 1, 10**9)
        if n > 20000:
            fail("n too large")
        ints(n, 1, 10000)
        done()
    """),
)

SPECS = [COUNT_AT_MOST, SPLIT_ARRAY, LONGEST_AFFORDABLE_BLOCK]
