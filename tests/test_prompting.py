from typing import Any

import pytest

from alphagen.problems.model import HiddenTests, Problem, Test
from alphagen.prompting import build_prompts


class ChatTokenizer:
    """Stands in for a tokenizer's chat template: renders messages as role-tagged text."""

    chat_template = "fake"

    def apply_chat_template(self, messages: list[dict[str, Any]], tokenize: bool, add_generation_prompt: bool) -> str:
        body = "".join(f"<|{m['role']}|>{m['content']}<|end|>" for m in messages)
        return body + ("<|assistant|>" if add_generation_prompt else "")


def problem(**kw: Any) -> Problem:
    base: dict[str, Any] = dict(
        name="p", description="Add two numbers a and b.",
        public_tests=(Test("1 2\n", "3\n"),),
        private_tests=HiddenTests((Test("SECRET-INPUT-777\n", "SECRET-OUTPUT-888\n"),)),
    )
    base.update(kw)
    return Problem(**base)


def test_budget_is_split_into_groups_with_their_own_metadata() -> None:
    groups = build_prompts(ChatTokenizer(), problem().public_view(), 20, seed=1, samples_per_prompt=8)
    assert [g.count for g in groups] == [8, 8, 4]
    assert len({(g.meta.rating, g.meta.tags) for g in groups}) > 1
    for g in groups:
        assert f"Difficulty rating: {g.meta.rating}" in g.text
        assert g.text.endswith("<|assistant|>```python\n")


def test_same_seed_same_prompts_other_seed_other_metadata() -> None:
    view = problem().public_view()
    a = build_prompts(ChatTokenizer(), view, 16, seed=3)
    b = build_prompts(ChatTokenizer(), view, 16, seed=3)
    c = build_prompts(ChatTokenizer(), view, 16, seed=4)
    assert [g.text for g in a] == [g.text for g in b]
    assert [g.meta for g in a] != [g.meta for g in c]


def test_hidden_tests_never_reach_the_prompt() -> None:
    p = problem()
    for g in build_prompts(ChatTokenizer(), p.public_view(), 8, seed=0):
        assert "SECRET" not in g.text
        assert "1 2" in g.text  # the example does
    assert "SECRET" not in repr(p)


def test_mix_alternates_languages_and_function_problems_stay_python() -> None:
    groups = build_prompts(ChatTokenizer(), problem().public_view(), 32, seed=0, language="mix")
    assert [g.meta.language for g in groups] == ["python", "cpp", "python", "cpp"]
    assert groups[1].text.endswith("```cpp\n")
    fn = problem(kind="function", entry_point="add", signature="def add(a, b):\n    \"\"\"Sum.\"\"\"\n",
                 public_tests=(Test("[1, 2]", "3"),))
    g = build_prompts(ChatTokenizer(), fn.public_view(), 8, seed=0, language="mix", prefill="stub")
    assert {x.meta.language for x in g} == {"python"}
    # The pre-fill stops after the docstring's close: the model writes the newline and the body's indentation.
    assert g[0].text.endswith('```python\ndef add(a, b):\n    """Sum."""')
    assert g[0].code_prefix == 'def add(a, b):\n    """Sum."""'


def test_function_problems_show_the_stub_and_no_metadata() -> None:
    fn = problem(kind="function", entry_point="add", signature="import math\n\ndef add(a, b):\n    \"\"\"Sum.\"\"\"\n",
                 public_tests=(Test("[1, 2]", "3"),))
    for prefill in ("fence", "stub"):
        g = build_prompts(ChatTokenizer(), fn.public_view(), 8, seed=0, prefill=prefill)[0]
        assert "rating" not in g.text and "Tags" not in g.text  # Codeforces metadata means nothing on a function
        user = g.text.split("<|user|>")[1].split("<|end|>")[0]
        assert "```python\nimport math\n\ndef add(a, b):" in user
    fence = build_prompts(ChatTokenizer(), fn.public_view(), 8, seed=0, prefill="fence")[0]
    assert fence.text.endswith("<|assistant|>```python\n") and fence.code_prefix == ""
    with pytest.raises(ValueError, match="prefill must be one of fence, stub, plan, mix, got 'all'"):
        build_prompts(ChatTokenizer(), fn.public_view(), 8, seed=0, prefill="all")  # type: ignore[arg-type]


def test_metadata_stream_differs_between_problems_of_one_run() -> None:
    # One draw per run (the old behaviour) showed every problem of a bench the same rating and tags.
    metas = {
        tuple(g.meta for g in build_prompts(ChatTokenizer(), problem(name=f"p{i}").public_view(), 16, seed=0))
        for i in range(6)
    }
    assert len(metas) == 6


def test_without_metadata_no_rating_or_tags() -> None:
    g = build_prompts(ChatTokenizer(), problem().public_view(), 4, seed=0, use_metadata=False)[0]
    assert "rating" not in g.text and "Tags" not in g.text


def test_bad_budget_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        build_prompts(ChatTokenizer(), problem().public_view(), 0, seed=0)


def test_prefill_mix_alternates_formats_by_kind_and_each_language_gets_both() -> None:
    fn = problem(kind="function", entry_point="add", signature="def add(a, b):\n    \"\"\"Sum.\"\"\"\n",
                 public_tests=(Test("[1, 2]", "3"),))
    groups = build_prompts(ChatTokenizer(), fn.public_view(), 16, seed=0, prefill="mix")
    assert [g.prefill for g in groups] == ["fence", "stub"]
    # The stub group continues the stub (and says so: its programs get the stub's imports back); the fence group
    # writes the whole function.
    assert groups[0].code_prefix == "" and not groups[0].stub_prefilled
    assert groups[1].text.endswith('"""Sum."""') and groups[1].stub_prefilled
    stdio = build_prompts(ChatTokenizer(), problem().public_view(), 32, seed=0, prefill="mix", language="mix")
    assert [(g.meta.language.value, g.prefill) for g in stdio] == [
        ("python", "fence"), ("cpp", "fence"), ("python", "plan"), ("cpp", "plan")]
    assert stdio[2].code_prefix == "# Algorithm:" and stdio[3].code_prefix == "// Algorithm:"


def test_one_prompt_cannot_be_rendered_as_a_mix() -> None:
    from alphagen.prompting import PromptMeta, render
    from sandbox import Language

    with pytest.raises(ValueError, match="prefill of one prompt must be fence, stub or plan, got 'mix'"):
        render(ChatTokenizer(), problem().public_view(), PromptMeta(Language.PYTHON, 0, ()), "mix")
