"""The plan pre-fill (issue #29): the program starts with comments naming its algorithm and running time.

The plan is pre-filled as a comment header after the code fence, so the sampler's stop at the closing fence and
`extract.extract_code` work as for any sample, and the program that comes out starts with the plan and compiles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from alphagen import extract
from alphagen.cli import main
from alphagen.config import SolveConfig
from alphagen.draws import plan_sampling
from alphagen.problems.model import HiddenTests, Problem, Test
from alphagen.prompting import PLAN_ASK, PLAN_ASK_FUNCTION, build_prompts
from alphagen.sampling import Completion
from alphagen.testgen import TestGenConfig

if TYPE_CHECKING:
    from alphagen.models import LoadedModel
    from sandbox import Executor

PY_HEADER = "# Algorithm:"
CPP_HEADER = "// Algorithm:"
# What a model writes after the header: the rest of the open comment line, more plan lines, the code, the fence.
PY_COMPLETION = (" divisors come in pairs, try i up to sqrt(n).\n# Time: O(sqrt(n)) = 3*10^7 steps for n = 10^15.\n\n"
                 "n, k = map(int, input().split())\nprint(n, k)\n```")


class ChatTokenizer:
    """Stands in for a tokenizer's chat template: renders messages as role-tagged text."""

    chat_template = "fake"

    def apply_chat_template(self, messages: list[dict[str, Any]], tokenize: bool, add_generation_prompt: bool) -> str:
        body = "".join(f"<|{m['role']}|>{m['content']}<|end|>" for m in messages)
        return body + ("<|assistant|>" if add_generation_prompt else "")


def stdio_problem() -> Problem:
    return Problem(name="kth-divisor", description="Print the k-th divisor of n (1 <= n <= 10^15, 1 <= k <= 10^9).",
                   public_tests=(Test("4 2\n", "2\n"),), private_tests=HiddenTests((Test("5 3\n", "-1\n"),)))


def function_problem() -> Problem:
    stub = 'import math\n\ndef half(x):\n    return x / 2\n\ndef f(x):\n    """Half of sqrt."""\n'
    return Problem(name="fn", description="Half of sqrt.", kind="function", entry_point="f", signature=stub,
                   public_tests=(Test("[4]", "1.0"),))


def user_turn(text: str) -> str:
    return text.split("<|user|>")[1].split("<|end|>")[0]


def test_default_prefill_is_still_the_fence() -> None:
    assert SolveConfig().prefill == "fence"
    g = build_prompts(ChatTokenizer(), stdio_problem().public_view(), 4, seed=0)[0]
    assert g.text.endswith("<|assistant|>```python\n") and g.code_prefix == ""
    assert PLAN_ASK not in g.text


@pytest.mark.parametrize(("language", "header"), [("python", PY_HEADER), ("cpp", CPP_HEADER)])
def test_plan_prompt_ends_with_the_header_and_asks_for_the_plan(language: Any, header: str) -> None:
    g = build_prompts(ChatTokenizer(), stdio_problem().public_view(), 4, seed=0, language=language,
                      prefill="plan")[0]
    fence = "```python\n" if language == "python" else "```cpp\n"
    assert g.text.endswith("<|assistant|>" + fence + header)
    # The header is the code prefix, so the program is the header plus the completion.
    assert g.code_prefix == header and not g.stub_prefilled
    assert user_turn(g.text).endswith(f"code block.\n{PLAN_ASK}")


def test_extracted_plan_program_compiles_and_starts_with_the_plan() -> None:
    g = build_prompts(ChatTokenizer(), stdio_problem().public_view(), 4, seed=0, prefill="plan")[0]
    code = extract.extract_code(PY_COMPLETION, g.code_prefix)
    # The model's continuation of the open line stayed inside the comment.
    assert code.startswith("# Algorithm: divisors come in pairs") and code.endswith("print(n, k)\n")
    assert extract.python_compile_error(code) is None
    # Without the header in the prefix the first line would be bare prose: that is why it is part of the prefix.
    assert extract.python_compile_error(extract.extract_code(PY_COMPLETION)) is not None


def test_function_plan_keeps_the_stubs_helpers_and_asks_without_limits() -> None:
    p = function_problem()
    plan = plan_sampling(p, SolveConfig(n=1, prefill="plan"), ChatTokenizer())
    group = plan.groups[0]
    assert group.code_prefix == PY_HEADER
    assert user_turn(group.text).endswith(PLAN_ASK_FUNCTION)
    comp = Completion(request_index=0, sample_index=0, num_tokens=9, finish_reason="stop",
                      text=" one square root.\n# Time: O(1).\ndef f(x):\n    return half(math.sqrt(x))\n```")
    code = plan.candidate(comp).code
    # The model wrote the whole function after the plan, so the stub's import and helper come back before it.
    assert code.startswith("import math\ndef half(x):") and "# Algorithm: one square root." in code
    namespace: dict[str, Any] = {}
    exec(compile(code, "<plan>", "exec"), namespace)  # noqa: S102 - our own fixed program
    assert namespace["f"](4) == 1.0


def test_solve_with_the_plan_prefill_end_to_end(tiny_model: LoadedModel, executor: Executor) -> None:
    from alphagen.pipeline import Models, solve
    from alphagen.sampling.factory import make_sampler

    cfg = SolveConfig(n=2, seed=0, max_new_tokens=8, prefill="plan",
                      testgen=TestGenConfig(sources=("mutation",), num_mutations=4, max_inputs=4))
    models = Models(code=tiny_model, sampler=make_sampler(tiny_model), test=None, test_sampler=None)
    result = solve(stdio_problem(), cfg, models=models, executor=executor)
    assert len(result.candidates) == 2
    for c in result.candidates:
        assert c.code.startswith(PY_HEADER)
        assert 1 <= c.meta["num_tokens"] <= 8


def test_cli_rejects_a_bad_prefill_and_lists_plan() -> None:
    res = CliRunner().invoke(main, ["solve", "problems/sum-of-two.json", "--prefill", "think"])
    assert res.exit_code == 2
    assert "'think' is not one of 'fence', 'stub', 'plan'" in res.output
    assert "Traceback" not in res.output
    with pytest.raises(ValueError, match="prefill must be one of fence, stub, plan, mix, got 'think'"):
        SolveConfig(prefill="think")  # type: ignore[arg-type]
