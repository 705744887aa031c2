"""Candidate text in our own process (issue #27 item 5): every parse, compile and fingerprint of what a model
wrote is total, and dedup merges only programs that behave alike (docs/sandbox.md, "Candidate text in our
process")."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from alphagen import clustering, extract
from alphagen.evaluation.store import append_jsonl, read_jsonl
from alphagen.extract import extract_code, fingerprint, normalize, python_syntax_ok, with_stub_context
from alphagen.results import Candidate
from alphagen.sample_filter import dedup, example_outcomes
from alphagen.statuses import TestStatus
from alphagen.testgen.constraints import parse_constraints
from alphagen.testgen.generate import canonical
from alphagen.testgen.generator_skeleton import Skeleton
from alphagen.testgen.input_format import Leniency, learn_input_format
from alphagen.testgen.model_inputs import parse_generator
from alphagen.testgen.mutate_args import args_problem, parse_args

# Texts a red team (or an unlucky sample) can hand us. Each raised somewhere in our process before #27.
HOSTILE = {
    "sum_3000": "x = " + " + ".join(["1"] * 3000) + "\nprint(x)\n",  # compile(): RecursionError
    "parens_1e5": "x = " + "(" * 100_000 + "1" + ")" * 100_000 + "\n",
    "unary_1e5": "x = " + "-" * 100_000 + "1\n",  # the parser's stack: MemoryError
    "lambdas_1e4": "f = " + "lambda: " * 10_000 + "1\n",
    "calls_1e5": "x = f" + "()" * 100_000 + "\n",
    "nul": "print(1)\x00\n",
    "huge_decimal": "x = " + "9" * 5000 + "\n",
    "huge_hex": "x = 0x" + "f" * 20_000 + "\nprint(x)\n",  # parses; its repr() is past int()'s digit limit
    "surrogate": "print('\ud800')\n",
    "surrogate_name": "\udcff = 1\n",
    "mb_line": "x = '" + "a" * 1_000_000 + "'\n",
    "dense_60k": "x = [" + "1," * 30_000 + "]\n",  # 30k list items, just under the key cap: keyed, not raw
    "deep_indent": "".join(" " * i + "if 1:\n" for i in range(120)) + " " * 120 + "pass\n",
    "cpp_unterminated": 'int main() { puts("x); /* ',
    "cpp_raw": 'auto s = R"abc(never closed',
    "cpp_splice": "int ma\\\nin() {}\n",
}
HOSTILE_IDS = sorted(HOSTILE)


# -- totality -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE_IDS)
def test_the_python_compile_check_is_total(name: str) -> None:
    code = HOSTILE[name]
    ok = python_syntax_ok(code)
    assert isinstance(ok, bool)
    error = extract.python_compile_error(code)
    # A program that does not compile always has a message (its repair prompt shows it).
    assert (error is None) == ok and (ok or error)


def test_a_compiler_recursion_error_is_the_candidates_compile_error() -> None:
    # The case: one hostile program in the batch, and the honest one still gets its outcome.
    honest = Candidate(index=0, language="python", code="print(int(input()) * 2)\n")
    hostile = Candidate(index=1, language="python", code=HOSTILE["sum_3000"])
    no_examples = SimpleNamespace(example_inputs=(), example_expected=())
    out = example_outcomes(no_examples, [honest, hostile], executor=None)  # type: ignore[arg-type]
    assert out[0].status is TestStatus.OK
    assert out[1].status is TestStatus.COMPILE_ERROR and "RecursionError" in out[1].feedback


@pytest.mark.parametrize("name", HOSTILE_IDS)
@pytest.mark.parametrize("language", ["python", "cpp"])
def test_fingerprints_are_total(name: str, language: str) -> None:
    key = fingerprint(HOSTILE[name], language)
    assert len(key) == 64 and int(key, 16) >= 0
    assert fingerprint(HOSTILE[name], language) == key


@pytest.mark.parametrize("name", HOSTILE_IDS)
def test_stub_context_is_total(name: str) -> None:
    stub = "import math\n\n\ndef helper(x):\n    return x\n\n\ndef solve(x):\n    pass\n"
    code = HOSTILE[name]
    out = with_stub_context(code, stub, "solve")
    assert out.endswith(code)


def test_extracted_code_is_always_writable_as_utf8() -> None:
    code = extract_code("print('\ud800 \udfff')\n")
    code.encode("utf-8", "surrogateescape")  # what the sandbox does with a program's text
    # The sandbox's own convention (U+DC80..U+DCFF: raw bytes) is kept.
    assert extract_code("print('\udcff')\n") == "print('\udcff')\n"


@pytest.mark.parametrize("name", HOSTILE_IDS)
def test_generator_programs_are_total(name: str) -> None:
    code = HOSTILE[name]
    generator = parse_generator(code)
    assert generator is None or python_syntax_ok(generator)
    skeleton = Skeleton(head="def gen(rng):\n", tail="\nprint(gen(None))\n", example="{}")
    body = "".join("    " + line + "\n" for line in code.splitlines())
    program = skeleton.program(body)
    assert program is None or python_syntax_ok(program)


def test_generator_that_overflows_the_compiler_is_refused() -> None:
    assert parse_generator("print(" + " + ".join(["1"] * 3000) + ")\n") is None
    skeleton = Skeleton(head="def gen(rng):\n", tail="\n", example="{}")
    assert skeleton.program("    return " + " + ".join(["1"] * 3000) + "\n") is None


MODEL_INPUTS = {
    "deep_json": "[" * 100_000 + "]" * 100_000,
    "deep_json_900": "[[" + "[" * 900 + "]" * 900 + "]]",  # json.loads copes; json.dumps and type_of did not
    "huge_json_int": "[" + "9" * 5000 + "]",
    "huge_int_first": "9" * 5000 + "\n1 2 3\n",
    "huge_int_row": "3\n1 " + "9" * 5000 + " 3\n",
    "nul": "3\n1 2\x003\n",
    "surrogate": "3\n1 \ud800 3\n",
    "mb_line": "3\n" + "1 " * 500_000 + "\n",
}


@pytest.mark.parametrize("name", sorted(MODEL_INPUTS))
def test_model_written_inputs_are_checked_totally(name: str) -> None:
    text = MODEL_INPUTS[name]
    fmt = learn_input_format(["3\n1 2 3\n", "2\n5 6\n"], parse_constraints("1 <= n <= 10"))
    for leniency in Leniency:
        problem = fmt.problem(text, 10**7, leniency)
        assert problem is None or isinstance(problem, str)
    canon = canonical(text, "function")
    assert canon is None or parse_args(canon) is not None
    problem = args_problem(["[1, [2, 3]]", "[4, [5]]"], text, 10**7)
    assert problem is None or isinstance(problem, str)


def test_a_number_past_the_digit_limit_is_a_malformed_input() -> None:
    fmt = learn_input_format(["3\n1 2 3\n", "2\n5 6\n"], parse_constraints("1 <= n <= 10"))
    assert fmt.problem(MODEL_INPUTS["huge_int_row"], 10**7, Leniency.SHAPE) is not None
    assert fmt.problem("3\n1 2 3\n", 10**7, Leniency.SHAPE) is None


@pytest.mark.parametrize("name", sorted(MODEL_INPUTS))
def test_output_keys_are_total(name: str) -> None:
    stdout = MODEL_INPUTS[name].encode("utf-8", "surrogatepass")
    for norm in (clustering.OutputNorm(), clustering.OutputNorm(case_insensitive=True, float_digits=3)):
        assert isinstance(clustering.output_key(stdout, "ok", norm), str)


def test_the_run_store_keeps_a_candidate_with_a_lone_surrogate(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    append_jsonl(path, {"code": "print('\ud800')", "n": 1})
    append_jsonl(path, {"code": "print('é')", "n": 2})
    assert read_jsonl(path) == [{"code": "print('\ud800')", "n": 1}, {"code": "print('é')", "n": 2}]


def test_hostile_text_stays_cheap() -> None:
    # Totality must not cost seconds per candidate: the 1 MB line and the deep nests each take well under one.
    import time

    for name in ("mb_line", "dense_60k", "parens_1e5", "calls_1e5"):
        t0 = time.perf_counter()
        fingerprint(HOSTILE[name], "python")
        fingerprint(HOSTILE[name], "cpp")
        python_syntax_ok(HOSTILE[name])
        assert time.perf_counter() - t0 < 5, name


# -- C++ dedup soundness ------------------------------------------------------------------------------------------

MAIN = "#include <cstdio>\nint main() {{\n{}\n}}\n"

# Pairs g++ compiles into programs that behave differently: they must never share a fingerprint.
CPP_DISTINCT = {
    "slashes_in_string": ('puts("http://x");', 'puts("http://y");'),
    "comment_opener_in_string": ('puts("/*"); x++; puts("*/");', 'puts("/*"); puts("*/");'),
    "spaces_in_string": ('puts("a  b");', 'puts("a b");'),
    "escaped_quote": ('puts("\\"//"); x++;', 'puts("\\"//"); y++;'),
    "char_literal_quote": ("putchar('\"'); puts(\"//\"); x++;", "putchar('\"'); puts(\"//\"); y++;"),
    "raw_string": ('puts(R"d(a // ")d"); x++;', 'puts(R"d(a // ")d"); y++;'),
    "raw_string_spaces": ('puts(R"(a  b)");', 'puts(R"(a b)");'),
    "spliced_comment": ("// note \\\nx++;\nputs(\"a\");", "// note\nx++;\nputs(\"a\");"),
    "operators_glue": ("x = a+ +b;", "x = a++b;"),
    "minus_minus": ("x = a - -b;", "x = a--b;"),
    "pp_number": ("x = 0x1e+1;", "x = 0x1e + 1;"),
    "literal_prefix": ('auto s = L"x";', 'auto s = L "x";'),
    "literal_suffix": ('auto s = "x"_s;', 'auto s = "x" _s;'),
}
# Pairs that differ only in comments and insignificant layout: they still merge.
CPP_SAME = {
    "comments": ("int x = 1; // one\nputs(\"a\"); /* two */", "int x = 1;\nputs(\"a\");"),
    "spacing": ("for(int i=0;i<n;i++){puts(\"a\");}", "for (int i = 0; i < n; i++) {\n    puts(\"a\");\n}"),
    "brace_style": ("if (x) {\n  y();\n}", "if (x)\n{\n    y();\n}"),
}


def _cpp(body: str) -> str:
    return MAIN.format(body)


@pytest.mark.parametrize("name", sorted(CPP_DISTINCT))
def test_cpp_programs_that_behave_differently_never_merge(name: str) -> None:
    a, b = CPP_DISTINCT[name]
    assert fingerprint(_cpp(a), "cpp") != fingerprint(_cpp(b), "cpp")


@pytest.mark.parametrize("name", sorted(CPP_SAME))
def test_cpp_programs_equal_up_to_comments_and_layout_merge(name: str) -> None:
    a, b = CPP_SAME[name]
    assert fingerprint(_cpp(a), "cpp") == fingerprint(_cpp(b), "cpp")


def test_cpp_url_in_a_string_does_not_inherit_another_programs_verdict() -> None:
    # The red team's case: the second program was a duplicate of the first and inherited its passed_examples.
    a = Candidate(index=0, language="cpp", code=_cpp('puts("see http://a.example/1");'))
    b = Candidate(index=1, language="cpp", code=_cpp('puts("see http://a.example/2");'))
    assert [c.duplicate_of for c in dedup([a, b])] == [None, None]


def test_cpp_preprocessor_spacing_counts_where_it_changes_the_program() -> None:
    # Function-like vs object-like macro.
    a = "#define F(x) (x)\nint main() { return F(1); }\n"
    b = "#define F (x) (x)\nint main() { return F(1); }\n"
    assert fingerprint(a, "cpp") != fingerprint(b, "cpp")
    # A directive's tokens stay on its line.
    c = "#define X 1\nint y = X;\n"
    d = "#define X 1 int y = X;\n"
    assert fingerprint(c, "cpp") != fingerprint(d, "cpp")
    # A comment ending in a backslash continues onto (and comments out) the next line, even in a directive.
    e = "#define X 1 // \\\n+ 1\nint y = X;\n"
    f = "#define X 1 //\n+ 1\nint y = X;\n"
    assert fingerprint(e, "cpp") != fingerprint(f, "cpp")


def test_cpp_stringizing_and_line_numbers_make_spacing_and_lines_count() -> None:
    s = "#include <cstdio>\n#define S(x) #x\nint main() {{ puts(S({})); }}\n"
    assert fingerprint(s.format("a+b"), "cpp") != fingerprint(s.format("a + b"), "cpp")
    line = "#include <cstdio>\nint main() {{{}printf(\"%d\", __LINE__); }}\n"
    assert fingerprint(line.format(" "), "cpp") != fingerprint(line.format("\n"), "cpp")
    # Comments on the same line still do not count.
    assert fingerprint(line.format(" /* c */ "), "cpp") == fingerprint(line.format(" "), "cpp")


@pytest.mark.parametrize("text", [
    'int main() { puts("never closed); }\n',  # unterminated literal
    "int main() { /* never closed }\n",
    'auto s = R"delimiter_too_long_for_cpp(x)delimiter_too_long_for_cpp";\n',
    "int ma\\\nin() { return 0; }\n",  # a splice inside a token
    "int caf\\u00e9 = 1;\n",  # a universal character name
    "in\x00t main() {}\n",  # g++ drops NULs
    "int main() { return 0; }\r\n",
    'int main() { puts("??/"); }\n',  # a trigraph
    "%:define X 1\nint main() { return X; }\n",  # a digraph directive
    "\ufeff#define F (x)\nint main() {}\n",  # a byte-order mark, which g++ skips
    "#include <a//b.h>\nint main() {}\n",
])
def test_cpp_text_the_lexer_is_unsure_of_merges_only_when_identical(text: str) -> None:
    assert normalize(text, "cpp") == f"raw\0{text}"
    assert fingerprint(text, "cpp") != fingerprint(text + "// comment\n", "cpp")


# -- Python dedup soundness ---------------------------------------------------------------------------------------


def test_python_tree_too_deep_to_dump_merges_only_when_identical() -> None:
    # 1000 terms: it compiles and runs, but ast.dump overflows Python's recursion. The old fallback (a token stream
    # without newlines) merged these two programs, which print 5 and 2.
    deep = "y = " + "+".join(["1"] * 1000) + "\n"
    a = deep + "x = 5\n-3\nprint(x)\n"
    b = deep + "x = 5-3\nprint(x)\n"
    assert python_syntax_ok(a) and python_syntax_ok(b)
    assert fingerprint(a, "python") != fingerprint(b, "python")


def test_python_keys_keep_docstrings_and_positions_when_they_can_be_read() -> None:
    # __doc__ is readable: docstrings always count.
    doc = 'def f():\n    """{}"""\n    return 1\nprint(f.__doc__)\n'
    assert fingerprint(doc.format("a"), "python") != fingerprint(doc.format("b"), "python")
    # A program that reads its line numbers: a blank line more is a different program.
    lineno = "import sys\n{}print(sys._getframe().f_lineno)\n"
    assert fingerprint(lineno.format(""), "python") != fingerprint(lineno.format("\n"), "python")
    # One that cannot: comments and blank lines still merge.
    plain = "x = int(input())\n{}print(x * 2)\n"
    assert fingerprint(plain.format(""), "python") == fingerprint(plain.format("# twice\n\n"), "python")


def test_python_text_that_does_not_parse_merges_only_when_identical() -> None:
    broken = "def f(:\n    return 1\n"
    assert normalize(broken, "python") == f"raw\0{broken}"
    assert fingerprint(broken, "python") != fingerprint(broken + "# c\n", "python")
