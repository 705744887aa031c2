"""The baseline: transformers ``generate(num_return_sequences=n)``, which re-encodes the prompt for every
sample
and keeps decoding finished rows until the longest one ends. Kept for the benchmark and equivalence tests."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from alphagen.models import LoadedModel
from alphagen.models.loader import output_vocab_size
from alphagen.sampling.grammar import refuse_grammars
from alphagen.sampling.params import Completion, PromptRequest, SamplingParams, sample_offsets
from alphagen.sampling.stops import StopChecker
from alphagen.stages import Advance

# generate's own default chunk when no batch_size is given: big enough to show its padding costs.
DEFAULT_CHUNK = 32


class GenerateSampler:
    """Samples with plain ``model.generate``; completions are yielded chunk by chunk."""

    def __init__(self, lm: LoadedModel, generate_kwargs: dict[str, object] | None = None) -> None:
        self.lm = lm
        # Extra generate() arguments, e.g. cache_implementation="static" for the benchmark's static-cache path.
        self.generate_kwargs = dict(generate_kwargs or {})
        vocab = output_vocab_size(lm.model)
        self._vocab = vocab
        eos = lm.model.generation_config.eos_token_id if lm.model.generation_config else None
        ids = eos if isinstance(eos, list) else [eos]
        self.eos_ids = {int(i) for i in [*ids, lm.tokenizer.eos_token_id] if i is not None}

    def sample(
        self,
        requests: list[PromptRequest],
        params: SamplingParams,
        progress: Advance | None = None,
    ) -> Iterator[Completion]:
        """Generate each request's samples in chunks of ``batch_size`` (default 32) sequences."""
        refuse_grammars(requests, "generate")  # no constrained decoding here: refuse, never ignore
        tok = self.lm.tokenizer
        # The stop checker here only post-processes token lists, so it needs no candidate table.
        stops = StopChecker(tok, params.stop, 0)
        chunk = params.batch_size or DEFAULT_CHUNK
        pad_id = tok.pad_token_id if tok.pad_token_id is not None else next(iter(self.eos_ids))
        for ri, (req, offset) in enumerate(zip(requests, sample_offsets(requests), strict=True)):
            ids = torch.tensor(
                [tok(req.prompt, add_special_tokens=False)["input_ids"]], device=self.lm.device
            )
            done = 0
            while done < req.count:
                n = min(chunk, req.count - done)
                # One seed per chunk keeps the baseline reproducible; it cannot match our per-sample streams.
                torch.manual_seed(params.seed * 1_000_003 + offset + done)
                kwargs: dict[str, object] = (
                    {"do_sample": False}
                    if params.greedy
                    else {
                        "do_sample": True,
                        "temperature": params.temperature,
                        "top_p": params.top_p,
                        "top_k": params.top_k,
                    }
                )
                # generate refuses num_return_sequences > 1 when greedy, so repeat the prompt rows instead.
                inputs = ids.expand(n, -1) if params.greedy else ids
                with torch.inference_mode():
                    out = self.lm.model.generate(
                        input_ids=inputs,
                        attention_mask=torch.ones_like(inputs),
                        max_new_tokens=params.max_new_tokens,
                        num_return_sequences=1 if params.greedy else n,
                        pad_token_id=pad_id,
                        eos_token_id=sorted(self.eos_ids),
                        stop_strings=list(params.stop) or None,
                        tokenizer=tok,
                        # ignore_eos: EOS is suppressed until the length limit, so every row runs to the end.
                        min_new_tokens=params.max_new_tokens if params.ignore_eos else None,
                        **kwargs,
                        **self.generate_kwargs,
                    )
                new = out[:, ids.shape[1] :].tolist()
                batch: list[Completion] = []
                for k, row in enumerate(new):
                    toks, reason = stops.finish_unstopped(row, set() if params.ignore_eos else self.eos_ids)
                    body = toks[:-1] if reason == "eos" else toks
                    batch.append(
                        Completion(
                            request_index=ri,
                            sample_index=offset + done + k,
                            text=stops.text_of(body),
                            num_tokens=len(toks),
                            finish_reason=reason,
                        )
                    )
                done += n
                if progress is not None:
                    progress(len(batch))
                yield from batch
