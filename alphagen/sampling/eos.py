"""Which token ids end a sample: the model config's, its generation config's and the tokenizer's EOS tokens."""

from __future__ import annotations

from alphagen.models import LoadedModel


def eos_ids_of(lm: LoadedModel) -> set[int]:
    """Every end-of-sequence id the model or its tokenizer declares (all backends stop on the same set)."""
    config = lm.model.config
    eos = config.eos_token_id
    gen_eos = getattr(getattr(lm.model, "generation_config", None), "eos_token_id", None)
    ids = {
        *(eos if isinstance(eos, list) else [eos]),
        *(gen_eos if isinstance(gen_eos, list) else [gen_eos]),
    }
    if lm.tokenizer.eos_token_id is not None:
        ids.add(lm.tokenizer.eos_token_id)
    return {int(i) for i in ids if i is not None}
