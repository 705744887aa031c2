"""The lean decoding step (alphagen.sampling.decode_step): bitwise the model's forward, or not used at all."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from alphagen.models import LoadedModel, load_model
from alphagen.models import packed_linear as pl
from alphagen.sampling import decode_step
from alphagen.sampling.hf_sampler import HFSampler
from alphagen.sampling.params import PromptRequest, SamplingParams
from tests.tiny_model import build_tiny_dir, by_index, chat_prompt


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_dir(tmp_path_factory.mktemp("tiny"))


def _texts(sampler: HFSampler, lm: LoadedModel, params: SamplingParams) -> list[str]:
    # Two prompts, more samples than rows: refills, compaction and row drops all go through the step.
    requests = [
        PromptRequest(prompt=chat_prompt(lm, "print the sum of two numbers"), count=5),
        PromptRequest(prompt=chat_prompt(lm, "read n and print n squared, then stop"), count=4),
    ]
    return [c.text for c in by_index(list(sampler.sample(requests, params)))]


@pytest.mark.parametrize("dtype", ["fp32", "bf16", "int8"])
def test_lean_steps_draw_the_samples_of_the_models_forward(tiny_dir: Path, dtype: str) -> None:
    # int8: dynamically quantized linears (their own modules; the lean step calls them as the forward does).
    if dtype == "int8":
        lm = load_model(str(tiny_dir), device="cpu", dtype="fp32", quantize="int8")
    else:
        lm = load_model(str(tiny_dir), device="cpu", dtype=dtype)
    lean = HFSampler(lm)
    assert lean.lean is not None
    # bf16 on a CPU with packed linears: q, k and v come from one fused product.
    fused = dtype == "bf16" and pl.available()
    assert (lean.lean.layers[0].qkv is not None) == fused
    plain = HFSampler(lm)
    plain.lean = None
    for batch in (3, 8):
        params = SamplingParams(temperature=0.8, max_new_tokens=40, seed=5, stop=(), batch_size=batch)
        ours, theirs = _texts(lean, lm, params), _texts(plain, lm, params)
        assert ours == theirs, batch
        assert len(set(ours)) > 3


def test_a_step_that_differs_from_the_forward_is_not_used(
    tiny_model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A norm off by its epsilon changes the logits slightly: the load-time check must see it and keep the forward.
    original = decode_step._rms_norm

    def off_by_eps(norm: object, hidden: torch.Tensor) -> torch.Tensor:
        return original(norm, hidden) * (1 + 1e-3)

    monkeypatch.setattr(decode_step, "_rms_norm", off_by_eps)
    sampler = HFSampler(tiny_model)
    assert sampler.lean is None
    params = SamplingParams(temperature=0.8, max_new_tokens=8, seed=0, stop=())
    assert len(_texts(sampler, tiny_model, params)) == 9


def test_grouped_attention_steps_draw_the_samples_of_the_models_forward(tiny_dir: Path) -> None:
    # Opt-in prompt-grouped attention: the lean step passes the step's prompt groups to the same attention function.
    lm = load_model(str(tiny_dir), device="cpu", dtype="bf16")
    grouped = HFSampler(lm, prefix_attention=True)
    assert grouped.prefix_attention and grouped.lean is not None
    forward = HFSampler(lm, prefix_attention=True)
    forward.lean = None
    params = SamplingParams(temperature=0.8, max_new_tokens=40, seed=2, stop=(), batch_size=6)
    ours, theirs = _texts(grouped, lm, params), _texts(forward, lm, params)
    assert ours == theirs and len(set(ours)) > 3


def test_other_shapes_keep_the_models_forward(tiny_model: LoadedModel) -> None:
    class Unknown(torch.nn.Module):
        config = tiny_model.model.config
        device = torch.device("cpu")

    assert decode_step.lean_decoder(Unknown(), "cache", torch.float32) is None
