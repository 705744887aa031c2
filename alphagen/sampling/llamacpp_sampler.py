"""llama.cpp backend: the GGUF file run by llama.cpp's CPU kernels, with our prefix sharing, continuous batching
and per-sample random streams.

llama.cpp does the forward passes: every step is one ``llama_decode`` over all active sequences (one token
each), in a single unified KV cache. A prompt is decoded once into its own sequence and ``llama_memory_seq_cp``
shares its cells with each sample's sequence (no copy: in a unified cache, cells carry a set of sequence ids).
Token choice is ours (``token_select``) on llama.cpp's logits, with the same per-sample uniform streams as the
transformers sampler: same seed, same samples, whatever the batch layout, as far as llama.cpp's arithmetic is
itself deterministic for a given batch size and thread count. Tokenization and stop detection use the
transformers tokenizer of the same model, so prompts and texts are exactly those of the other backends.

``llama_cpp`` (``pip install 'alphagen[llamacpp]'``) is imported lazily: only this backend needs it.
"""

from __future__ import annotations

import ctypes
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from alphagen.models import LoadedModel, ModelError
from alphagen.sampling.batching import CPU_MAX_ROWS
from alphagen.sampling.eos import eos_ids_of
from alphagen.sampling.grammar import refuse_grammars
from alphagen.sampling.params import Completion, PromptRequest, SamplingParams, sample_offsets
from alphagen.sampling.slot import Slot
from alphagen.sampling.stops import StopChecker
from alphagen.sampling.token_select import sample_uniforms, select_tokens
from alphagen.stages import Advance

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

MAX_SEQUENCES = 256


_QUIET: list[Any] = []  # the installed log callback, kept alive (ctypes would free it otherwise)


def import_llama_cpp() -> ModuleType:
    """The low-level ``llama_cpp`` bindings, or a ModelError naming the extra that installs them."""
    try:
        import llama_cpp
    except ImportError:
        raise ModelError(
            "the llamacpp backend needs llama-cpp-python: pip install 'alphagen[llamacpp]' "
            '(compiles llama.cpp; CMAKE_ARGS="-DGGML_NATIVE=ON" builds for this CPU)'
        ) from None
    # llama.cpp logs every load and graph to stderr, over our progress bars; -vv (DEBUG) keeps it.
    if not _QUIET and not logging.getLogger("alphagen").isEnabledFor(logging.DEBUG):
        _QUIET.append(llama_cpp.llama_log_callback(lambda level, text, data: None))
        llama_cpp.llama_log_set(_QUIET[0], ctypes.c_void_p(0))
    return llama_cpp


def gguf_path_of(lm: LoadedModel) -> Path:
    """The GGUF file behind a loaded model: the embedded model's joined GGUF, or the .gguf file it was loaded
    from."""
    from alphagen.models.registry import REGISTRY

    if lm.name in REGISTRY:
        from alphagen.models.gguf_file import cached_gguf

        return cached_gguf(lm.name)
    path = Path(lm.name).expanduser()
    if path.suffix == ".gguf" and path.is_file():
        return path
    raise ModelError(f"the llamacpp backend needs a GGUF model (an embedded one or a .gguf file), got {lm.name!r}")


@dataclass(frozen=True)
class LlamaCppConfig:
    """How the llama.cpp context is built."""

    threads: int = 0
    """CPU threads for decoding; 0 means torch's thread count (what the other backends use)."""
    flash_attn: bool = True
    """llama.cpp's fused attention: fewer passes over the KV cache per step."""

    def __post_init__(self) -> None:
        if not isinstance(self.threads, int) or isinstance(self.threads, bool) or self.threads < 0:
            raise ValueError(f"threads must be an integer >= 0, got {self.threads!r}")


class LlamaCppSampler:
    """Continuously batched sampling on llama.cpp; the model is loaded from ``gguf`` once per sampler."""

    def __init__(
        self, gguf: Path, tokenizer: PreTrainedTokenizerBase, eos_ids: set[int], config: LlamaCppConfig | None = None
    ) -> None:
        self.ll = import_llama_cpp()
        self.config = config or LlamaCppConfig()
        self.tokenizer = tokenizer
        ll = self.ll
        ll.llama_backend_init()
        mparams = ll.llama_model_default_params()
        self.model = ll.llama_model_load_from_file(str(gguf).encode(), mparams)
        if not self.model:
            raise ModelError(f"llama.cpp could not load {str(gguf)!r}")
        self.vocab_size = int(ll.llama_vocab_n_tokens(ll.llama_model_get_vocab(self.model)))
        self.eos_ids = set(eos_ids)
        self._stop_checkers: dict[tuple[str, ...], StopChecker] = {}
        # A llama_context pointer (llama_cpp types its pointers as ints), or None before the first context.
        self._ctx: int | None = None
        self._ctx_shape: tuple[int, int, int] = (0, 0, 0)

    @classmethod
    def from_loaded(cls, lm: LoadedModel, config: LlamaCppConfig | None = None) -> LlamaCppSampler:
        """The llama.cpp sampler for a model loaded by ``load_model`` (its GGUF file and tokenizer)."""
        import_llama_cpp()  # the missing package is the first thing to report
        if lm.device.type != "cpu":
            raise ModelError(f"the llamacpp backend runs on the CPU here, got device {lm.device}")
        return cls(gguf_path_of(lm), lm.tokenizer, eos_ids_of(lm), config)

    def __del__(self) -> None:
        # Free native memory in reverse order of creation; ll may be half torn down at interpreter exit.
        try:
            if self._ctx:
                self.ll.llama_free(self._ctx)
            if self.model:
                self.ll.llama_model_free(self.model)
        except Exception:  # noqa: BLE001 - nothing to do about a failed free at shutdown
            pass

    def stop_checker(self, stops: tuple[str, ...]) -> StopChecker:
        """One StopChecker per stop tuple (its candidate table scans the vocabulary once)."""
        if stops not in self._stop_checkers:
            self._stop_checkers[stops] = StopChecker(self.tokenizer, stops, self.vocab_size)
        return self._stop_checkers[stops]

    def context(self, rows: int, cells: int, batch: int) -> int:
        """A context with ``rows`` + 1 sequences and at least ``cells`` KV cells, reused when big enough."""
        have_rows, have_cells, have_batch = self._ctx_shape
        if self._ctx and have_rows >= rows and have_cells >= cells and have_batch >= batch:
            self.ll.llama_memory_clear(self.ll.llama_get_memory(self._ctx), True)
            return self._ctx
        if self._ctx:
            self.ll.llama_free(self._ctx)
        ll = self.ll
        cparams = ll.llama_context_default_params()
        cparams.n_ctx = cells
        cparams.n_batch = batch
        cparams.n_ubatch = min(batch, 512)
        cparams.n_seq_max = rows + 1  # one per row, plus the prompt's own sequence
        threads = self.config.threads or torch.get_num_threads() or os.cpu_count() or 1
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        # Unified: all sequences share one cell pool, so seq_cp of a prompt shares cells instead of copying.
        cparams.kv_unified = True
        cparams.flash_attn_type = (
            ll.LLAMA_FLASH_ATTN_TYPE_ENABLED if self.config.flash_attn else ll.LLAMA_FLASH_ATTN_TYPE_DISABLED
        )
        cparams.no_perf = True
        ctx = ll.llama_init_from_model(self.model, cparams)
        if not ctx:
            raise ModelError(f"llama.cpp could not create a context ({rows} rows, {cells} cells)")
        self._ctx, self._ctx_shape = ctx, (rows, cells, batch)
        return ctx

    def sample(
        self, requests: list[PromptRequest], params: SamplingParams, progress: Advance | None = None
    ) -> Iterator[Completion]:
        """Stream completions of all requests as they finish (sample_index is stable)."""
        refuse_grammars(requests, "llamacpp")  # no constrained decoding here: refuse, never ignore
        if not requests:
            return
        run = _Run(self, requests, params)
        try:
            while not run.done:
                finished = run.step()
                if finished and progress is not None:
                    progress(len(finished))
                yield from finished
        finally:
            run.close()


class _Run:
    """One ``sample`` call: queue, sequences, and the llama_batch reused by every step."""

    def __init__(self, sampler: LlamaCppSampler, requests: list[PromptRequest], params: SamplingParams) -> None:
        self.s = sampler
        self.ll = sampler.ll
        self.params = params
        self.stops = sampler.stop_checker(params.stop)
        tok = sampler.tokenizer
        self.prompt_ids = [tok(r.prompt, add_special_tokens=False)["input_ids"] for r in requests]
        offsets = sample_offsets(requests)
        self.queue = [(ri, offsets[ri] + k) for ri, r in enumerate(requests) for k in range(r.count)][::-1]
        total = len(self.queue)
        # llama.cpp caps sequences per context (LLAMA_MAX_SEQ, 256 in current builds); one is the prompt's.
        rows = min(params.batch_size or CPU_MAX_ROWS, total, MAX_SEQUENCES - 1)
        width = max(len(p) for p in self.prompt_ids)
        # Cells: every row's own tokens, plus a prompt per row and the one being encoded (worst case: all differ).
        cells = (rows + 1) * width + rows * (params.max_new_tokens + 1)
        batch = max(width, rows)
        self.ctx = sampler.context(rows, cells, batch)
        self.mem = self.ll.llama_get_memory(self.ctx)
        self.batch = self.ll.llama_batch_init(batch, 0, 1)
        self.prompt_seq = rows
        self.encoded = -1  # request whose prompt the prompt sequence holds
        self.first_logits = torch.empty(0)
        self.slots = [Slot() for _ in range(rows)]
        self.uniforms = torch.zeros(rows, params.max_new_tokens, dtype=torch.float64)
        self.pending: list[Completion] = []
        for row in range(rows):
            self._refill(row)

    def close(self) -> None:
        """Free the batch (the context is the sampler's, reused by the next call)."""
        if self.batch is not None:
            self.ll.llama_batch_free(self.batch)
            self.batch = None

    @property
    def done(self) -> bool:
        """Whether every sample has been yielded."""
        return not self.pending and not self.queue and not any(s.active for s in self.slots)

    def _decode(self, entries: list[tuple[int, int, int, bool]]) -> None:
        """One llama_decode of (token, position, sequence, wants-logits) entries."""
        b = self.batch
        for i, (token, pos, seq, logits) in enumerate(entries):
            b.token[i] = token
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = logits
        b.n_tokens = len(entries)
        rc = self.ll.llama_decode(self.ctx, b)
        if rc != 0:
            raise RuntimeError(f"llama_decode failed with code {rc} ({len(entries)} tokens)")

    def _logits(self, rows: int) -> torch.Tensor:
        """The logits of the last decode's ``rows`` outputs, [rows, vocab] fp32 (a view of llama.cpp's buffer)."""
        ptr = self.ll.llama_get_logits(self.ctx)
        arr = np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(rows, self.s.vocab_size))
        return torch.from_numpy(arr)

    def _encode(self, request_index: int) -> None:
        """Decode the prompt once into the prompt sequence and keep its last-position logits."""
        self.ll.llama_memory_seq_rm(self.mem, self.prompt_seq, -1, -1)
        ids = self.prompt_ids[request_index]
        self._decode([(t, p, self.prompt_seq, p == len(ids) - 1) for p, t in enumerate(ids)])
        self.first_logits = self._logits(1)[0].clone()
        self.encoded = request_index

    def _refill(self, row: int) -> None:
        """Start the next queued sample in ``row`` (its sequence shares the prompt's cells), or leave it idle."""
        self.ll.llama_memory_seq_rm(self.mem, row, -1, -1)
        while self.queue:
            ri, gi = self.queue.pop()
            if self.encoded != ri:
                self._encode(ri)
            self.uniforms[row] = sample_uniforms(self.params.seed, gi, self.params.max_new_tokens)
            first = int(select_tokens(self.first_logits.unsqueeze(0), self.params, self.uniforms[row, :1])[0])
            slot = Slot(ri, gi, len(self.prompt_ids[ri]), [first])
            reason = slot.finish_reason(self.params, self.s.eos_ids, self.stops)
            if reason is not None:
                self.pending.append(slot.completion(reason, self.stops))
                continue
            self.ll.llama_memory_seq_cp(self.mem, self.prompt_seq, row, -1, -1)
            self.slots[row] = slot
            return
        self.slots[row] = Slot()

    def step(self) -> list[Completion]:
        """One llama_decode for all active rows; returns the samples that finished."""
        finished, self.pending = self.pending, []
        active = [row for row, s in enumerate(self.slots) if s.active]
        if not active:
            return finished
        entries = []
        for row in active:
            s = self.slots[row]
            entries.append((s.tokens[-1], s.prompt_len + len(s.tokens) - 1, row, True))
        self._decode(entries)
        steps = torch.tensor([len(self.slots[r].tokens) for r in active]).clamp_(max=self.params.max_new_tokens - 1)
        draws = self.uniforms[active].gather(1, steps.view(-1, 1)).squeeze(1)
        tokens = select_tokens(self._logits(len(active)), self.params, draws).tolist()
        for row, token in zip(active, tokens, strict=True):
            slot = self.slots[row]
            slot.tokens.append(int(token))
            reason = slot.finish_reason(self.params, self.s.eos_ids, self.stops)
            if reason is not None:
                finished.append(slot.completion(reason, self.stops))
                self._refill(row)
        finished.extend(self.pending)
        self.pending = []
        return finished
