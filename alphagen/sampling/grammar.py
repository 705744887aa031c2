"""Grammar-constrained decoding: a per-step token mask that keeps a sample inside an EBNF grammar.

Built on xgrammar (a maintained structured-generation library that runs on the CPU, used by vLLM and SGLang):
it compiles an EBNF grammar against the tokenizer's vocabulary once, then gives each sample a matcher that
says, at every step, which tokens may come next (a bitmask applied to the logits before a token is drawn) and
advances on the token drawn. Once the grammar's root is complete only the end-of-sequence tokens stay
allowed, so a constrained sample ends with "eos" as soon as it is a full sentence of the grammar.

The mask depends only on the sample's own tokens, never on its batch row or neighbours, so the sampler's
randomness contract (draws from (seed, sample_index)) is unchanged: constrained samples stay reproducible for
any batch size. xgrammar is imported lazily: unconstrained sampling never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    import torch
    from transformers import PreTrainedTokenizerBase
    from xgrammar import CompiledGrammar, GrammarMatcher

    from alphagen.sampling.params import PromptRequest


class UnsupportedConstraint(ValueError):
    """A backend that cannot apply a request's grammar refuses it with this error (callers may fall back)."""


class GrammarEngine:
    """Compiles grammars for one tokenizer (cached by grammar text) and masks logits for matchers."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, vocab_size: int, stop_ids: Iterable[int]) -> None:
        import xgrammar as xgr

        self._xgr = xgr
        self.vocab_size = vocab_size
        # The sampler's EOS ids are the grammar's stop tokens: a finished sentence may only be followed by them.
        info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size, stop_token_ids=sorted(stop_ids))
        self.compiler = xgr.GrammarCompiler(info, max_threads=1, cache_enabled=True)
        self._compiled: dict[str, CompiledGrammar] = {}

    def matcher(self, grammar: str) -> GrammarMatcher:
        """A fresh matcher at the start of `grammar` (compiled once per distinct text)."""
        if grammar not in self._compiled:
            try:
                self._compiled[grammar] = self.compiler.compile_grammar(grammar)
            except Exception as e:  # xgrammar raises RuntimeError subclasses for syntax errors
                raise ValueError(f"grammar does not compile: {e}") from e
        return self._xgr.GrammarMatcher(self._compiled[grammar])

    def mask(self, logits: torch.Tensor, matchers: list[GrammarMatcher | None]) -> torch.Tensor:
        """`logits` [rows, vocab] with every token a row's matcher (None: unconstrained) forbids set to -inf,
        as a new fp32 tensor."""
        out = logits.float().clone()
        rows = [i for i, m in enumerate(matchers) if m is not None]
        if not rows:
            return out
        bitmask = self._xgr.allocate_token_bitmask(len(matchers), self.vocab_size)
        for i, m in enumerate(matchers):
            if m is not None:
                m.fill_next_token_bitmask(bitmask, i)
        self._xgr.apply_token_bitmask_inplace(out, bitmask, vocab_size=self.vocab_size, indices=rows)
        return out


def refuse_grammars(requests: Iterable[PromptRequest], backend: str) -> None:
    """For backends without constrained decoding: refuse a request with a grammar instead of ignoring it."""
    if any(r.grammar is not None for r in requests):
        raise UnsupportedConstraint(f"the {backend} backend does not support grammar-constrained requests")
