"""Grammar-constrained sampling: a random model (the perfect adversary) only ever writes sentences of the grammar,
reproducibly per seed and independently of the batch size; backends that cannot constrain refuse."""

from __future__ import annotations

import re

import pytest

from alphagen.models import LoadedModel
from alphagen.sampling import PromptRequest, SamplingParams
from alphagen.sampling.factory import make_sampler
from alphagen.sampling.grammar import UnsupportedConstraint
from tests.tiny_model import by_index, chat_prompt

GRAMMAR = r'''
root ::= "1" "\n" num "\n" | "3" "\n" num " " num " " num "\n"
num ::= [1-9] [0-9]{0,2}
'''
SENTENCE = re.compile(r"^(1\n\d{1,3}\n|3\n\d{1,3} \d{1,3} \d{1,3}\n)$")


def _sample(lm: LoadedModel, batch: int, seed: int = 0, grammar: str | None = GRAMMAR) -> list[str]:
    sampler = make_sampler(lm, "hf")
    params = SamplingParams(temperature=1.0, max_new_tokens=40, seed=seed, stop=(), batch_size=batch)
    requests = [PromptRequest(chat_prompt(lm, "write an input"), count=6, grammar=grammar)]
    return [c.text for c in by_index(list(sampler.sample(requests, params)))]


def test_constrained_samples_are_sentences_of_the_grammar(tiny_model: LoadedModel) -> None:
    texts = _sample(tiny_model, batch=3)
    assert len(texts) == 6
    assert all(SENTENCE.match(t) for t in texts), texts
    # Unconstrained, the same random model writes nothing of the kind.
    assert not any(SENTENCE.match(t) for t in _sample(tiny_model, batch=3, grammar=None))


def test_constrained_samples_reproducible_for_any_batch_size(tiny_model: LoadedModel) -> None:
    one = _sample(tiny_model, batch=1, seed=5)
    assert one == _sample(tiny_model, batch=4, seed=5)
    assert one != _sample(tiny_model, batch=4, seed=6)


def test_mixed_batch_constrains_only_its_requests(tiny_model: LoadedModel) -> None:
    sampler = make_sampler(tiny_model, "hf")
    params = SamplingParams(temperature=1.0, max_new_tokens=40, seed=1, stop=(), batch_size=4)
    prompt = chat_prompt(tiny_model, "write an input")
    requests = [PromptRequest(prompt, count=3, grammar=GRAMMAR), PromptRequest(prompt, count=3)]
    done = by_index(list(sampler.sample(requests, params)))
    assert all(SENTENCE.match(c.text) and c.finish_reason == "eos" for c in done[:3])
    assert not any(SENTENCE.match(c.text) for c in done[3:])


def test_backends_without_constraints_refuse(tiny_model: LoadedModel) -> None:
    sampler = make_sampler(tiny_model, "generate")
    request = PromptRequest(chat_prompt(tiny_model, "x"), count=1, grammar=GRAMMAR)
    with pytest.raises(UnsupportedConstraint):
        list(sampler.sample([request], SamplingParams(max_new_tokens=4)))


def test_grammar_must_name_a_root() -> None:
    with pytest.raises(ValueError):
        PromptRequest("p", count=1, grammar="num ::= [0-9]")
