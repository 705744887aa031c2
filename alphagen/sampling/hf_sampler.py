"""Our sampler: each prompt encoded once and shared by its samples, continuous batching over sample slots.

The batch is a fixed set of rows ("slots"). A slot holds one sample: its prompt KV (copied from the prompt's
single encoding) and its own generated columns. When a sample ends (stop string, EOS, or length), its
completion
is yielded at once and the slot is refilled with the next sample, so no step is spent on finished sequences
and
no row is padded to the longest. When nothing is left to start, finished rows are dropped from the batch.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from alphagen.models import LoadedModel
from alphagen.models.loader import output_vocab_size
from alphagen.sampling.batching import auto_batch_size
from alphagen.sampling.decode_step import lean_decoder
from alphagen.sampling.eos import eos_ids_of
from alphagen.sampling.grammar import GrammarEngine
from alphagen.sampling.kv_slots import SlotCache, encode_prompt
from alphagen.sampling.params import Completion, FinishReason, PromptRequest, SamplingParams, sample_offsets
from alphagen.sampling.prefix_attention import prompt_groups, use_prefix_attention
from alphagen.sampling.slot import Slot
from alphagen.sampling.stops import StopChecker
from alphagen.sampling.token_select import sample_uniforms, select_tokens
from alphagen.stages import Advance

if TYPE_CHECKING:
    from xgrammar import GrammarMatcher


@dataclass
class _Encoded:
    """A prompt encoded once: its per-layer KV and the logits of the first new token."""

    request_index: int
    kv: list[tuple[torch.Tensor, torch.Tensor]]
    first_logits: torch.Tensor
    length: int


class HFSampler:
    """Prefix-sharing, continuously batched sampler on top of a transformers causal LM."""

    def __init__(self, lm: LoadedModel, prefix_attention: bool = False) -> None:
        self.lm = lm
        self.model = lm.model
        self.config = lm.model.config
        self.vocab_size = output_vocab_size(lm.model)
        self.eos_ids = eos_ids_of(lm)
        self._stop_checkers: dict[tuple[str, ...], StopChecker] = {}
        self._grammar: GrammarEngine | None = None
        # transformers renamed past_key_values to cache (5.2x; the old name warns and goes away in 5.40).
        forward_args = inspect.signature(lm.model.forward).parameters
        self.cache_kw = "cache" if "cache" in forward_args else "past_key_values"
        # Opt-in, CPU: decoding steps read each prompt's keys once per prompt group (see prefix_attention; its
        # samples differ from plain SDPA's by rounding, and it pays only for many rows of one long prompt).
        self.prefix_attention = prefix_attention and use_prefix_attention(lm.model)
        # Decoding steps without transformers' per-call machinery where that is bitwise the same (decode_step).
        self.lean = lean_decoder(lm.model, self.cache_kw, lm.dtype)

    def stop_checker(self, stops: tuple[str, ...]) -> StopChecker:
        """One StopChecker per stop tuple (building its candidate table decodes the vocabulary once)."""
        if stops not in self._stop_checkers:
            self._stop_checkers[stops] = StopChecker(self.lm.tokenizer, stops, self.vocab_size)
        return self._stop_checkers[stops]

    def grammar_engine(self) -> GrammarEngine:
        """The grammar compiler for this tokenizer, built on the first constrained request (loads xgrammar)."""
        if self._grammar is None:
            self._grammar = GrammarEngine(self.lm.tokenizer, self.vocab_size, self.eos_ids)
        return self._grammar

    def sample(
        self, requests: list[PromptRequest], params: SamplingParams, progress: Advance | None = None
    ) -> Iterator[Completion]:
        """Stream completions of all requests as they finish (order: by finishing time; sample_index is
        stable). `progress` is called after every decoding step with the samples it finished (0 for none), so a
        caller with a deadline can stop between steps (an exception it raises ends the sampling there)."""
        if not requests:
            return
        run = _Run(self, requests, params)
        while not run.done:
            finished = run.step()
            if progress is not None:
                progress(len(finished))
            yield from finished


class _Run:
    """State of one ``sample`` call: the request queue, the slot cache and the rows' samples."""

    def __init__(self, sampler: HFSampler, requests: list[PromptRequest], params: SamplingParams) -> None:
        self.s = sampler
        self.params = params
        self.requests = requests
        self.device = sampler.lm.device
        self.stops = sampler.stop_checker(params.stop)
        tok = sampler.lm.tokenizer
        # Tokenize every prompt up front: the widest prompt fixes the prompt region of the cache.
        self.prompt_ids = [tok(r.prompt, add_special_tokens=False)["input_ids"] for r in requests]
        self.prompt_width = max(len(p) for p in self.prompt_ids)
        self.offsets = sample_offsets(requests)
        self.queue = [(ri, self.offsets[ri] + k) for ri, r in enumerate(requests) for k in range(r.count)][
            ::-1
        ]
        self.encoded: _Encoded | None = None
        # Constrained requests: one grammar engine per sampler, one matcher per row holding a constrained sample.
        self.engine = sampler.grammar_engine() if any(r.grammar is not None for r in requests) else None
        # Columns: prompts, then room for two samples' worth of generated columns between compactions.
        self.capacity = self.prompt_width + 2 * params.max_new_tokens + 8
        total = len(self.queue)
        rows = params.batch_size or auto_batch_size(
            self.s.config, self.capacity, self.s.vocab_size, sampler.lm.dtype, self.device, total
        )
        rows = min(rows, total)
        with torch.inference_mode():
            self.cache = SlotCache.for_model(self.s.config, rows, self.capacity, sampler.lm.dtype, self.device)
            self.cache.set_length(self.prompt_width)
        self.slots = [Slot() for _ in range(rows)]
        self.matchers: list[GrammarMatcher | None] = [None] * rows
        self.starts = [self.prompt_width] * rows
        self.uniforms = torch.zeros(rows, params.max_new_tokens, dtype=torch.float64)
        self.pending: list[Completion] = []
        with torch.inference_mode():
            for row in range(rows):
                self._refill(row)

    @property
    def done(self) -> bool:
        """Whether every sample has been yielded."""
        return not self.pending and not self.queue and not any(s.active for s in self.slots)

    def _encode(self, request_index: int) -> _Encoded:
        """Run the prompt once (batch 1) and keep its KV and last-position logits for all its samples."""
        ids = torch.tensor([self.prompt_ids[request_index]], device=self.device)
        kv, logits = encode_prompt(self.s.model, ids, self.s.cache_kw)
        return _Encoded(request_index, kv, logits.float(), ids.shape[1])

    def _refill(self, row: int) -> None:
        """Put the next queued sample into ``row`` (or leave it idle); samples ending on their first token
        finish."""
        while self.queue:
            ri, gi = self.queue.pop()
            if self.encoded is None or self.encoded.request_index != ri:
                self.encoded = self._encode(ri)
            enc = self.encoded
            self.uniforms[row] = sample_uniforms(self.params.seed, gi, self.params.max_new_tokens)
            grammar = self.requests[ri].grammar
            matcher = self.engine.matcher(grammar) if self.engine is not None and grammar is not None else None
            logits = enc.first_logits.unsqueeze(0)
            if matcher is not None:
                # The first token is constrained too (it comes from the prompt's logits, not from a step).
                assert self.engine is not None
                logits = self.engine.mask(logits, [matcher])
            first = int(select_tokens(logits, self.params, self.uniforms[row, :1])[0])
            slot = Slot(ri, gi, enc.length, [first])
            reason = self._advance(matcher, slot)
            if reason is not None:
                self.pending.append(slot.completion(reason, self.stops))
                continue
            self.slots[row] = slot
            self.matchers[row] = matcher
            self.cache.load_prompt(row, enc.kv, self.prompt_width)
            # The row's own columns start where the next step writes; older columns of this row stay masked.
            self.starts[row] = self.cache.length
            return
        self.slots[row] = Slot()
        self.matchers[row] = None

    def _advance(self, matcher: GrammarMatcher | None, slot: Slot) -> FinishReason | None:
        """Feed the slot's latest token to its matcher (if constrained); why the sample ends, or None."""
        if matcher is not None and not matcher.is_terminated():
            # The mask allowed only tokens the matcher accepts; a refusal would be a bug, so end the sample.
            if not matcher.accept_token(slot.tokens[-1]):
                return "stop"
        return slot.finish_reason(self.params, self.s.eos_ids, self.stops)

    @torch.inference_mode()
    def step(self) -> list[Completion]:
        """One decoding step for every row; returns the samples that finished (including ones that ended
        early)."""
        finished, self.pending = self.pending, []
        if not any(s.active for s in self.slots):
            return finished
        self._maybe_compact()
        rows = len(self.slots)
        last = [s.tokens[-1] if s.active else 0 for s in self.slots]
        pos = [s.prompt_len + len(s.tokens) - 1 if s.active else 0 for s in self.slots]
        steps = [len(s.tokens) if s.active else 0 for s in self.slots]
        input_ids = torch.tensor(last, device=self.device).view(rows, 1)
        position_ids = torch.tensor(pos, device=self.device).view(rows, 1)
        logits = self._logits(input_ids, position_ids)
        step_idx = torch.tensor(steps).clamp_(max=self.params.max_new_tokens - 1)
        draws = self.uniforms.gather(1, step_idx.view(rows, 1)).squeeze(1)
        if self.engine is not None and any(m is not None for m in self.matchers):
            logits = self.engine.mask(logits, self.matchers)
        tokens = select_tokens(logits, self.params, draws).tolist()
        # Book-keeping on the CPU: append, detect ends, and refill finished rows immediately.
        for row, slot in enumerate(self.slots):
            if not slot.active:
                continue
            slot.tokens.append(int(tokens[row]))
            reason = self._advance(self.matchers[row], slot)
            if reason is not None:
                finished.append(slot.completion(reason, self.stops))
                self._refill(row)
        finished.extend(self.pending)
        self.pending = []
        self._maybe_shrink()
        return finished

    def _logits(self, input_ids: torch.Tensor, position_ids: torch.Tensor) -> torch.Tensor:
        """This step's next-token logits [rows, vocab], writing the step's keys and values into the cache."""
        mask = self.cache.step_mask()
        groups = None
        if self.s.prefix_attention:
            groups = prompt_groups(self.prompt_width, [s.request_index if s.active else None for s in self.slots])
        if self.s.lean is not None:
            return self.s.lean(input_ids, position_ids, mask, self.cache, groups)
        extra: dict[str, object] = {self.s.cache_kw: self.cache}
        if groups is not None:
            extra["prompt_groups"] = groups
        out = self.s.model(
            input_ids=input_ids,
            position_ids=position_ids,
            attention_mask=mask,
            use_cache=True,
            **extra,
        )
        return out.logits[:, -1]  # type: ignore[no-any-return]

    def _maybe_shrink(self) -> None:
        """With nothing left to start, drop idle rows at once: the last active rows move into the freed slots.

        An idle row costs a step nearly what an active one does (0.5B, bf16, this CPU: 76 ms a step at 8 rows,
        164 ms at 32), while a drop copies at most one row's used columns per freed slot (SlotCache.select_rows),
        and none when the idle rows are the last ones. A sample's columns move with it: against dropping at an
        eighth of the batch in row order, the same samples (sampler benchmark 32 of 32, shipped bench 528 of 528)."""
        if self.queue:
            return
        rows = len(self.slots)
        active = [i for i, s in enumerate(self.slots) if s.active]
        if not active or len(active) == rows:
            return
        # Row j of the smaller batch: itself when active, else the next active row from beyond the new size. With
        # prompt-grouped attention the rows keep their order instead (its groups are slices of neighbouring rows).
        size = len(active)
        movers = [i for i in active if i >= size][::-1]
        keep = active if self.s.prefix_attention else [j if self.slots[j].active else movers.pop() for j in range(size)]
        self.cache.select_rows(keep)
        self.slots = [self.slots[i] for i in keep]
        self.matchers = [self.matchers[i] for i in keep]
        self.starts = [self.starts[i] for i in keep]
        self.uniforms = self.uniforms[keep]

    def _maybe_compact(self) -> None:
        """Squeeze out the columns of finished samples when the cache is full or mostly holes."""
        n = self.cache.length
        lengths = [n - self.starts[i] if s.active else 0 for i, s in enumerate(self.slots)]
        used = max(lengths, default=0)
        generated = n - self.prompt_width
        if n + 1 < self.capacity and generated <= 2 * used + 64:
            return
        new_starts = self.cache.compact(self.prompt_width, torch.tensor(self.starts), torch.tensor(lengths))
        self.starts = [int(x) for x in new_starts.tolist()]
