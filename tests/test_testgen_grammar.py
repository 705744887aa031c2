"""The learned format as a decoding grammar and as a generator skeleton: the grammar accepts the examples and
rejects malformed inputs; a random model decoding under it writes only well-formed inputs (reproducibly, for any
batch size); without a learned format sampling falls back, with a logged reason; the skeleton prints well-formed
inputs from a trivial `gen` body in the real sandbox."""

from __future__ import annotations

import logging
import random

import pytest
from xgrammar.testing import _is_grammar_accept_string as accepts

from alphagen.models import LoadedModel
from alphagen.problems.model import PublicView, Test
from alphagen.sampling.factory import make_sampler
from alphagen.testgen import model_inputs as mi
from alphagen.testgen.constraints import parse_constraints
from alphagen.testgen.generator_skeleton import generator_skeleton
from alphagen.testgen.grammar import input_grammar, int_range
from alphagen.testgen.input_format import Leniency, learn_input_format
from alphagen.testgen.model_inputs import seed_inputs
from alphagen.testgen.validate import generator_outputs
from sandbox import Executor
from sandbox.values import Limits

FORMATS = [
    (["5\n1 2 3 4 5\n", "3\n10 1 2\n"], "1 ≤ n ≤ 50\n1 ≤ a_i ≤ 1000", ["3\n1 2\n", "2\n1 2000\n", "x\n"]),
    (["4 3\n1 2\n2 3\n3 4\n"], "2 ≤ n ≤ 10^5, 1 ≤ m ≤ 10^5", ["3 2\n1 2\n", "3 1\n1 2 3\n"]),
    (["2\n3\n1 2 3\n2\n5 6\n"], "1 ≤ t ≤ 100", ["2\n3\n1 2 3\n", "1\n2\n1 2 3\n"]),
    (["3 4\nS.#.\n.##T\n....\n", "2 2\nS#\n#T\n"], "", ["2 2\nS#\n#\n", "1 2\nSTX\n"]),
    (["6\nabcabc\n"], "1 ≤ n ≤ 10", ["3\nabcd\n", "2\nA1\n"]),
    (["4\n1 1 2\n", "3\n1 2\n"], "", ["4\n1 1 2 3\n"]),
]


def _view(examples: list[str], statement: str) -> PublicView:
    return PublicView(
        name="p",
        description=statement,
        kind="stdio",
        public_tests=tuple(Test(e, "0\n") for e in examples),
        entry_point=None,
        signature=None,
        time_limit_s=1.0,
        memory_limit_mb=256,
        rating=None,
        tags=(),
    )


def test_int_range_grammar_is_exact() -> None:
    rng = random.Random(0)
    for lo, hi in [(1, 100_000), (-5, 17), (0, 0), (-(10**9), 10**9), (12, 345)]:
        g = "root ::= " + int_range(lo, hi)
        for v in [lo - 1, lo, lo + 1, hi - 1, hi, hi + 1, *(rng.randint(lo, hi) for _ in range(20))]:
            assert accepts(g, str(v)) == (lo <= v <= hi), (lo, hi, v)
        assert not accepts(g, "01") and not accepts(g, "+1")


@pytest.mark.parametrize(("examples", "statement", "malformed"), FORMATS)
def test_grammar_accepts_the_examples_and_rejects_malformed(
    examples: list[str], statement: str, malformed: list[str]
) -> None:
    g = input_grammar(learn_input_format(examples, parse_constraints(statement)))
    assert g is not None
    assert all(accepts(g, e) for e in examples)
    assert not any(accepts(g, m) for m in malformed)


def test_constrained_model_inputs_are_well_formed_reproducible_batch_independent(tiny_model: LoadedModel) -> None:
    # A random model is the perfect adversary: unconstrained it never writes a well-formed input.
    sampler = make_sampler(tiny_model, "hf")
    for examples, statement, _ in FORMATS:
        fmt = learn_input_format(examples, parse_constraints(statement))
        grammar = input_grammar(fmt)
        view = _view(examples, statement)
        got = mi.model_inputs(sampler, tiny_model.tokenizer, view, 4, 1.0, 200, 3, grammar)
        assert len(got) == 4
        assert all(fmt.problem(t, 10_000, Leniency.EXACT) is None for t in got), got
    examples, statement, _ = FORMATS[0]
    grammar = input_grammar(learn_input_format(examples, parse_constraints(statement)))
    view = _view(examples, statement)
    from alphagen.sampling import PromptRequest, SamplingParams

    def run(batch: int) -> list[str]:
        params = SamplingParams(temperature=1.0, max_new_tokens=120, seed=9, stop=("```",), batch_size=batch)
        request = PromptRequest(mi.direct_prompt(view, tiny_model.tokenizer), count=5, grammar=grammar)
        return [c.text for c in sorted(sampler.sample([request], params), key=lambda c: c.sample_index)]

    assert run(1) == run(5)


def test_without_a_learned_format_sampling_falls_back_with_a_reason(
    tiny_model: LoadedModel, caplog: pytest.LogCaptureFixture
) -> None:
    fmt = learn_input_format(["1 2\n\n3\n"])  # a blank inner line: no skeleton
    assert fmt.template is None and input_grammar(fmt) is None
    sampler = make_sampler(tiny_model, "hf")
    view = _view(["1 2\n\n3\n"], "")
    with caplog.at_level(logging.INFO, logger="alphagen.testgen.model_inputs"):
        mi.model_inputs(sampler, tiny_model.tokenizer, view, 2, 1.0, 8, 0, None, "no input format learned")
    assert "unconstrained inputs: no input format learned" in caplog.text
    # A backend that cannot constrain refuses the grammar; the source falls back and says so.
    caplog.clear()
    generate = make_sampler(tiny_model, "generate")
    examples, statement, _ = FORMATS[0]
    grammar = input_grammar(learn_input_format(examples, parse_constraints(statement)))
    with caplog.at_level(logging.INFO, logger="alphagen.testgen.model_inputs"):
        mi.model_inputs(generate, tiny_model.tokenizer, _view(examples, statement), 1, 1.0, 8, 0, grammar)
    assert "does not support grammar-constrained requests" in caplog.text


def test_generator_skeleton_takes_the_shapes_a_small_model_returns() -> None:
    # Seen from the embedded model: a bare list for the only value, a `yield`, `return n, a` in docstring order,
    # module-level `random` instead of rng (seeded too, so still deterministic). A wrong shape prints nothing.
    one_block = FORMATS[1]  # "x" and "rows"
    only_array = FORMATS[0]  # "a" only
    cases = [
        (only_array, "    return [random.randint(1, 9) for _ in range(rng.randint(1, 5))]\n", True),
        (only_array, "    yield {'a': [rng.randint(1, 9) for _ in range(3)]}\n", True),
        (one_block, "    n = rng.randint(2, 9)\n    return n, [(1, 2)] * rng.randint(1, 4)\n", True),
        (one_block, "    return [1, 2, 3]\n", False),
    ]
    with Executor(workers=2) as ex:
        for (examples, statement, _), body, prints in cases:
            fmt = learn_input_format(examples, parse_constraints(statement))
            skeleton = generator_skeleton(fmt, examples[0])
            assert skeleton is not None
            program = skeleton.program(body)
            assert program is not None
            seeds = seed_inputs([0, 1, 0])
            outs = generator_outputs(ex, [program], seeds, Limits(time_s=2.0), 10_000, lambda k: None)[0]
            if not prints:
                assert outs == [], (body, outs)
                continue
            assert len(outs) == 3 and outs[0] == outs[2], (body, outs)  # same seed, same input
            assert all(fmt.problem(o, 10_000, Leniency.EXACT) is None for o in outs), (body, outs)


def test_the_plain_body_shown_in_the_prompt_prints_well_formed_inputs() -> None:
    # The prompt shows a plain `gen` for the model to improve on; it must itself be a working generator.
    with Executor(workers=2) as ex:
        for examples, statement, _ in FORMATS:
            fmt = learn_input_format(examples, parse_constraints(statement))
            skeleton = generator_skeleton(fmt, examples[0])
            if skeleton is None:
                continue
            program = skeleton.program(skeleton.plain)
            assert program is not None, skeleton.plain
            outs = generator_outputs(ex, [program], seed_inputs(range(6)), Limits(time_s=2.0), 10_000, lambda k: None)
            assert len(outs[0]) == 6 and len(set(outs[0])) > 1, (skeleton.plain, outs)
            assert all(fmt.problem(o, 10_000, Leniency.EXACT) is None for o in outs[0]), (skeleton.plain, outs)


def test_gen_body_sampling_stops_where_the_function_ends() -> None:
    from alphagen.testgen.generator_skeleton import BODY_STOPS

    completion = "    return {'a': [1]}\n\n\nif __name__ == '__main__':\n    print(gen(None))\n"
    cut = min(i for i in (completion.find(s) for s in BODY_STOPS) if i >= 0)
    assert completion[:cut] == "    return {'a': [1]}"
    # No stop fires inside an ordinary body (indented lines, one blank line).
    body = "    n = rng.randint(1, 5)\n\n    # sizes\n    for _ in range(n):\n        pass\n    return {}\n"
    assert not any(s in body for s in BODY_STOPS)


def test_generator_skeleton_prints_well_formed_inputs_in_the_sandbox() -> None:
    bodies = {
        0: "    n = rng.randint(1, 50)\n    return {'a': [rng.randint(1, 1000) for _ in range(n)]}\n",
        1: "    n = rng.randint(2, 9)\n    return {'x': n, 'rows': [(rng.randint(1, n), rng.randint(1, n))"
        " for _ in range(rng.randint(1, 5))]}\n",
        2: "    return {'cases': [{'a': [rng.randint(1, 9) for _ in range(rng.randint(1, 4))]}"
        " for _ in range(rng.randint(1, 3))]}\n",
        3: "    w = rng.randint(1, 5)\n    return {'grid': [''.join(rng.choice('.#') for _ in range(w))"
        " for _ in range(rng.randint(1, 4))]}\n",
        4: "    return {'s': ''.join(rng.choice('ab') for _ in range(rng.randint(1, 10)))}\n",
    }
    with Executor(workers=2) as ex:
        for k, body in bodies.items():
            examples, statement, _ = FORMATS[k]
            fmt = learn_input_format(examples, parse_constraints(statement))
            skeleton = generator_skeleton(fmt, examples[0])
            assert skeleton is not None and "Example: {" in skeleton.head
            program = skeleton.program(body + "print('its own output is cut off')\n")
            assert program is not None
            outs = generator_outputs(ex, [program], seed_inputs(range(4)), Limits(time_s=2.0), 10_000, lambda k: None)
            assert len(outs[0]) == 4 and len(set(outs[0])) > 1, (k, outs)
            assert all(fmt.problem(o, 10_000, Leniency.EXACT) is None for o in outs[0]), (k, outs)
