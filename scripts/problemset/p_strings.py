"""String problems: palindromes, run-length encoding, anagram classes."""

from __future__ import annotations

import random

from spec import ProblemSpec, dedent, word

# --- almost-palindrome -------------------------------------------------------------------------------------


def _near_palindrome(rng: random.Random, length: int, alphabet: str) -> str:
    """A palindrome with sometimes one extra character inserted and sometimes one more change."""
    half = word(rng, length // 2, alphabet)
    s = half + (word(rng, 1, alphabet) if length % 2 else "") + half[::-1]
    kind = rng.randint(0, 3)
    if kind >= 1:
        pos = rng.randint(0, len(s))
        s = s[:pos] + rng.choice(alphabet) + s[pos:]
    if kind == 3:
        pos = rng.randrange(len(s))
        s = s[:pos] + rng.choice(alphabet) + s[pos + 1:]
    return s


def _multi(cases: list[str]) -> str:
    return f"{len(cases)}\n" + "".join(c + "\n" for c in cases)


def _pal_private(rng: random.Random) -> list[str]:
    tests = [
        _multi(["a", "ab", "aa", "abc", "aab", "baa", "abca", "abcd"]),
        # Both greedy branches must be tried: deleting the left char fails here, deleting the right works.
        _multi(["cbbcc", "ccbbc", "abccbaa", "aabccba", "ebcbbececabbacecbbcbe"]),
        _multi(["abcdefedcbax", "xabcdefedcba", "abcdefgedcbay", "abab", "ababab"]),
        _multi(["z"]),
    ]
    for _ in range(4):
        tests.append(_multi([_near_palindrome(rng, rng.randint(1, 12), "ab") for _ in range(60)]))
    for _ in range(2):
        tests.append(_multi([_near_palindrome(rng, rng.randint(1, 30), "abc") for _ in range(40)]))
    tests.append(_multi([_near_palindrome(rng, 99999, "ab")]))
    tests.append(_multi(["a" * 49999 + "b" + "a" * 50000]))
    many: list[str] = []
    while sum(len(s) for s in many) < 90000:
        many.append(_near_palindrome(rng, rng.randint(1, 36), "ab"))
    tests.append(_multi(many[:10000]))
    return tests


ALMOST_PALINDROME = ProblemSpec(
    name="almost-palindrome",
    statement=dedent("""
        A string is a palindrome if it reads the same from left to right and from right to left. Call a string
        almost a palindrome if it is a palindrome, or it becomes one after deleting exactly one of its
        characters. For each given string, decide whether it is almost a palindrome.

        Input
        The first line contains an integer t, the number of test cases.
        Each of the next t lines contains a non-empty string s of lowercase English letters.

        Output
        For each test case print YES if the string is almost a palindrome and NO otherwise, one per line.

        Constraints
        1 <= t <= 10000
        1 <= |s| <= 100000
        The total length of all strings does not exceed 100000.
    """),
    rating=1300,
    tags=("strings", "two pointers", "greedy"),
    solution=dedent("""
        import sys

        def is_pal(s, i, j):
            while i < j:
                if s[i] != s[j]:
                    return False
                i += 1
                j -= 1
            return True

        def almost(s):
            i, j = 0, len(s) - 1
            while i < j and s[i] == s[j]:
                i += 1
                j -= 1
            if i >= j:
                return True
            return is_pal(s, i + 1, j) or is_pal(s, i, j - 1)

        data = sys.stdin.read().split()
        t = int(data[0])
        print("\\n".join("YES" if almost(s) else "NO" for s in data[1:1 + t]))
    """),
    brute=dedent("""
        t = int(input())
        for _ in range(t):
            s = input().strip()
            ok = s == s[::-1]
            for k in range(len(s)):
                u = s[:k] + s[k + 1:]
                if u == u[::-1]:
                    ok = True
            print("YES" if ok else "NO")
    """),
    public=("4\nabca\nracecar\nabc\nx\n",),
    private=_pal_private,
    validator=dedent("""
        (t,) = ints(1, 1, 10000)
        total = 0
        for _ in range(t):
            total += len(word(LOWER, 1, 100000))
        if total > 100000:
            fail("total length exceeds 100000")
        done()
    """),
)

# --- run-length-encoding -----------------------------------------------------------------------------------


def _runs(rng: random.Random, n_runs: int, max_len: int, alphabet: str) -> str:
    out, prev = [], ""
    for _ in range(n_runs):
        ch = rng.choice([c for c in alphabet if c != prev])
        out.append(ch * rng.randint(1, max_len))
        prev = ch
    return "".join(out)


def _rle_private(rng: random.Random) -> list[str]:
    cases = ["a\n", "ab\n", "zzzzzzzzzz\n", "a" * 100000 + "\n", "ab" * 2000 + "\n", "aaaaaaaaaaab\n",
             "baaaaaaaaaaa\n"]
    cases += [_runs(rng, rng.randint(1, 15), 12, "abc") + "\n" for _ in range(4)]
    cases.append(_runs(rng, 3000, 60, "abcdefghijklmnopqrstuvwxyz")[:100000] + "\n")
    return cases


RUN_LENGTH_ENCODING = ProblemSpec(
    name="run-length-encoding",
    statement=dedent("""
        To save space, a string is compressed as follows: every maximal block of equal consecutive letters is
        written as the letter followed by the length of the block in decimal. For example, aaabccdddd becomes
        a3b1c2d4. Compress the given string.

        Input
        A single line contains a string s of lowercase English letters.

        Output
        Print the compressed string.

        Constraints
        1 <= |s| <= 100000
    """),
    rating=900,
    tags=("strings", "implementation"),
    solution=dedent("""
        s = input().strip()
        out = []
        i = 0
        while i < len(s):
            j = i
            while j < len(s) and s[j] == s[i]:
                j += 1
            out.append(s[i] + str(j - i))
            i = j
        print("".join(out))
    """),
    brute=dedent("""
        import itertools
        s = input().strip()
        print("".join(k + str(len(list(g))) for k, g in itertools.groupby(s)))
    """),
    public=("aaabccdddd\n", "abc\n"),
    private=_rle_private,
    validator=dedent("""
        word(LOWER, 1, 100000)
        done()
    """),
    brute_max_chars=10**6,
)

# --- anagram-classes ---------------------------------------------------------------------------------------


def _words_input(words: list[str]) -> str:
    return f"{len(words)}\n" + "\n".join(words) + "\n"


def _shuffled(rng: random.Random, w: str) -> str:
    chars = list(w)
    rng.shuffle(chars)
    return "".join(chars)


def _anagram_private(rng: random.Random) -> list[str]:
    cases = [
        _words_input(["a"]),
        _words_input(["ab", "ba", "ab"]),
        _words_input(["aab", "abb"]),  # same letters, different counts: not anagrams
        _words_input(["abc", "ab", "a"]),
        _words_input(["listen", "silent", "enlist", "google", "gogole", "cat"]),
    ]
    for _ in range(4):
        bases = [word(rng, rng.randint(1, 5), "abc") for _ in range(5)]
        cases.append(_words_input([_shuffled(rng, rng.choice(bases)) for _ in range(rng.randint(1, 30))]))
    bases = [word(rng, 8, "abcdef") for _ in range(1000)]
    cases.append(_words_input([_shuffled(rng, rng.choice(bases)) for _ in range(10000)]))
    cases.append(_words_input([word(rng, 100000, "ab")]))
    cases.append(_words_input([word(rng, 1, "abcdefghijklmnopqrstuvwxyz") for _ in range(20000)]))
    return cases


ANAGRAM_CLASSES = ProblemSpec(
    name="anagram-classes",
    statement=dedent("""
        Two words are anagrams if one can be obtained from the other by rearranging its letters (so they have
        the same letters with the same multiplicities; every word is an anagram of itself). Split the given
        words into classes so that two words are in the same class exactly when they are anagrams. How many
        classes are there?

        Input
        The first line contains an integer n, the number of words.
        Each of the next n lines contains one non-empty word of lowercase English letters.

        Output
        Print one integer: the number of anagram classes.

        Constraints
        1 <= n <= 20000
        The total length of all words does not exceed 100000.
    """),
    rating=1100,
    tags=("strings", "hashing", "sortings"),
    solution=dedent("""
        import sys
        data = sys.stdin.read().split()
        n = int(data[0])
        print(len({"".join(sorted(w)) for w in data[1:1 + n]}))
    """),
    brute=dedent("""
        from collections import Counter
        n = int(input())
        words = [input().strip() for _ in range(n)]
        reps = []
        for w in words:
            c = Counter(w)
            if not any(c == r for r in reps):
                reps.append(c)
        print(len(reps))
    """),
    public=("5\nlisten\nsilent\ncat\nact\ndog\n",),
    private=_anagram_private,
    validator=dedent("""
        (n,) = ints(1, 1, 20000)
        total = 0
        for _ in range(n):
            total += len(word(LOWER, 1, 100000))
        if total > 100000:
            fail("total length exceeds 100000")
        done()
    """),
)

SPECS = [ALMOST_PALINDROME, RUN_LENGTH_ENCODING, ANAGRAM_CLASSES]
