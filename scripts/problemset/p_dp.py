"""Simple dynamic programming: coin change, LIS, grid paths, frog jumps."""

from __future__ import annotations

import random

from spec import ProblemSpec, array_input, dedent, ints, line

# --- coin-change-ways --------------------------------------------------------------------------------------


def _coins_input(s: int, coins: list[int]) -> str:
    return f"{len(coins)} {s}\n{line(coins)}\n"


def _coins_private(rng: random.Random) -> list[str]:
    cases = [
        _coins_input(1, [1]),
        _coins_input(1, [2]),  # impossible: 0 ways
        _coins_input(7, [10000]),
        _coins_input(10, [2, 3, 5]),
        _coins_input(10000, [1]),
        _coins_input(10000, [10000, 1, 5000]),
    ]
    for _ in range(4):
        cases.append(_coins_input(rng.randint(1, 40), rng.sample(range(1, 15), rng.randint(1, 5))))
    cases.append(_coins_input(10000, list(range(1, 51))))  # counts explode: the modulo matters
    cases.append(_coins_input(10000, rng.sample(range(1, 10001), 50)))
    cases.append(_coins_input(9999, rng.sample(range(2, 200, 2), 50)))
    return cases


COIN_CHANGE_WAYS = ProblemSpec(
    name="coin-change-ways",
    statement=dedent("""
        A country has n kinds of coins with distinct values c_1, ..., c_n, and an unlimited supply of each.
        In how many ways can one pay exactly s? Two ways are the same if they use the same number of coins of
        every kind (the order of coins does not matter). The number can be huge, so print it modulo
        1000000007 (10^9 + 7).

        Input
        The first line contains two integers n and s.
        The second line contains n distinct integers c_1, ..., c_n.

        Output
        Print one integer: the number of ways modulo 1000000007.

        Constraints
        1 <= n <= 50
        1 <= s <= 10000
        1 <= c_i <= 10000, all c_i distinct
    """),
    rating=1400,
    tags=("dp",),
    solution=dedent("""
        n, s = map(int, input().split())
        coins = list(map(int, input().split()))
        MOD = 10**9 + 7
        ways = [0] * (s + 1)
        ways[0] = 1
        for c in coins:
            for v in range(c, s + 1):
                ways[v] = (ways[v] + ways[v - c]) % MOD
        print(ways[s])
    """),
    brute=dedent("""
        import sys
        from functools import lru_cache
        sys.setrecursionlimit(10000)
        n, s = map(int, input().split())
        coins = list(map(int, input().split()))

        @lru_cache(maxsize=None)
        def count(i, rest):
            if rest == 0:
                return 1
            if i == n:
                return 0
            return sum(count(i + 1, rest - k * coins[i]) for k in range(rest // coins[i] + 1))

        print(count(0, s) % (10**9 + 7))
    """),
    public=("3 5\n1 2 5\n", "2 3\n2 4\n"),
    private=_coins_private,
    validator=dedent("""
        n, s = ints(2, 1, 10000)
        if n > 50:
            fail("n too large")
        c = ints(n, 1, 10000)
        if len(set(c)) != n:
            fail("coin values must be distinct")
        done()
    """),
    brute_max_chars=40,
)

# --- longest-increasing-subsequence ------------------------------------------------------------------------


def _lis_private(rng: random.Random) -> list[str]:
    cases = [
        array_input([5]),
        array_input([2, 2, 2, 2]),  # strictly increasing: equal values do not extend
        array_input([5, 4, 3, 2, 1]),
        array_input([1, 2, 3, 4, 5]),
        array_input([-1000000000, 1000000000]),
        array_input([3, 1, 2, 1, 8, 5, 6]),
    ]
    for _ in range(4):
        cases.append(array_input(ints(rng, rng.randint(1, 15), 0, 10)))
    cases.append(array_input(ints(rng, 2000, -10**9, 10**9)))
    cases.append(array_input(sorted(ints(rng, 2000, -10**9, 10**9))))
    cases.append(array_input(ints(rng, 2000, 1, 50)))
    return cases


LONGEST_INCREASING_SUBSEQUENCE = ProblemSpec(
    name="longest-increasing-subsequence",
    statement=dedent("""
        Given a sequence a_1, ..., a_n, delete some of its elements (possibly none) so that the remaining
        ones, in their original order, are strictly increasing. What is the largest number of elements that
        can remain?

        Input
        The first line contains an integer n.
        The second line contains n integers a_1, ..., a_n.

        Output
        Print one integer: the length of the longest strictly increasing subsequence.

        Constraints
        1 <= n <= 2000
        -10^9 <= a_i <= 10^9
    """),
    rating=1300,
    tags=("dp", "binary search"),
    solution=dedent("""
        import sys
        from bisect import bisect_left
        data = list(map(int, sys.stdin.buffer.read().split()))
        n = data[0]
        tails = []
        for x in data[1:1 + n]:
            i = bisect_left(tails, x)
            if i == len(tails):
                tails.append(x)
            else:
                tails[i] = x
        print(len(tails))
    """),
    brute=dedent("""
        n = int(input())
        a = list(map(int, input().split()))
        best = 0
        for mask in range(1 << n):
            seq = [a[i] for i in range(n) if mask >> i & 1]
            if all(seq[i] < seq[i + 1] for i in range(len(seq) - 1)):
                best = max(best, len(seq))
        print(best)
    """),
    public=("8\n10 9 2 5 3 7 101 18\n", "3\n4 4 4\n"),
    private=_lis_private,
    validator=dedent("""
        (n,) = ints(1, 1, 2000)
        ints(n, -10**9, 10**9)
        done()
    """),
    brute_max_chars=45,
)

# --- grid-paths --------------------------------------------------------------------------------------------


def _grid_input(rows: list[str]) -> str:
    return f"{len(rows)} {len(rows[0])}\n" + "\n".join(rows) + "\n"


def _random_grid(rng: random.Random, n: int, m: int, wall: float) -> list[str]:
    return ["".join("#" if rng.random() < wall else "." for _ in range(m)) for _ in range(n)]


def _grid_private(rng: random.Random) -> list[str]:
    cases = [
        _grid_input(["."]),
        _grid_input(["#"]),  # the start cell itself is blocked
        _grid_input(["..", ".#"]),  # the target is blocked
        _grid_input(["..#", ".#.", "#.."]),  # a diagonal wall cuts every route
        _grid_input(["." * 300]),
        _grid_input(["...", "...", "..."]),
    ]
    for _ in range(4):
        cases.append(_grid_input(_random_grid(rng, rng.randint(1, 6), rng.randint(1, 6), 0.2)))
    cases.append(_grid_input(["." * 300] * 300))  # huge counts: needs the modulo
    cases.append(_grid_input(_random_grid(rng, 300, 300, 0.05)))
    cases.append(_grid_input(_random_grid(rng, 300, 100, 0.3)))
    return cases


GRID_PATHS = ProblemSpec(
    name="grid-paths",
    statement=dedent("""
        A robot stands in the top-left cell of an n x m grid and must reach the bottom-right cell. In one move
        it goes one cell right or one cell down. Some cells are blocked ('#') and the robot may never enter
        them; free cells are '.'. Count the different routes, modulo 1000000007. If the start or the target
        cell is blocked, the answer is 0.

        Input
        The first line contains two integers n and m.
        Each of the next n lines contains a string of m characters '.' or '#'.

        Output
        Print one integer: the number of routes modulo 1000000007.

        Constraints
        1 <= n, m <= 300
    """),
    rating=1300,
    tags=("dp", "combinatorics"),
    solution=dedent("""
        import sys
        data = sys.stdin.read().split()
        n, m = int(data[0]), int(data[1])
        MOD = 10**9 + 7
        row = [0] * m
        row[0] = 1
        for i in range(n):
            g = data[2 + i]
            left = 0
            for j in range(m):
                if g[j] == "#":
                    left = 0
                else:
                    left = (left + row[j]) % MOD
                row[j] = left
        print(row[m - 1])
    """),
    brute=dedent("""
        n, m = map(int, input().split())
        g = [input().strip() for _ in range(n)]

        def walk(i, j):
            if i >= n or j >= m or g[i][j] == "#":
                return 0
            if (i, j) == (n - 1, m - 1):
                return 1
            return walk(i + 1, j) + walk(i, j + 1)

        print(walk(0, 0) % (10**9 + 7))
    """),
    public=("3 3\n...\n.#.\n...\n", "2 2\n.#\n#.\n"),
    private=_grid_private,
    validator=dedent("""
        n, m = ints(2, 1, 300)
        for _ in range(n):
            word(".#", m, m)
        done()
    """),
    brute_max_chars=60,
)

# --- frog-jumps --------------------------------------------------------------------------------------------


def _frog_private(rng: random.Random) -> list[str]:
    cases = [
        array_input([5]),  # already on the last stone: cost 0
        array_input([1, 10000]),
        array_input([10, 30, 10]),  # jumping over the middle is cheaper
        array_input([1, 2, 3, 4, 5]),
        array_input([7, 7, 7, 7]),
        array_input([30, 10, 60, 10, 60, 50]),
    ]
    for _ in range(4):
        cases.append(array_input(ints(rng, rng.randint(1, 14), 1, 50)))
    n = 20000
    cases.append(array_input(ints(rng, n, 1, 10000)))
    cases.append(array_input([1 if i % 2 else 10000 for i in range(n)]))
    return cases


FROG_JUMPS = ProblemSpec(
    name="frog-jumps",
    statement=dedent("""
        There are n stones in a row; stone i has height h_i. A frog starts on stone 1 and wants to reach
        stone n. From stone i it can jump to stone i + 1 or to stone i + 2; a jump from stone i to stone j
        costs |h_i - h_j| energy. What is the minimum total energy the frog needs?

        Input
        The first line contains an integer n.
        The second line contains n integers h_1, ..., h_n.

        Output
        Print one integer: the minimum total cost to reach stone n.

        Constraints
        1 <= n <= 20000
        1 <= h_i <= 10000
    """),
    rating=1000,
    tags=("dp",),
    solution=dedent("""
        import sys
        data = list(map(int, sys.stdin.buffer.read().split()))
        n = data[0]
        h = data[1:1 + n]
        prev2, prev1 = 0, 0
        if n >= 2:
            prev2, prev1 = 0, abs(h[1] - h[0])
        for i in range(2, n):
            cur = min(prev1 + abs(h[i] - h[i - 1]), prev2 + abs(h[i] - h[i - 2]))
            prev2, prev1 = prev1, cur
        print(prev1)
    """),
    brute=dedent("""
        n = int(input())
        h = list(map(int, input().split()))

        def best(i):
            if i == n - 1:
                return 0
            res = abs(h[i + 1] - h[i]) + best(i + 1)
            if i + 2 < n:
                res = min(res, abs(h[i + 2] - h[i]) + best(i + 2))
            return res

        print(best(0))
    """),
    public=("4\n10 30 40 20\n", "1\n42\n"),
    private=_frog_private,
    validator=dedent("""
        (n,) = ints(1, 1, 20000)
        ints(n, 1, 10000)
        done()
    """),
    brute_max_chars=50,
)

SPECS = [COIN_CHANGE_WAYS, LONGEST_INCREASING_SUBSEQUENCE, GRID_PATHS, FROG_JUMPS]
