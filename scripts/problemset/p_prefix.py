"""Prefix sums and linear scans: range sums, divisible subarrays, maximum subarray."""

from __future__ import annotations

import random

from spec import ProblemSpec, array_input, dedent, ints, line

# --- range-sum-queries -------------------------------------------------------------------------------------


def _rsq_input(a: list[int], queries: list[tuple[int, int]]) -> str:
    return f"{len(a)} {len(queries)}\n{line(a)}\n" + "".join(f"{lo} {hi}\n" for lo, hi in queries)


def _random_queries(rng: random.Random, n: int, q: int) -> list[tuple[int, int]]:
    out = []
    for _ in range(q):
        lo, hi = sorted((rng.randint(1, n), rng.randint(1, n)))
        out.append((lo, hi))
    return out


def _rsq_private(rng: random.Random) -> list[str]:
    cases = [
        _rsq_input([5], [(1, 1)]),
        _rsq_input([-10000], [(1, 1), (1, 1)]),
        _rsq_input([1, 2, 3, 4], [(1, 4), (4, 4), (1, 1), (2, 3)]),
        _rsq_input([3, -3, 3, -3], [(1, 2), (2, 3), (1, 3), (2, 4)]),
    ]
    for _ in range(5):
        n = rng.randint(1, 30)
        cases.append(_rsq_input(ints(rng, n, -100, 100), _random_queries(rng, n, rng.randint(1, 30))))
    n = 10000
    cases.append(_rsq_input(ints(rng, n, -10000, 10000), _random_queries(rng, n, n)))
    cases.append(_rsq_input([10000] * n, [(1, n)] * 2000))
    cases.append(_rsq_input(ints(rng, n, 0, 100), [(i + 1, n) for i in range(n)]))
    return cases


RANGE_SUM_QUERIES = ProblemSpec(
    name="range-sum-queries",
    statement=dedent("""
        A shop recorded its profit for each of n days (a loss is a negative profit). The owner asks q
        questions; each question gives two days l and r and asks for the total profit from day l to day r
        inclusive.

        Input
        The first line contains two integers n and q.
        The second line contains n integers a_1, ..., a_n: the daily profits.
        Each of the next q lines contains two integers l and r.

        Output
        For each question print one integer, a_l + a_(l+1) + ... + a_r, on its own line.

        Constraints
        1 <= n, q <= 10000
        -10000 <= a_i <= 10000
        1 <= l <= r <= n
    """),
    rating=1000,
    tags=("prefix sums", "implementation"),
    solution=dedent("""
        import sys
        from itertools import accumulate
        data = list(map(int, sys.stdin.buffer.read().split()))
        n, q = data[0], data[1]
        pre = [0] + list(accumulate(data[2:2 + n]))
        qs = data[2 + n:2 + n + 2 * q]
        print("\\n".join(str(pre[qs[i + 1]] - pre[qs[i] - 1]) for i in range(0, 2 * q, 2)))
    """),
    brute=dedent("""
        n, q = map(int, input().split())
        a = list(map(int, input().split()))
        for _ in range(q):
            l, r = map(int, input().split())
            s = 0
            for i in range(l - 1, r):
                s += a[i]
            print(s)
    """),
    public=("5 3\n2 -1 3 5 -4\n1 3\n2 5\n4 4\n",),
    private=_rsq_private,
    validator=dedent("""
        n, q = ints(2, 1, 10000)
        ints(n, -10000, 10000)
        for _ in range(q):
            l, r = ints(2, 1, n)
            if l > r:
                fail("need l <= r")
        done()
    """),
)

# --- divisible-subarrays -----------------------------------------------------------------------------------


def _div_private(rng: random.Random) -> list[str]:
    cases = [
        array_input([5], "1 5"),
        array_input([4], "1 5"),
        array_input([0, 0, 0], "3 1000000000"),
        array_input([-1, -1, -1], "3 3"),  # negative sums: remainders must be normalised
        array_input([-3, 1, 2], "3 2"),
        array_input([7, -7, 7, -7], "4 1"),
    ]
    for _ in range(4):
        n = rng.randint(1, 40)
        cases.append(array_input(ints(rng, n, -10, 10), f"{n} {rng.randint(1, 7)}"))
    n = 20000
    cases.append(array_input(ints(rng, n, -10000, 10000), f"{n} 7"))
    cases.append(array_input(ints(rng, n, -10000, 10000), f"{n} 1000000000"))
    cases.append(array_input(ints(rng, n, 0, 3), f"{n} 1"))
    return cases


DIVISIBLE_SUBARRAYS = ProblemSpec(
    name="divisible-subarrays",
    statement=dedent("""
        You are given an array a_1, ..., a_n of integers (possibly negative) and an integer k. A subarray is a
        non-empty block of consecutive elements a_l, ..., a_r. Count the subarrays whose sum is divisible by k
        (a sum of 0, or any negative multiple of k, is divisible by k too).

        Input
        The first line contains two integers n and k.
        The second line contains n integers a_1, ..., a_n.

        Output
        Print one integer: the number of pairs (l, r), 1 <= l <= r <= n, such that a_l + ... + a_r is
        divisible by k.

        Constraints
        1 <= n <= 20000
        1 <= k <= 10^9
        -10000 <= a_i <= 10000
    """),
    rating=1500,
    tags=("prefix sums", "math", "hashing"),
    solution=dedent("""
        import sys
        from collections import Counter
        data = list(map(int, sys.stdin.buffer.read().split()))
        n, k = data[0], data[1]
        seen = Counter({0: 1})
        total, s = 0, 0
        for x in data[2:2 + n]:
            s = (s + x) % k
            total += seen[s]
            seen[s] += 1
        print(total)
    """),
    brute=dedent("""
        n, k = map(int, input().split())
        a = list(map(int, input().split()))
        cnt = 0
        for l in range(n):
            for r in range(l, n):
                if sum(a[l:r + 1]) % k == 0:
                    cnt += 1
        print(cnt)
    """),
    public=("5 3\n1 2 3 -3 4\n", "3 2\n-1 1 -1\n"),
    private=_div_private,
    validator=dedent("""
        n, k = ints(2, 1, 10**9)
        if n > 20000:
            fail("n too large")
        ints(n, -10000, 10000)
        done()
    """),
)

# --- max-subarray-sum --------------------------------------------------------------------------------------


def _kadane_private(rng: random.Random) -> list[str]:
    cases = [
        array_input([-7]),
        array_input([0]),
        array_input([-3, -1, -2]),  # all negative: the answer is the largest element, not 0
        array_input([5, -10, 5]),
        array_input([2, -1, 2, -1, 2]),
        array_input([-10000] * 5 + [10000]),
    ]
    for _ in range(4):
        cases.append(array_input(ints(rng, rng.randint(1, 40), -20, 20)))
    n = 20000
    cases.append(array_input(ints(rng, n, -10000, 10000)))
    cases.append(array_input([10000] * 2000))
    cases.append(array_input(ints(rng, n, -10000, -1)))
    return cases


MAX_SUBARRAY_SUM = ProblemSpec(
    name="max-subarray-sum",
    statement=dedent("""
        A stock's daily price changes are a_1, ..., a_n. Choose a non-empty block of consecutive days
        a_l, ..., a_r with the largest total change, and print that total. Note that you must choose at least
        one day, even if every change is negative.

        Input
        The first line contains an integer n.
        The second line contains n integers a_1, ..., a_n.

        Output
        Print one integer: the maximum of a_l + ... + a_r over all 1 <= l <= r <= n.

        Constraints
        1 <= n <= 20000
        -10000 <= a_i <= 10000
    """),
    rating=1200,
    tags=("dp", "greedy"),
    solution=dedent("""
        import sys
        data = list(map(int, sys.stdin.buffer.read().split()))
        n = data[0]
        best = cur = data[1]
        for x in data[2:1 + n]:
            cur = x if cur < 0 else cur + x
            if cur > best:
                best = cur
        print(best)
    """),
    brute=dedent("""
        n = int(input())
        a = list(map(int, input().split()))
        print(max(sum(a[l:r + 1]) for l in range(n) for r in range(l, n)))
    """),
    public=("6\n-2 3 -1 4 -6 2\n", "3\n-5 -2 -8\n"),
    private=_kadane_private,
    validator=dedent("""
        (n,) = ints(1, 1, 20000)
        ints(n, -10000, 10000)
        done()
    """),
)

SPECS = [RANGE_SUM_QUERIES, DIVISIBLE_SUBARRAYS, MAX_SUBARRAY_SUM]
