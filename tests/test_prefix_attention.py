"""The prompt-grouped decoding attention equals plain attention over the whole cache (up to rounding)."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from alphagen.models import LoadedModel
from alphagen.sampling import PromptRequest, SamplingParams, make_sampler
from alphagen.sampling.hf_sampler import HFSampler
from alphagen.sampling.prefix_attention import PromptGroups, prefix_attention_forward, prompt_groups
from tests.tiny_model import by_index, chat_prompt


class _Module(torch.nn.Module):
    num_key_value_groups = 7
    is_causal = True


PROMPT_LENGTHS = {0: 10, 1: 7, 2: 4}  # prompt 1 leaves 3 masked columns of the 10-column prompt region
LAYOUTS = {
    "interleaved, idle row": [0, 1, 0, 0, 1, None],
    "neighbours, equal groups": [0, 0, 1, 1, 2, 2],
    "neighbours, unequal groups": [0, 0, 0, 1, 1, 2],
    "one prompt": [1, 1, 1, 1, 1, 1],
}


def _case(dtype: torch.dtype, layout: list[int | None]) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(0)
    rows, heads, kv_heads, dim, width, length = len(layout), 14, 2, 16, 10, 17
    q = torch.randn(rows, heads, 1, dim, generator=gen).to(dtype)
    k = torch.randn(rows, kv_heads, length, dim, generator=gen).to(dtype)
    v = torch.randn(rows, kv_heads, length, dim, generator=gen).to(dtype)
    prompt_k = torch.randn(3, kv_heads, width, dim, generator=gen).to(dtype)
    prompt_v = torch.randn(3, kv_heads, width, dim, generator=gen).to(dtype)
    neg = torch.finfo(dtype).min
    mask = torch.full((rows, 1, 1, length), neg, dtype=dtype)
    for r, request in enumerate(layout):
        if request is not None:
            # Every row of a prompt holds the same copy of it; columns past the prompt's length stay masked.
            k[r, :, :width], v[r, :, :width] = prompt_k[request], prompt_v[request]
            mask[r, ..., : PROMPT_LENGTHS[request]] = 0
    # Generated columns: each row's own, with holes left by earlier samples of the row; the last column is open.
    mask[:, ..., width + 2 :] = 0
    mask[rows // 2, ..., width + 2 : width + 5] = neg
    return q, k, v, mask


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_grouped_equals_plain_attention(dtype: torch.dtype, layout: str) -> None:
    rows = LAYOUTS[layout]
    q, k, v, mask = _case(dtype, rows)
    groups = prompt_groups(10, rows)
    assert groups is not None
    got, _ = prefix_attention_forward(_Module(), q, k, v, mask, scaling=0.25, prompt_groups=groups)
    # Reference: every query head against its key head over the whole cache, in float64.
    kk = k.double().repeat_interleave(7, dim=1)
    vv = v.double().repeat_interleave(7, dim=1)
    scores = (q.double() @ kk.transpose(-1, -2)) * 0.25 + mask.double().clamp(min=-1e30)
    want = (scores.softmax(-1) @ vv).transpose(1, 2)
    tol = 1e-5 if dtype == torch.float32 else 2e-2
    active = [r for r, request in enumerate(rows) if request is not None]  # an idle row's output is never read
    assert got.shape == want.shape
    assert torch.allclose(got[active].double(), want[active], atol=tol, rtol=tol)


def test_prompt_groups_of_rows() -> None:
    assert prompt_groups(5, [None, None]) is None
    g = prompt_groups(5, [2, None, 0, 2])
    assert isinstance(g, PromptGroups) and g.prompt_width == 5 and g.spans is None
    assert [t.tolist() for t in g.rows] == [[0, 3], [2]] and g.first == (0, 2)
    assert prompt_groups(5, [1, 1, 0, 0, 0]).spans == ((0, 2), (2, 5))  # type: ignore[union-attr]
    assert prompt_groups(5, [1, 1, 0, None]).spans is None  # type: ignore[union-attr]


def test_falls_back_to_sdpa_without_groups_or_for_a_prefill() -> None:
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    q, k, v, mask = _case(torch.float32, LAYOUTS["interleaved, idle row"])
    plain, _ = sdpa_attention_forward(_Module(), q, k, v, mask, scaling=0.25)
    same, _ = prefix_attention_forward(_Module(), q, k, v, mask, scaling=0.25, prompt_groups=None)
    assert torch.equal(plain, same)
    # A prefill (several query tokens) ignores the groups.
    q3 = q.expand(-1, -1, 3, -1).contiguous()
    groups = prompt_groups(10, [0, 1, 0, 0, 1, None])
    plain3, _ = sdpa_attention_forward(_Module(), q3, k, v, None, scaling=0.25, is_causal=False)
    same3, _ = prefix_attention_forward(_Module(), q3, k, v, None, scaling=0.25, prompt_groups=groups,
                                        is_causal=False)
    assert torch.equal(plain3, same3)


def test_sampler_with_grouped_steps_matches_generate(tiny_model: LoadedModel, monkeypatch: pytest.MonkeyPatch) -> None:
    # Opted in, every step is grouped: two prompts of different lengths, refills across them, idle rows at the
    # tail. Greedy in fp32 must give exactly what transformers' generate gives.
    import alphagen.sampling.prefix_attention as pa

    reqs = [
        PromptRequest(chat_prompt(tiny_model, "sum two numbers"), 3),
        PromptRequest(chat_prompt(tiny_model, "hi"), 3),
    ]
    params = SamplingParams(temperature=0.0, max_new_tokens=30, stop=("ab",), batch_size=4)
    calls: list[int] = []
    real = pa._flash

    def counting(*args: Any) -> tuple[torch.Tensor, torch.Tensor]:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(pa, "_flash", counting)
    try:
        grouped = HFSampler(tiny_model, prefix_attention=True)
        assert grouped.prefix_attention
        ours = by_index(list(grouped.sample(reqs, params)))
    finally:
        # The session's tiny model is shared: give it back its plain attention.
        tiny_model.model.set_attn_implementation("sdpa")
    base = by_index(list(make_sampler(tiny_model, "generate").sample(reqs, params)))
    assert calls, "no step went through the grouped attention"
    assert [c.text for c in ours] == [c.text for c in base]


def test_plain_attention_by_default(tiny_model: LoadedModel) -> None:
    sampler = make_sampler(tiny_model, "hf")
    assert isinstance(sampler, HFSampler) and not sampler.prefix_attention
    assert tiny_model.model.config._attn_implementation == "sdpa"


def test_grouped_samples_do_not_depend_on_the_batch(tiny_model: LoadedModel) -> None:
    # With grouping on, a sample's draws and numerics must not depend on its batch: 2 rows, 4 rows or 6 rows
    # (equal neighbouring groups, unequal ones, refills across prompts) give the same samples.
    reqs = [
        PromptRequest(chat_prompt(tiny_model, "write code"), 3),
        PromptRequest(chat_prompt(tiny_model, "hi"), 3),
    ]
    try:
        sampler = HFSampler(tiny_model, prefix_attention=True)

        def run(batch: int) -> list[str]:
            params = SamplingParams(temperature=1.0, max_new_tokens=24, seed=3, stop=(), batch_size=batch)
            return [c.text for c in by_index(list(sampler.sample(reqs, params)))]

        first = run(6)
        assert run(4) == first and run(2) == first
        assert len(set(first)) > 1
    finally:
        tiny_model.model.set_attn_implementation("sdpa")
