"""Our sampler against the generate baseline, reproducibility, stops, streaming, and the vLLM mapping."""

from __future__ import annotations

import pytest

from alphagen.models import LoadedModel, load_model
from alphagen.sampling import Completion, PromptRequest, SamplingParams, make_sampler
from alphagen.sampling.vllm_sampler import completion_from_vllm, vllm_params_kwargs
from tests.tiny_model import by_index, chat_prompt


def test_greedy_matches_generate(tiny_model: LoadedModel) -> None:
    reqs = [
        PromptRequest(chat_prompt(tiny_model, "sum two numbers"), 3),
        PromptRequest(chat_prompt(tiny_model, "hi"), 2),
    ]
    params = SamplingParams(temperature=0.0, max_new_tokens=30, stop=("ab",), batch_size=2)
    ours = by_index(list(make_sampler(tiny_model, "hf").sample(reqs, params)))
    base = by_index(list(make_sampler(tiny_model, "generate").sample(reqs, params)))
    assert [c.text for c in ours] == [c.text for c in base]
    assert [c.sample_index for c in ours] == list(range(5))
    assert [c.request_index for c in ours] == [0, 0, 0, 1, 1]
    assert ours[0].text != ours[3].text  # different prompts really give different continuations


def test_same_seed_same_completions_any_batch_size(tiny_model: LoadedModel) -> None:
    reqs = [PromptRequest(chat_prompt(tiny_model, "write code"), 6)]
    sampler = make_sampler(tiny_model, "hf")

    def run(seed: int, batch: int) -> list[str]:
        params = SamplingParams(temperature=1.0, max_new_tokens=24, seed=seed, stop=(), batch_size=batch)
        return [c.text for c in by_index(list(sampler.sample(reqs, params)))]

    first = run(0, 4)
    assert run(0, 4) == first
    assert run(0, 2) == first  # per-sample random streams: the batch layout does not change the samples
    assert run(1, 4) != first
    assert len(set(first)) > 1  # samples of one prompt differ from each other


def test_rows_freed_at_the_end_take_the_last_rows_without_changing_samples(tiny_model: LoadedModel) -> None:
    # Samples end at scattered lengths (stops on common bytes); once nothing is left to start, every finished
    # row is dropped and the last active rows move into the freed slots.
    reqs = [PromptRequest(chat_prompt(tiny_model, "write code"), 5), PromptRequest(chat_prompt(tiny_model, "hi"), 3)]
    sampler = make_sampler(tiny_model, "hf")

    def run(batch: int) -> list[Completion]:
        params = SamplingParams(temperature=1.0, max_new_tokens=40, seed=2, stop=tuple("aeiou"), batch_size=batch)
        return by_index(list(sampler.sample(reqs, params)))

    together, alone = run(8), run(1)
    assert [(c.text, c.num_tokens) for c in together] == [(c.text, c.num_tokens) for c in alone]
    assert len({c.num_tokens for c in together}) > 2


def test_slot_cache_select_rows_moves_rows_and_their_masks() -> None:
    import torch

    from alphagen.sampling.kv_slots import SlotCache

    cache = SlotCache(num_layers=2, rows=4, kv_heads=1, head_dim=2, capacity=6, dtype=torch.float32,
                      device=torch.device("cpu"))
    for layer in cache.slot_layers:
        layer.buf_k.copy_(torch.arange(4.0).view(4, 1, 1, 1).expand_as(layer.buf_k))
        layer.buf_v.copy_(10 + torch.arange(4.0).view(4, 1, 1, 1).expand_as(layer.buf_v))
    cache.set_length(3)
    for row in range(4):
        cache.mask[row, ..., : row + 1] = 0
    before = cache.mask.clone()
    # Rows 1 and 2 finished: row 3 moves into slot 1, row 2's slot goes (a prefix order, as the sampler asks).
    cache.select_rows([0, 3])
    assert cache.rows == 2
    for layer in cache.slot_layers:
        assert layer.buf_k[:, 0, :3, 0].tolist() == [[0.0] * 3, [3.0] * 3]
        assert layer.buf_v[:, 0, :3, 0].tolist() == [[10.0] * 3, [13.0] * 3]
    assert torch.equal(cache.mask, before[[0, 3]])


def test_stop_string_removed_and_counted(tiny_model: LoadedModel) -> None:
    # Stops on common single bytes so the random tiny model hits them quickly.
    stops = tuple("aeiou")
    params = SamplingParams(temperature=1.0, max_new_tokens=64, stop=stops, batch_size=3, seed=3)
    out = list(make_sampler(tiny_model, "hf").sample([PromptRequest(chat_prompt(tiny_model, "x"), 8)], params))
    stopped = [c for c in out if c.finish_reason == "stop"]
    assert stopped, "expected some samples to end on a stop string"
    for c in stopped:
        assert not any(s in c.text for s in stops)
        assert c.num_tokens <= 64
    for c in out:
        if c.finish_reason == "length":
            assert c.num_tokens == 64


def test_streams_and_reports_progress(tiny_model: LoadedModel) -> None:
    seen: list[int] = []
    params = SamplingParams(temperature=1.0, max_new_tokens=16, stop=(), batch_size=2)
    it = make_sampler(tiny_model, "hf").sample(
        [PromptRequest(chat_prompt(tiny_model, "y"), 5)], params, seen.append
    )
    first = next(it)  # an iterator: the first completion arrives before the others are sampled
    assert isinstance(first, Completion)
    rest = list(it)
    assert len(rest) == 4 and sum(seen) == 5
    assert sorted(c.sample_index for c in [first, *rest]) == list(range(5))


def test_params_validation() -> None:
    with pytest.raises(ValueError, match="temperature"):
        SamplingParams(temperature=-1)
    with pytest.raises(ValueError, match="top_p"):
        SamplingParams(top_p=0)
    with pytest.raises(ValueError, match="stop"):
        SamplingParams(stop=["```"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="count"):
        PromptRequest("p", 0)


def test_unknown_backend_and_missing_vllm(tiny_model: LoadedModel) -> None:
    with pytest.raises(ValueError, match="backend must be one of"):
        make_sampler(tiny_model, "nope")
    try:
        import vllm  # noqa: F401
    except ImportError:
        from alphagen.models import ModelError

        with pytest.raises(ModelError, match=r"alphagen\[vllm\]"):
            make_sampler(tiny_model, "vllm")


def test_vllm_request_mapping() -> None:
    params = SamplingParams(temperature=0.5, top_p=0.9, top_k=0, max_new_tokens=100, seed=7, stop=("```",))
    kw = vllm_params_kwargs(2, PromptRequest("p", 16), params)
    assert kw["n"] == 16 and kw["max_tokens"] == 100 and kw["top_k"] == -1 and kw["stop"] == ["```"]
    assert kw["seed"] != vllm_params_kwargs(3, PromptRequest("p", 16), params)["seed"]
    assert completion_from_vllm(0, 5, "x", 3, "stop", "```").finish_reason == "stop"
    assert completion_from_vllm(0, 5, "x", 3, "stop", None).finish_reason == "eos"
    assert completion_from_vllm(0, 5, "x", 3, "length", None).finish_reason == "length"


@pytest.mark.slow
def test_real_model_greedy_matches_generate() -> None:
    lm = load_model()
    prompt = chat_prompt(lm, "Write a Python function that returns the sum of a list.") + "```python\n"
    params = SamplingParams(temperature=0.0, max_new_tokens=24, batch_size=2)
    ours = by_index(list(make_sampler(lm, "hf").sample([PromptRequest(prompt, 2)], params)))
    base = by_index(list(make_sampler(lm, "generate").sample([PromptRequest(prompt, 2)], params)))
    assert [c.text for c in ours] == [c.text for c in base]
    assert "def" in ours[0].text
