import pytest

from alphagen.extract import extract_code, fingerprint, normalize, python_syntax_ok


def test_prefilled_completion_is_the_code() -> None:
    assert extract_code("print(1)\n") == "print(1)\n"


def test_own_fence_block_is_extracted() -> None:
    text = "```python\nn = int(input())\nprint(n)\n```\nThis reads n."
    assert extract_code(text) == "n = int(input())\nprint(n)\n"


def test_text_after_a_stray_fence_is_dropped() -> None:
    assert extract_code("print(2)\n```\nExplanation") == "print(2)\n"


def test_function_prefix_is_prepended() -> None:
    sig = "def add(a, b):\n"
    assert extract_code("    return a + b\n", sig) == "def add(a, b):\n    return a + b\n"


def test_comments_and_layout_do_not_make_programs_distinct() -> None:
    a = "x = int(input())\nprint(x*2)\n"
    b = "# double it\nx = int( input() )\n\n\nprint(x * 2)  # done\n"
    assert fingerprint(a, "python") == fingerprint(b, "python")
    assert fingerprint(a, "python") != fingerprint("x = int(input())\nprint(x*3)\n", "python")


def test_language_is_part_of_the_key() -> None:
    assert fingerprint("x", "python") != fingerprint("x", "cpp")


def test_cpp_comments_and_whitespace_are_normalized() -> None:
    a = "int main(){ /* hi */ return 0; } // end\n"
    b = "int   main(){\n  return 0;\n}\n"
    assert normalize(a, "cpp") == normalize(b, "cpp")


def test_broken_python_still_gets_a_key() -> None:
    assert normalize("def f(:\n  pass", "python")
    assert not python_syntax_ok("def f(:\n  pass")
    assert python_syntax_ok("print(1)")


STUB = '''import math
from typing import List


def is_even(x: int) -> bool:
    """Helper the task expects to be used."""
    return x % 2 == 0


LIMIT = 10


@staticmethod
def decorated(x):
    return x


def count_even(xs: List[int]) -> int:
    """Count the even numbers below LIMIT."""
'''


def test_stub_context_adds_only_what_the_program_uses_without_defining() -> None:
    from alphagen.extract import with_stub_context

    program = "def count_even(xs):\n    return sum(1 for x in xs if is_even(x) and x < LIMIT)\n"
    full = with_stub_context(program, STUB, "count_even")
    assert full.endswith(program)
    head = full[: -len(program)]
    # Imports, the helper (body included), the constant and the decorated helper; never the entry point's stub.
    assert "import math" in head and "from typing import List" in head and "LIMIT = 10" in head
    assert "return x % 2 == 0" in head and "@staticmethod\ndef decorated" in head
    assert "Count the even numbers" not in head
    namespace: dict = {}
    exec(full, namespace)  # noqa: S102 - our own test program
    assert namespace["count_even"]([1, 2, 4, 12]) == 2
    # A program that defines everything itself is left alone, and one that does not parse too.
    own = "import math\nfrom typing import List\nLIMIT = 3\ndef is_even(x):\n    return True\n" \
          "def decorated(x):\n    return x\ndef count_even(xs):\n    return 0\n"
    assert with_stub_context(own, STUB, "count_even") == own
    assert with_stub_context("def count_even(:\n", STUB, "count_even") == "def count_even(:\n"


def test_missing_imports_are_added_for_standard_names_bound_nowhere() -> None:
    from alphagen.extract import with_missing_imports

    code = "n = int(sys.stdin.readline())\nd = defaultdict(int)\nprint(gcd(n, 4), math.pi)\n"
    fixed = with_missing_imports(code)
    assert fixed == ("from collections import defaultdict\nfrom math import gcd\nimport math\nimport sys\n" + code)
    # The program now runs where it raised NameError before.
    import io
    import sys as real_sys

    out, old = io.StringIO(), (real_sys.stdin, real_sys.stdout)
    real_sys.stdin, real_sys.stdout = io.StringIO("6\n"), out
    try:
        exec(compile(fixed, "main.py", "exec"), {})
    finally:
        real_sys.stdin, real_sys.stdout = old
    assert out.getvalue().startswith("2 3.14")


@pytest.mark.parametrize("code", [
    "import sys\nprint(sys.argv)\n",  # imported already
    "def f(math):\n    return math.pi\n",  # a parameter of that name
    "for List in range(3):\n    print(List)\n",  # a loop variable
    "from os.path import *\nprint(sqrt(2))\n",  # a star import may bind anything
    "def f(:\n    pass\n",  # does not parse: its compile error is its verdict
    "print(undefined_name)\n",  # not a standard-library name we know
    "try:\n    pass\nexcept Exception as re:\n    print(re)\n",  # an except name
])
def test_missing_imports_leave_programs_that_bind_or_cannot_use_them(code: str) -> None:
    from alphagen.extract import with_missing_imports

    assert with_missing_imports(code) == code


def test_missing_imports_go_after_future_imports() -> None:
    from alphagen.extract import with_missing_imports

    code = '"""Doc."""\nfrom __future__ import annotations\nx: List[int] = [1]\nprint(x)'
    fixed = with_missing_imports(code)
    assert fixed == ('"""Doc."""\nfrom __future__ import annotations\nfrom typing import List\n'
                     'x: List[int] = [1]\nprint(x)')
    compile(fixed, "main.py", "exec")
