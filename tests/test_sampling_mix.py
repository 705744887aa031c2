"""A mix of models (`--model a,b`): prompt groups alternate samplers, every sample keeps its index and stream."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from alphagen.config import Models, mix_specs
from alphagen.draws import plan_sampling
from alphagen.models import ModelError
from alphagen.pipeline import SolveConfig
from alphagen.sampling.mix import MixSampler
from alphagen.sampling.params import Completion, PromptRequest, SamplingParams, sample_offsets
from tests.test_pipeline import Tok, make_problem


class Named:
    """A deterministic fake model: sample i of a prompt is '<name>:<prompt>:<i>' (its stream is its index)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[list[PromptRequest]] = []

    def sample(self, requests: list[PromptRequest], params: SamplingParams, progress: Any = None
               ) -> Iterator[Completion]:
        self.calls.append(list(requests))
        for ri, (req, start) in enumerate(zip(requests, sample_offsets(requests), strict=True)):
            for i in range(start, start + req.count):
                yield Completion(ri, i, f"{self.name}:{req.prompt}:{i}", 3, "eos")


PARAMS = SamplingParams(temperature=0.8, max_new_tokens=16, seed=0)


def test_groups_alternate_models_and_keep_their_indices() -> None:
    a, b = Named("a"), Named("b")
    requests = [PromptRequest("p", 8, group=0), PromptRequest("p", 8, group=1), PromptRequest("q", 4, group=2)]
    got = sorted((c.request_index, c.sample_index, c.text) for c in MixSampler([a, b]).sample(requests, PARAMS))
    # Group 0 and 2 to the first model, group 1 to the second; indices as one model would number them.
    assert got == sorted([(0, i, f"a:p:{i}") for i in range(8)] + [(1, i, f"b:p:{i}") for i in range(8, 16)]
                         + [(2, i, f"a:q:{i}") for i in range(16, 20)])
    assert [[(r.group, r.first_index) for r in call] for call in a.calls] == [[(0, 0), (2, 16)]]
    assert [[(r.group, r.first_index) for r in call] for call in b.calls] == [[(1, 8)]]
    # Each model's samples are the very ones it draws alone for those indices.
    alone = {(c.sample_index, c.text) for c in Named("b").sample([PromptRequest("p", 8, first_index=8)], PARAMS)}
    assert alone == {(i, t) for _, i, t in got if t.startswith("b:")}
    with pytest.raises(ValueError, match="at least 2 samplers"):
        MixSampler([a])


def test_a_plan_numbers_its_prompt_groups() -> None:
    plan = plan_sampling(make_problem(), SolveConfig(n=20, samples_per_prompt=8), Tok())
    assert [(r.group, r.count) for r in plan.requests] == [(0, 8), (1, 8), (2, 4)]
    with pytest.raises(ValueError, match="group must be an integer >= 0"):
        PromptRequest("p", 1, group=-1)


def test_model_specs_and_the_cli_error() -> None:
    from alphagen.cli import main

    assert mix_specs(None) == [None] and mix_specs("x") == ["x"]
    assert mix_specs("qwen2.5-coder-0.5b, qwen2.5-coder-1.5b") == ["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]
    for bad in ("a,,b", "a,a", "a,"):
        with pytest.raises(ValueError, match="comma list of distinct models"):
            mix_specs(bad)
    res = CliRunner().invoke(main, ["solve", "problems/anagram-classes.json", "--model", "a,a"])
    assert res.exit_code == 2 and "comma list of distinct models" in res.output


def test_models_load_a_mix_of_models_sharing_a_tokenizer(monkeypatch: pytest.MonkeyPatch) -> None:
    import alphagen.models
    import alphagen.sampling

    def load_model(spec: str, **kw: Any) -> Any:
        vocab = {"x": 1} if spec != "odd" else {"y": 1}
        template = "<{}>" if spec != "odd-template" else "[{}]"

        def render(chat: list[dict[str, str]], **kw: Any) -> str:
            return template.format(chat[-1]["content"])

        return SimpleNamespace(name=spec, tokenizer=SimpleNamespace(get_vocab=lambda: vocab,
                                                                    apply_chat_template=render))

    monkeypatch.setattr(alphagen.models, "load_model", load_model)
    monkeypatch.setattr(alphagen.sampling, "make_sampler", lambda lm, backend="hf": Named(lm.name))
    models = Models.load("small,big")
    assert isinstance(models.sampler, MixSampler)
    assert [s.name for s in models.sampler.samplers] == ["small", "big"]  # type: ignore[attr-defined]
    # Prompts and test inputs come from the first model, with its own sampler.
    assert models.code.name == "small" and models.test is models.code
    assert isinstance(models.test_sampler, Named) and models.test_sampler.name == "small"
    for other in ("odd", "odd-template"):
        with pytest.raises(ModelError, match="must share a tokenizer"):
            Models.load(f"small,{other}")
