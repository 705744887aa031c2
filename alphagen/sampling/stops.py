"""Stop detection on the decoded new text, cheap enough to run every decoding step on a large batch."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from alphagen.sampling.params import FinishReason

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

_MAX_BYTES_PER_CHAR = 4


class StopChecker:
    """Finds stop strings in generated token ids and turns finished token ids into final text.

    A stop string can only complete on a token whose own decoding contains the stop's last character, or on a
    token that is part of a multi-byte character (it decodes alone to U+FFFD). Only those candidate tokens pay
    for
    a decode of the recent tokens, so checking is nearly free on steps that cannot end a sample.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase, stops: tuple[str, ...], vocab_size: int) -> None:
        self.tokenizer = tokenizer
        self.stops = stops
        # Enough trailing tokens to cover the longest stop even when every character took several byte tokens.
        self.window = _MAX_BYTES_PER_CHAR * max((len(s) for s in stops), default=0) + 2
        self.candidates = (
            self._candidate_mask(vocab_size) if stops else torch.zeros(vocab_size, dtype=torch.bool)
        )

    def _candidate_mask(self, vocab_size: int) -> torch.Tensor:
        """Which token ids may complete a stop string: a cheap superset, decided from raw token strings.

        Decoding 150k tokens one by one takes tens of seconds, so we look at the raw vocabulary strings
        instead:
        a token is a candidate if it contains a stop's last character, any non-ASCII character (byte-level
        tokenizers map spaces, newlines and high bytes there), or is a SentencePiece byte token (``<0x..>``).
        A superset only costs an extra tail decode; it never misses a stop.
        """
        last_chars = {s[-1] for s in self.stops}
        n = min(vocab_size, len(self.tokenizer))
        pieces = self.tokenizer.convert_ids_to_tokens(list(range(n)))
        flags = [
            p is None or any(c in p for c in last_chars) or not p.isascii() or p.startswith("<0x")
            for p in pieces
        ]
        mask = torch.zeros(vocab_size, dtype=torch.bool)
        mask[:n] = torch.tensor(flags, dtype=torch.bool)
        return mask

    def may_stop(self, tokens: torch.Tensor) -> torch.Tensor:
        """Bool per row: whether this step's token could complete a stop string (CPU tensor)."""
        return self.candidates[tokens.cpu()]

    def hit(self, token_ids: list[int]) -> bool:
        """Whether the decoded text of the generated tokens ends with (contains, in its tail) a stop
        string."""
        tail = self.tokenizer.decode(token_ids[-self.window :], skip_special_tokens=True)
        return any(s in tail for s in self.stops)

    def text_of(self, token_ids: list[int]) -> str:
        """Decoded text with the first stop string and everything after it removed."""
        # One sequence decodes to one string (transformers types decode for batches too).
        text = str(self.tokenizer.decode(token_ids, skip_special_tokens=True))
        cut = min((i for i in (text.find(s) for s in self.stops) if i >= 0), default=-1)
        return text if cut < 0 else text[:cut]

    def finish_unstopped(self, token_ids: list[int], eos_ids: set[int]) -> tuple[list[int], FinishReason]:
        """For a token list not checked step by step (the generate baseline): where it really ends and why.

        Returns the generated tokens up to and including the ending token, and the finish reason.
        """
        end = next((i for i, t in enumerate(token_ids) if t in eos_ids), -1)
        body = token_ids if end < 0 else token_ids[:end]
        full = self.tokenizer.decode(body, skip_special_tokens=True)
        if self.stops and any(s in full for s in self.stops):
            # Binary search for the shortest prefix whose text holds a stop: containment is monotone in
            # length.
            lo, hi = 1, len(body)
            while lo < hi:
                mid = (lo + hi) // 2
                text = self.tokenizer.decode(body[:mid], skip_special_tokens=True)
                if any(s in text for s in self.stops):
                    hi = mid
                else:
                    lo = mid + 1
            return body[:lo], "stop"
        if end >= 0:
            return token_ids[: end + 1], "eos"
        return token_ids, "length"
