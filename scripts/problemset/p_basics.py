"""Very easy problems (a small code model should solve these) and simple arithmetic."""

from __future__ import annotations

import random

from spec import ProblemSpec, array_input, dedent, ints, word

# --- sum-of-two --------------------------------------------------------------------------------------------


def _sum_private(rng: random.Random) -> list[str]:
    # Edge cases first: zeros, both extremes, cancellation; then random pairs over the full range.
    fixed = ["0 0\n", "-1000000000 -1000000000\n", "1000000000 1000000000\n", "1000000000 -1000000000\n",
             "-7 3\n", "5 -12\n"]
    rand = [f"{rng.randint(-10**9, 10**9)} {rng.randint(-10**9, 10**9)}\n" for _ in range(6)]
    return fixed + rand


SUM_OF_TWO = ProblemSpec(
    name="sum-of-two",
    statement=dedent("""
        Alice has a coins in her left pocket and b in her right pocket. A negative amount means she
        owes coins. How many coins does she have in total?

        Input
        A single line contains two integers a and b separated by a space.

        Output
        Print one integer: a + b.

        Constraints
        -10^9 <= a, b <= 10^9
    """),
    rating=800,
    tags=("math", "implementation"),
    solution=dedent("""
        a, b = map(int, input().split())
        print(a + b)
    """),
    brute=dedent("""
        import sys
        print(sum(int(t) for t in sys.stdin.read().split()))
    """),
    public=("1 2\n", "-5 3\n"),
    private=_sum_private,
    validator=dedent("""
        ints(2, -10**9, 10**9)
        done()
    """),
    cpp_solution=dedent("""
        #include <cstdio>
        int main() {
            long long a, b;
            if (scanf("%lld %lld", &a, &b) != 2) return 1;
            printf("%lld\\n", a + b);
        }
    """),
)

# --- max-in-array ------------------------------------------------------------------------------------------


def _max_private(rng: random.Random) -> list[str]:
    n_max = 10000
    cases = [
        array_input([42]),
        array_input([-1000000000]),
        array_input([-5, -3, -9, -3]),  # all negative: a max initialised to 0 fails here
        array_input([7, 7, 7]),
        array_input([-1, 0]),
        array_input([1000000000] + ints(rng, 50, -10**9, 10**9)),
        array_input(ints(rng, 50, -10**9, 10**9) + [1000000000]),
    ]
    cases += [array_input(ints(rng, rng.randint(2, 100), -1000, 1000)) for _ in range(3)]
    cases.append(array_input(ints(rng, n_max, -10**9, -1)))
    cases.append(array_input(ints(rng, n_max, -10**9, 10**9)))
    return cases


MAX_IN_ARRAY = ProblemSpec(
    name="max-in-array",
    statement=dedent("""
        A weather station recorded n temperature readings. Find the highest reading.

        Input
        The first line contains an integer n, the number of readings.
        The second line contains n integers a_1, a_2, ..., a_n separated by spaces.

        Output
        Print one integer: the maximum of a_1, ..., a_n.

        Constraints
        1 <= n <= 10000
        -10^9 <= a_i <= 10^9
    """),
    rating=800,
    tags=("implementation",),
    solution=dedent("""
        import sys
        data = sys.stdin.read().split()
        n = int(data[0])
        print(max(map(int, data[1:1 + n])))
    """),
    brute=dedent("""
        n = int(input())
        a = list(map(int, input().split()))
        best = a[0]
        for x in a:
            if x > best:
                best = x
        print(best)
    """),
    public=("5\n3 9 -2 9 4\n",),
    private=_max_private,
    validator=dedent("""
        (n,) = ints(1, 1, 10000)
        ints(n, -10**9, 10**9)
        done()
    """),
    brute_max_chars=10**6,
)

# --- count-vowels ------------------------------------------------------------------------------------------


def _vowels_private(rng: random.Random) -> list[str]:
    cases = ["a\n", "z\n", "bcdfghjklmnpqrstvwxyz\n", "aeiou\n", "yyyy\n", "uoiea" * 20 + "\n"]
    cases += [word(rng, rng.randint(1, 60)) + "\n" for _ in range(4)]
    cases.append(word(rng, 100000) + "\n")
    cases.append(word(rng, 100000, "aeiouy") + "\n")
    return cases


COUNT_VOWELS = ProblemSpec(
    name="count-vowels",
    statement=dedent("""
        In the language of the island of Vokalia, only the letters a, e, i, o and u are vowels (the letter y
        is a consonant). Given a word, count how many of its letters are vowels.

        Input
        A single line contains a string s of lowercase English letters.

        Output
        Print one integer: the number of vowels in s.

        Constraints
        1 <= |s| <= 100000
        s consists only of the letters a to z.
    """),
    rating=800,
    tags=("strings", "implementation"),
    solution=dedent("""
        s = input().strip()
        print(sum(1 for ch in s if ch in "aeiou"))
    """),
    brute=dedent("""
        s = input().strip()
        print(s.count("a") + s.count("e") + s.count("i") + s.count("o") + s.count("u"))
    """),
    public=("programming\n", "rhythm\n"),
    private=_vowels_private,
    validator=dedent("""
        word(LOWER, 1, 100000)
        done()
    """),
    brute_max_chars=10**6,
)

# --- reverse-words -----------------------------------------------------------------------------------------


def _sentence(rng: random.Random, words: int, max_len: int) -> str:
    return " ".join(word(rng, rng.randint(1, max_len)) for _ in range(words)) + "\n"


def _reverse_private(rng: random.Random) -> list[str]:
    cases = ["hello\n", "a b\n", "x\n", "same same same\n", "ab ba ab\n", "one two three four five six\n"]
    cases += [_sentence(rng, rng.randint(1, 20), 8) for _ in range(4)]
    cases.append(_sentence(rng, 12500, 3))
    cases.append(" ".join(["q"] * 24998) + " end\n")
    return cases


REVERSE_WORDS = ProblemSpec(
    name="reverse-words",
    statement=dedent("""
        Bob wrote a sentence, but his keyboard reversed the order of the words (each word itself is intact).
        Restore the sentence: print its words in reverse order.

        Input
        A single line contains one or more words separated by single spaces. Every word consists of
        lowercase English letters.

        Output
        Print the words in reverse order, separated by single spaces.

        Constraints
        The line has at least 1 and at most 50000 characters (spaces included).
    """),
    rating=800,
    tags=("strings", "implementation"),
    solution=dedent("""
        words = input().split()
        print(" ".join(reversed(words)))
    """),
    brute=dedent("""
        s = input().strip()
        out = []
        cur = ""
        for ch in s + " ":
            if ch == " ":
                if cur:
                    out.insert(0, cur)
                cur = ""
            else:
                cur += ch
        print(" ".join(out))
    """),
    public=("the quick brown fox\n", "hello world\n"),
    private=_reverse_private,
    validator=dedent("""
        s = read_line()
        if not 1 <= len(s) <= 50000:
            fail("line length out of range")
        for w in s.split(" "):
            if not w or w.strip(LOWER):
                fail("words must be non-empty lowercase and separated by single spaces")
        done()
    """),
)

# --- even-sum ----------------------------------------------------------------------------------------------


def _even_private(rng: random.Random) -> list[str]:
    n_max = 10000
    cases = [
        array_input([1]),
        array_input([2]),
        array_input([0]),
        array_input([1, 3, 5, 7]),  # no even numbers at all
        array_input([-4, -3, -2, 7]),  # negative even numbers count too
        array_input([-1000000000, 1000000000, -999999999]),
    ]
    cases += [array_input(ints(rng, rng.randint(1, 80), -100, 100)) for _ in range(4)]
    cases.append(array_input([10**9 - (i % 2) for i in range(n_max)]))
    cases.append(array_input(ints(rng, n_max, -10**9, 10**9)))
    return cases


EVEN_SUM = ProblemSpec(
    name="even-sum",
    statement=dedent("""
        A cashier only trusts even amounts. Given n amounts, compute the sum of those that are even. Zero and
        negative even numbers (like -4) are even too. If there are no even amounts, the sum is 0.

        Input
        The first line contains an integer n.
        The second line contains n integers a_1, ..., a_n.

        Output
        Print one integer: the sum of all even a_i.

        Constraints
        1 <= n <= 10000
        -10^9 <= a_i <= 10^9
    """),
    rating=800,
    tags=("math", "implementation"),
    solution=dedent("""
        import sys
        data = sys.stdin.read().split()
        n = int(data[0])
        print(sum(x for x in map(int, data[1:1 + n]) if x % 2 == 0))
    """),
    brute=dedent("""
        n = int(input())
        total = 0
        for tok in input().split():
            x = int(tok)
            if abs(x) % 2 == 0:
                total += x
        print(total)
    """),
    public=("5\n1 2 3 4 5\n", "3\n-2 7 0\n"),
    private=_even_private,
    validator=dedent("""
        (n,) = ints(1, 1, 10000)
        ints(n, -10**9, 10**9)
        done()
    """),
    brute_max_chars=10**6,
)

# --- clock-add ---------------------------------------------------------------------------------------------


def _clock_private(rng: random.Random) -> list[str]:
    cases = ["00:00\n0\n", "23:59\n1\n", "23:59\n1000000000\n", "00:00\n1440\n", "12:30\n720\n",
             "09:05\n55\n", "00:01\n1439\n"]
    for _ in range(5):
        cases.append(f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}\n{rng.randint(0, 10**9)}\n")
    return cases


CLOCK_ADD = ProblemSpec(
    name="clock-add",
    statement=dedent("""
        A digital clock shows the time in 24-hour format HH:MM (from 00:00 to 23:59). After 23:59 it shows
        00:00 again. The clock currently shows some time. What will it show after exactly k minutes?

        Input
        The first line contains the current time in the format HH:MM (two digits each, with leading zeros).
        The second line contains an integer k.

        Output
        Print the time shown after k minutes, in the same HH:MM format with leading zeros.

        Constraints
        00 <= HH <= 23, 00 <= MM <= 59
        0 <= k <= 10^9
    """),
    rating=900,
    tags=("math", "implementation"),
    solution=dedent("""
        hh, mm = map(int, input().strip().split(":"))
        k = int(input())
        t = (hh * 60 + mm + k) % 1440
        print(f"{t // 60:02d}:{t % 60:02d}")
    """),
    brute=dedent("""
        hh, mm = map(int, input().strip().split(":"))
        k = int(input()) % (1440 * 3)
        for _ in range(k):
            mm += 1
            if mm == 60:
                mm, hh = 0, hh + 1
            if hh == 24:
                hh = 0
        print(str(hh).zfill(2) + ":" + str(mm).zfill(2))
    """),
    public=("10:15\n50\n", "23:30\n45\n"),
    private=_clock_private,
    validator=dedent("""
        t = read_line()
        if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", t):
            fail("time must be HH:MM")
        ints(1, 0, 10**9)
        done()
    """),
)

# --- digit-root-steps --------------------------------------------------------------------------------------


def _digits(rng: random.Random, length: int) -> str:
    return str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(length - 1))


def _droot_private(rng: random.Random) -> list[str]:
    cases = ["1\n", "9\n", "10\n", "19\n", "99\n", "199\n", "1000000\n", "9" * 100000 + "\n"]
    cases += [_digits(rng, rng.randint(2, 30)) + "\n" for _ in range(4)]
    cases.append(_digits(rng, 100000) + "\n")
    return cases


DIGIT_ROOT_STEPS = ProblemSpec(
    name="digit-root-steps",
    statement=dedent("""
        Take a positive integer n. In one step, replace n by the sum of its decimal digits. Repeat while n has
        at least two digits. For example, 9875 -> 29 -> 11 -> 2 takes 3 steps and ends at 2.

        Count the steps and report the final one-digit number. A number that already has one digit needs
        0 steps.

        Input
        A single line contains the integer n without leading zeros. It may be very long.

        Output
        Print two integers separated by a space: the number of steps and the final one-digit number.

        Constraints
        1 <= n < 10^100000 (n has at most 100000 digits)
    """),
    rating=1000,
    tags=("math", "implementation"),
    solution=dedent("""
        s = input().strip()
        steps = 0
        while len(s) > 1:
            s = str(sum(map(int, s)))
            steps += 1
        print(steps, s)
    """),
    brute=dedent("""
        n = int(input())
        steps = 0
        while n >= 10:
            t = 0
            while n > 0:
                t += n % 10
                n //= 10
            n = t
            steps += 1
        print(steps, n)
    """),
    public=("9875\n", "7\n"),
    private=_droot_private,
    validator=dedent("""
        s = word("0123456789", 1, 100000)
        if s[0] == "0":
            fail("n must be positive without leading zeros")
        done()
    """),
    brute_max_chars=2000,
)

SPECS = [SUM_OF_TWO, MAX_IN_ARRAY, COUNT_VOWELS, REVERSE_WORDS, EVEN_SUM, CLOCK_ADD, DIGIT_ROOT_STEPS]
