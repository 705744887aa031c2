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
