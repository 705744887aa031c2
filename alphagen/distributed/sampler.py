"""Sampler actors: each holds one model (one per GPU, or on CPU) and samples shards of the prompt groups.

A shard is a run of consecutive prompt groups. Its samples keep their *global* sample indices, and the `hf`
sampler seeds each sample's random stream from (seed, global index), so a shard's completions do not depend on
which actor draws it, nor on a retry after a lost node: the merged result equals the single-machine run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from alphagen.distributed.cluster import RayOptions, connect, gpu_count
from alphagen.sampling.params import Completion, PromptRequest, SamplingParams, sample_offsets
from alphagen.stages import Advance

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from alphagen.pipeline import Models

log = logging.getLogger("alphagen.distributed")


@dataclass(frozen=True)
class RemoteModel:
    """What the driver needs of a model that lives in the actors: its tokenizer (prompts) and its name."""

    tokenizer: PreTrainedTokenizerBase
    """The model's tokenizer, shipped from an actor (prompts are built on the driver)."""
    name: str
    """Human-readable model name."""
    device: str
    """Where the actors hold it, e.g. `2 x cuda` or `1 x cpu` (for display)."""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("name must be non-empty")


class SamplerWorker:
    """The actor body: load the model once, then sample shards on request."""

    def __init__(self, model_spec: str | None, backend: str, device: str | None) -> None:
        from alphagen.models import load_model
        from alphagen.sampling import make_sampler

        self.backend = backend
        self.lm = load_model(model_spec, device=device)
        self.sampler = make_sampler(self.lm, backend=backend)

    def describe(self) -> tuple[PreTrainedTokenizerBase, str, str]:
        return self.lm.tokenizer, self.lm.name, str(self.lm.device)

    def where(self) -> tuple[str, int]:
        """The Ray node id and process id of this actor (or of its restart): for placement checks."""
        import os

        import ray

        return str(ray.get_runtime_context().get_node_id()), os.getpid()

    def sample_shard(
        self, requests: list[PromptRequest], first_index: int, params: SamplingParams
    ) -> list[Completion]:
        """Sample every request of the shard; sample indices start at the shard's global `first_index`."""
        # Number the shard's samples globally, so the per-sample random streams are the single-machine ones. A
        # request may carry its own first_index (repairs, top-ups): offsets are taken relative to the shard's first
        # request, so that index is not added twice.
        local = sample_offsets(requests)
        shifted = [replace(r, first_index=first_index + o - local[0]) for r, o in zip(requests, local, strict=True)]
        return list(self.sampler.sample(shifted, params))


class RaySampler:
    """A `Sampler` whose `sample` splits the requests into shards over the sampler actors."""

    def __init__(self, options: RayOptions, model_spec: str | None, backend: str, device: str | None) -> None:
        import ray

        if backend != "hf":
            raise ValueError(f"--ray samples with the hf backend (seeded per sample), got {backend!r}")
        resources = connect(options)
        gpus = gpu_count(resources)
        count = options.num_samplers or max(1, gpus)
        # One GPU per actor where there are GPUs; CPU actors take no CPU slot so execution tasks still fit.
        actor_cls = ray.remote(
            num_gpus=1 if gpus else 0,
            num_cpus=1 if gpus else 0,
            max_restarts=options.max_retries,
            max_task_retries=options.max_retries,
            resources=dict(options.sampler_resources),
            scheduling_strategy="SPREAD",
        )(SamplerWorker)
        self.actors: list[Any] = [actor_cls.remote(model_spec, backend, device) for _ in range(count)]
        tokenizer, name, dev = ray.get(self.actors[0].describe.remote())
        self.model = RemoteModel(tokenizer=tokenizer, name=name, device=f"{count} x {dev}")
        # The next problem's sampling, planned by the driver and started when the current sampling ends, so
        # actors sample it while the driver executes the current problem (generation overlaps execution).
        self._planned: tuple[list[PromptRequest], SamplingParams] | None = None
        self._ahead: tuple[Any, dict[Any, tuple[int, Any]], list[int]] | None = None
        self.prefetch_hits = 0
        """Problems whose sampling had already started when the pipeline asked for it."""

    def plan_next(self, requests: list[PromptRequest], params: SamplingParams) -> None:
        """Sample these right after the current `sample` call ends, at most one shard per actor ahead."""
        self._planned = (requests, params)

    def _start_planned(self) -> None:
        if self._planned is None:
            return
        requests, params = self._planned
        self._planned = None
        offsets = sample_offsets(requests)
        todo = list(range(len(requests)))[::-1]
        running: dict[Any, tuple[int, Any]] = {}
        # Bounded: one shard per actor; the rest is submitted when the pipeline asks for these samples.
        for actor in self.actors:
            if not todo:
                break
            ri = todo.pop()
            running[actor.sample_shard.remote([requests[ri]], offsets[ri], params)] = (ri, actor)
        self._ahead = ((tuple(requests), params), running, todo)

    def sample(
        self,
        requests: list[PromptRequest],
        params: SamplingParams,
        progress: Advance | None = None,
    ) -> Iterator[Completion]:
        """Yield completions shard by shard as actors finish them (request_index is the global one)."""
        import ray

        offsets = sample_offsets(requests)
        # One prompt group per shard: the unit AlphaCode's budget is split into, and the retry granularity.
        todo = list(range(len(requests)))[::-1]
        running: dict[Any, tuple[int, Any]] = {}
        idle = list(self.actors)
        if self._ahead is not None and self._ahead[0] == (tuple(requests), params):
            # Started ahead with exactly these requests: same shards, same global indices, same samples.
            _, running, todo = self._ahead
            self._ahead = None
            self.prefetch_hits += 1
            busy = {id(actor) for _, actor in running.values()}
            idle = [a for a in self.actors if id(a) not in busy]
        # Any other call (test-input sampling meanwhile) queues behind at most one early shard per actor;
        # early shards of a problem that never comes are bounded by that too and are never merged.
        while todo or running:
            # Each actor holds at most one shard: generation is bounded by the number of models.
            while todo and idle:
                ri = todo.pop()
                actor = idle.pop()
                ref = actor.sample_shard.remote([requests[ri]], offsets[ri], params)
                running[ref] = (ri, actor)
            done, _ = ray.wait(list(running), num_returns=1)
            ri, actor = running.pop(done[0])
            idle.append(actor)
            comps = ray.get(done[0])
            if progress is not None:
                progress(len(comps))
            for c in comps:
                yield replace(c, request_index=ri)
        self._start_planned()

    def close(self) -> None:
        import ray

        for a in self.actors:
            ray.kill(a)


def load_models(options: RayOptions, model_spec: str | None, backend: str, device: str | None) -> Models:
    """A `pipeline.Models` whose code and test samplers are the actors (the driver holds no weights)."""
    from alphagen.pipeline import Models

    sampler = RaySampler(options, model_spec, backend, device)
    return Models(code=sampler.model, sampler=sampler, test=sampler.model, test_sampler=sampler, backend=backend)
