"""The prompt-grouped decoding attention equals plain attention over the whole cache (up to rounding)."""

from __future__ import annotations

import pytest
import torch

from alphagen.sampling.prefix_attention import PromptGroups, prefix_attention_forward, prompt_groups


class _Module(torch.nn.Module):
    num_key_value_groups = 7
    is_causal = True


def _case(dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(0)
    rows, heads, kv_heads, dim, width, length = 6, 14, 2, 16, 10, 17
    q = torch.randn(rows, heads, 1, dim, generator=gen).to(dtype)
    k = torch.randn(rows, kv_heads, length, dim, generator=gen).to(dtype)
    v = torch.randn(rows, kv_heads, length, dim, generator=gen).to(dtype)
    neg = torch.finfo(dtype).min
    mask = torch.full((rows, 1, 1, length), neg, dtype=dtype)
    # Rows 0, 2, 3 continue prompt A (10 tokens), rows 1, 4 prompt B (7 tokens: its last 3 columns masked), row 5 idle.
    for r in (0, 2, 3):
        k[r, :, :width], v[r, :, :width] = k[0, :, :width], v[0, :, :width]
        mask[r, ..., :width] = 0
    for r in (1, 4):
        k[r, :, :width], v[r, :, :width] = k[1, :, :width], v[1, :, :width]
        mask[r, ..., :7] = 0
    # Generated columns: each row's own, with holes left by earlier samples of the row; the last column is open.
    mask[:, ..., width + 2 :] = 0
    mask[3, ..., width + 2 : width + 5] = neg
    return q, k, v, mask


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_grouped_equals_plain_attention(dtype: torch.dtype) -> None:
    q, k, v, mask = _case(dtype)
    groups = prompt_groups(10, [0, 1, 0, 0, 1, None])
    assert groups is not None and groups.first == (0, 1)
    got, _ = prefix_attention_forward(_Module(), q, k, v, mask, scaling=0.25, prompt_groups=groups)
    # Reference: every query head against its key head over the whole cache, in float64.
    kk = k.double().repeat_interleave(7, dim=1)
    vv = v.double().repeat_interleave(7, dim=1)
    scores = (q.double() @ kk.transpose(-1, -2)) * 0.25 + mask.double().clamp(min=-1e30)
    want = (scores.softmax(-1) @ vv).transpose(1, 2)
    tol = 1e-5 if dtype == torch.float32 else 2e-2
    active = [0, 1, 2, 3, 4]  # the idle row's output is never read
    assert got.shape == want.shape
    assert torch.allclose(got[active].double(), want[active], atol=tol, rtol=tol)


def test_prompt_groups_of_rows() -> None:
    assert prompt_groups(5, [None, None]) is None
    g = prompt_groups(5, [2, None, 0, 2])
    assert isinstance(g, PromptGroups) and g.prompt_width == 5
    assert [t.tolist() for t in g.rows] == [[0, 3], [2]] and g.first == (0, 2)


def test_falls_back_to_sdpa_without_groups_or_for_a_prefill() -> None:
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    q, k, v, mask = _case(torch.float32)
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
