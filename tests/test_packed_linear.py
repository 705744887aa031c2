"""bf16 linears packed once for oneDNN (alphagen.models.packed_linear): the same samples, only faster."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from alphagen.models import load_model
from alphagen.models import packed_linear as pl
from alphagen.sampling import make_sampler
from alphagen.sampling.params import PromptRequest, SamplingParams
from tests.tiny_model import build_tiny_dir, by_index, chat_prompt

pytestmark = pytest.mark.skipif(not pl.available(), reason="this torch build lacks oneDNN's packed linear ops")


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_dir(tmp_path_factory.mktemp("tiny"))


def test_packed_linear_gives_the_plain_product_bit_for_bit() -> None:
    torch.manual_seed(0)
    for bias in (False, True):
        plain = torch.nn.Linear(48, 80, bias=bias).to(torch.bfloat16)
        packed = pl.PackedLinear(plain)
        for shape in ((1, 48), (7, 48), (32, 1, 48), (2, 5, 48)):
            x = torch.randn(shape).to(torch.bfloat16)
            with torch.inference_mode():
                assert torch.equal(packed(x), plain(x)), (bias, shape)
        assert packed.weight is plain.weight and packed.out_features == 80


def test_bf16_cpu_models_are_packed_and_sample_exactly_as_before(tiny_dir: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    lm = load_model(str(tiny_dir), device="cpu", dtype="bf16")
    linears = [m for m in lm.model.modules() if isinstance(m, torch.nn.Linear)]
    packed = [m for m in lm.model.modules() if isinstance(m, pl.PackedLinear)]
    assert not linears and len(packed) == 2 * 7 + 1  # q k v o gate up down per layer, and the head
    # The same model with plain linears (as a build without the ops loads it) draws the very same samples.
    monkeypatch.setattr(pl, "available", lambda: False)
    plain = load_model(str(tiny_dir), device="cpu", dtype="bf16")
    assert not any(isinstance(m, pl.PackedLinear) for m in plain.model.modules())
    params = SamplingParams(temperature=0.8, max_new_tokens=24, seed=3, stop=())
    req = [PromptRequest(prompt=chat_prompt(lm, "print the sum of two numbers"), count=6)]
    ours = [c.text for c in by_index(list(make_sampler(lm).sample(req, params)))]
    theirs = [c.text for c in by_index(list(make_sampler(plain).sample(req, params)))]
    assert ours == theirs and len(set(ours)) > 1


def test_fp32_and_other_devices_are_left_alone(tiny_dir: Path) -> None:
    lm = load_model(str(tiny_dir), device="cpu", dtype="fp32")
    assert not any(isinstance(m, pl.PackedLinear) for m in lm.model.modules())
    assert pl.pack_for_cpu(lm.model, torch.device("meta"), torch.bfloat16) == 0
