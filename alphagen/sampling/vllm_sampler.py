"""Optional vLLM backend (``pip install 'alphagen[vllm]'``, GPU only): SamplingParams(n=count), prefix
caching.

The request mapping is plain Python so it is tested without vLLM installed; vLLM itself is imported lazily.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from alphagen.models import LoadedModel, ModelError
from alphagen.sampling.grammar import refuse_grammars
from alphagen.sampling.params import Completion, FinishReason, PromptRequest, SamplingParams, sample_offsets


def vllm_params_kwargs(request_index: int, request: PromptRequest, params: SamplingParams) -> dict[str, Any]:
    """Keyword arguments of ``vllm.SamplingParams`` for one request: n samples sharing one cached prefix."""
    return {
        "n": request.count,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "top_k": params.top_k if params.top_k > 0 else -1,  # vLLM spells "disabled" as -1
        "max_tokens": params.max_new_tokens,
        "seed": params.seed * 1_000_003 + request_index,  # distinct but reproducible stream per request
        "stop": list(params.stop),
        "include_stop_str_in_output": False,
    }


def completion_from_vllm(
    request_index: int,
    sample_index: int,
    text: str,
    num_tokens: int,
    finish_reason: str | None,
    stop_reason: object,
) -> Completion:
    """Map one vLLM CompletionOutput onto our Completion ("stop" in vLLM covers both EOS and stop strings)."""
    reason: FinishReason
    if finish_reason == "length":
        reason = "length"
    elif isinstance(stop_reason, str):
        reason = "stop"
    else:
        reason = "eos"
    return Completion(
        request_index=request_index,
        sample_index=sample_index,
        text=text,
        num_tokens=num_tokens,
        finish_reason=reason,
    )


class VLLMSampler:
    """Runs all requests through one ``vllm.LLM`` with prefix caching enabled."""

    def __init__(self, lm: LoadedModel) -> None:
        try:
            import vllm
        except ImportError:
            raise ModelError("backend 'vllm' needs vLLM (GPU only): pip install 'alphagen[vllm]'") from None
        if lm.path is None:
            raise ModelError(
                f"backend 'vllm' needs a model directory; {lm.name!r} has none (use a registry name)"
            )
        self._vllm = vllm
        # vLLM loads its own copy of the weights from the Hugging Face-format directory.
        self.llm = vllm.LLM(model=str(lm.path), enable_prefix_caching=True, dtype="auto")

    def sample(
        self,
        requests: list[PromptRequest],
        params: SamplingParams,
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[Completion]:
        """One vLLM generate call for all requests; completions are yielded request by request."""
        refuse_grammars(requests, "vllm")  # no constrained decoding here: refuse, never ignore
        sps = [self._vllm.SamplingParams(**vllm_params_kwargs(i, r, params)) for i, r in enumerate(requests)]
        outputs = self.llm.generate([r.prompt for r in requests], sps)
        for ri, (out, offset) in enumerate(zip(outputs, sample_offsets(requests), strict=True)):
            batch = [
                completion_from_vllm(
                    ri, offset + k, o.text, len(o.token_ids), o.finish_reason, getattr(o, "stop_reason", None)
                )
                for k, o in enumerate(out.outputs)
            ]
            if progress is not None:
                progress(len(batch))
            yield from batch
