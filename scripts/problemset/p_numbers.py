"""Number theory: gcd/lcm, a prime sieve with prefix counts, modular exponentiation, integer square root."""

from __future__ import annotations

import random

from spec import ProblemSpec, dedent


def _cases(rows: list[str]) -> str:
    return f"{len(rows)}\n" + "".join(r + "\n" for r in rows)


# --- gcd-and-lcm -------------------------------------------------------------------------------------------


def _gcd_private(rng: random.Random) -> list[str]:
    cases = [
        _cases(["1 1"]),
        _cases(["1000000000 1000000000", "999999937 999999929"]),  # lcm near 10^18 needs exact integers
        _cases(["12 18", "18 12", "7 7", "1 1000000000"]),
        _cases(["6 35", "64 48", "17 51"]),
    ]
    for _ in range(5):
        rows = [f"{rng.randint(1, 60)} {rng.randint(1, 60)}" for _ in range(rng.randint(1, 20))]
        cases.append(_cases(rows))
    cases.append(_cases([f"{rng.randint(1, 10**9)} {rng.randint(1, 10**9)}" for _ in range(4000)]))
    rows = []
    for _ in range(4000):
        g = rng.randint(1, 1000)
        rows.append(f"{g * rng.randint(1, 10**6)} {g * rng.randint(1, 10**6)}")
    cases.append(_cases(rows))
    return cases


GCD_AND_LCM = ProblemSpec(
    name="gcd-and-lcm",
    statement=dedent("""
        Two buses leave the station at time 0. The first returns every a minutes and the second every b
        minutes. For each such pair, print the greatest common divisor of a and b, and the first moment
        after time 0 when both buses are back at the station together (the least common multiple of a and b).

        Input
        The first line contains an integer t, the number of test cases.
        Each of the next t lines contains two integers a and b.

        Output
        For each test case print two integers on one line: gcd(a, b) and lcm(a, b).

        Constraints
        1 <= t <= 4000
        1 <= a, b <= 10^9
    """),
    rating=900,
    tags=("math", "number theory"),
    solution=dedent("""
        import sys
        from math import gcd
        data = list(map(int, sys.stdin.buffer.read().split()))
        out = []
        for i in range(data[0]):
            a, b = data[1 + 2 * i], data[2 + 2 * i]
            g = gcd(a, b)
            out.append(f"{g} {a // g * b}")
        print("\\n".join(out))
    """),
    brute=dedent("""
        t = int(input())
        for _ in range(t):
            a, b = map(int, input().split())
            x, y = a, b
            while y:
                x, y = y, x % y
            print(x, a * b // x)
    """),
    public=("3\n12 18\n7 5\n4 4\n",),
    private=_gcd_private,
    validator=dedent("""
        (t,) = ints(1, 1, 4000)
        for _ in range(t):
            ints(2, 1, 10**9)
        done()
    """),
    brute_max_chars=10**6,
)

# --- primes-in-range ---------------------------------------------------------------------------------------


def _primes_private(rng: random.Random) -> list[str]:
    top = 10**6
    cases = [
        _cases(["1 1"]),  # 1 is not prime
        _cases(["2 2", "1 2", "4 4"]),
        _cases(["1 1000000"]),
        _cases(["999983 999983", "999984 1000000"]),  # largest prime below 10^6, then none after it
        _cases(["14 16", "24 28", "90 96"]),
    ]
    for _ in range(4):
        rows = []
        for _ in range(rng.randint(1, 20)):
            a, b = sorted((rng.randint(1, 200), rng.randint(1, 200)))
            rows.append(f"{a} {b}")
        cases.append(_cases(rows))
    rows = []
    for _ in range(5000):
        a, b = sorted((rng.randint(1, top), rng.randint(1, top)))
        rows.append(f"{a} {b}")
    cases.append(_cases(rows))
    cases.append(_cases([f"{rng.randint(1, 1000)} {rng.randint(999000, top)}" for _ in range(5000)]))
    return cases


PRIMES_IN_RANGE = ProblemSpec(
    name="primes-in-range",
    statement=dedent("""
        A prime is an integer greater than 1 whose only positive divisors are 1 and itself. Answer t
        questions: how many primes p satisfy l <= p <= r?

        Input
        The first line contains an integer t.
        Each of the next t lines contains two integers l and r.

        Output
        For each question print the number of primes in [l, r] on its own line.

        Constraints
        1 <= t <= 5000
        1 <= l <= r <= 10^6
    """),
    rating=1300,
    tags=("math", "number theory", "prefix sums"),
    solution=dedent("""
        import sys
        from itertools import accumulate
        N = 10**6
        sieve = bytearray([1]) * (N + 1)
        sieve[0] = sieve[1] = 0
        for p in range(2, int(N ** 0.5) + 1):
            if sieve[p]:
                sieve[p * p::p] = bytes(len(range(p * p, N + 1, p)))
        pre = list(accumulate(sieve))
        data = list(map(int, sys.stdin.buffer.read().split()))
        out = []
        for i in range(data[0]):
            l, r = data[1 + 2 * i], data[2 + 2 * i]
            out.append(pre[r] - pre[l - 1])
        print("\\n".join(map(str, out)))
    """),
    brute=dedent("""
        t = int(input())
        qs = [tuple(map(int, input().split())) for _ in range(t)]
        top = max(r for _, r in qs)
        is_p = [False, False] + [True] * (top - 1)
        x = 2
        while x * x <= top:
            if is_p[x]:
                for y in range(x * x, top + 1, x):
                    is_p[y] = False
            x += 1
        for l, r in qs:
            print(sum(is_p[l:r + 1]))
    """),
    public=("3\n1 10\n11 20\n20 22\n",),
    private=_primes_private,
    validator=dedent("""
        (t,) = ints(1, 1, 5000)
        for _ in range(t):
            l, r = ints(2, 1, 10**6)
            if l > r:
                fail("need l <= r")
        done()
    """),
    brute_max_chars=400,
)

# --- modular-power -----------------------------------------------------------------------------------------


def _pow_private(rng: random.Random) -> list[str]:
    big = 10**18
    cases = [
        _cases(["0 0 1"]),  # 0^0 = 1, but modulo 1 everything is 0
        _cases(["5 0 7", "0 0 2", "0 5 3"]),
        _cases(["2 10 1000", "3 200 1", "10 18 1000000000"]),
        _cases([f"{big} {big} 1000000000", f"{big - 1} {big} 999999937"]),
        _cases(["123456789123456789 2 999999937"]),
    ]
    for _ in range(4):
        cases.append(_cases([f"{rng.randint(0, 20)} {rng.randint(0, 30)} {rng.randint(1, 50)}"
                             for _ in range(rng.randint(1, 15))]))
    cases.append(_cases([f"{rng.randint(0, big)} {rng.randint(0, big)} {rng.randint(1, 10**9)}"
                         for _ in range(4000)]))
    cases.append(_cases([f"{rng.randint(0, big)} {rng.randint(0, 3)} {rng.randint(1, 3)}"
                         for _ in range(2000)]))
    return cases


MODULAR_POWER = ProblemSpec(
    name="modular-power",
    statement=dedent("""
        For each test case compute a^b mod m: the remainder of a raised to the power b, divided by m. By
        convention a^0 = 1 for every a, including a = 0. The remainder is always between 0 and m - 1.

        Input
        The first line contains an integer t.
        Each of the next t lines contains three integers a, b and m.

        Output
        For each test case print a^b mod m on its own line.

        Constraints
        1 <= t <= 4000
        0 <= a, b <= 10^18
        1 <= m <= 10^9
    """),
    rating=1100,
    tags=("math", "number theory"),
    solution=dedent("""
        import sys
        data = list(map(int, sys.stdin.buffer.read().split()))
        out = []
        for i in range(data[0]):
            a, b, m = data[1 + 3 * i], data[2 + 3 * i], data[3 + 3 * i]
            out.append(pow(a, b, m))
        print("\\n".join(map(str, out)))
    """),
    brute=dedent("""
        t = int(input())
        for _ in range(t):
            a, b, m = map(int, input().split())
            if b <= 100:
                r = 1
                for _ in range(b):
                    r = r * a
                print(r % m)
            else:
                r, base = 1 % m, a % m
                while b:
                    if b & 1:
                        r = r * base % m
                    base = base * base % m
                    b >>= 1
                print(r)
    """),
    public=("3\n2 10 1000\n3 0 5\n7 2 1\n",),
    private=_pow_private,
    validator=dedent("""
        (t,) = ints(1, 1, 4000)
        for _ in range(t):
            a, b, m = ints(3, 0, 10**18)
            if not 1 <= m <= 10**9:
                fail("m out of range")
        done()
    """),
)

# --- integer-sqrt ------------------------------------------------------------------------------------------


def _isqrt_private(rng: random.Random) -> list[str]:
    top = 10**18
    cases = [
        _cases(["0"]),
        _cases(["1", "2", "3", "4"]),
        _cases([str(top), str(top - 1)]),
        # Around large perfect squares floating point sqrt rounds the wrong way.
        _cases([str(999999999 ** 2 - 1), str(999999999 ** 2), str((10**9 - 1) ** 2 + 1)]),
        _cases([str(k * k - 1) for k in range(10**9 - 50, 10**9)]),
    ]
    for _ in range(4):
        cases.append(_cases([str(rng.randint(0, 1000)) for _ in range(rng.randint(1, 20))]))
    rows = []
    for _ in range(5000):
        k = rng.randint(1, 10**9)
        rows.append(str(k * k - rng.randint(0, 1)))
    cases.append(_cases(rows))
    cases.append(_cases([str(rng.randint(0, top)) for _ in range(5000)]))
    return cases


INTEGER_SQRT = ProblemSpec(
    name="integer-sqrt",
    statement=dedent("""
        A square plot of land with integer side length k needs k * k tiles. Given n tiles, what is the largest
        k such that k * k <= n? In other words, print the integer square root of n (the square root rounded
        down).

        Input
        The first line contains an integer t.
        Each of the next t lines contains one integer n.

        Output
        For each test case print the largest integer k >= 0 with k * k <= n, on its own line.

        Constraints
        1 <= t <= 5000
        0 <= n <= 10^18
    """),
    rating=1100,
    tags=("math", "binary search"),
    solution=dedent("""
        import sys
        from math import isqrt
        data = sys.stdin.buffer.read().split()
        t = int(data[0])
        print("\\n".join(str(isqrt(int(x))) for x in data[1:1 + t]))
    """),
    brute=dedent("""
        t = int(input())
        for _ in range(t):
            n = int(input())
            lo, hi = 0, 2 * 10**9
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if mid * mid <= n:
                    lo = mid
                else:
                    hi = mid - 1
            print(lo)
    """),
    public=("3\n10\n16\n0\n",),
    private=_isqrt_private,
    validator=dedent("""
        (t,) = ints(1, 1, 5000)
        for _ in range(t):
            ints(1, 0, 10**18)
        done()
    """),
    brute_max_chars=10**6,
)

SPECS = [GCD_AND_LCM, PRIMES_IN_RANGE, MODULAR_POWER, INTEGER_SQRT]
