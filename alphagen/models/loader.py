"""load_model: turn a ``--model`` spec (registry name, directory, .gguf file, hub id) into a ready model."""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from alphagen.models.converted import GgufSource, convert_cached
from alphagen.models.cpu_heap import retain_freed_memory
from alphagen.models.errors import ModelError
from alphagen.models.packed_linear import pack_for_cpu
from alphagen.models.registry import DEFAULT_MODEL, REGISTRY, default_model, is_installed

if TYPE_CHECKING:
    # Types only: transformers is imported when a model is loaded, not when this module is.
    from transformers import PreTrainedTokenizerBase

    # transformers' own type for what AutoModelForCausalLM loads: a PreTrainedModel with GenerationMixin's generate.
    from transformers.models.auto.modeling_auto import _BaseModelWithGenerate as CausalLM

log = logging.getLogger(__name__)

_DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
    "float16": torch.float16,
    "fp16": torch.float16,
    "half": torch.float16,
}


@dataclass(frozen=True)
class LoadedModel:
    """A causal LM ready for sampling, with the tokenizer and where it runs."""

    model: CausalLM
    """The transformers causal LM, in eval mode, on ``device`` in ``dtype``."""
    tokenizer: PreTrainedTokenizerBase
    """The matching transformers tokenizer (chat template included when the model has one)."""
    name: str
    """Human-readable name: the registry name, directory, file or hub id it came from."""
    device: torch.device
    """Device the weights live on."""
    dtype: torch.dtype
    """Floating-point type of the weights."""
    path: Path | None = None
    """A directory in Hugging Face format holding this model (config, tokenizer, weights), for backends
    such as
    vLLM that load by path; None when there is none (e.g. a model built in memory)."""
    quantized: str | None = None
    """"int8" when the linear layers were dynamically quantized (CPU only), else None."""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("name must be a non-empty string, got ''")
        if not isinstance(self.device, torch.device):
            raise ValueError(f"device must be a torch.device, got {type(self.device).__name__}")
        if not isinstance(self.dtype, torch.dtype):
            raise ValueError(f"dtype must be a torch.dtype, got {type(self.dtype).__name__}")


def pick_device(device: str | None) -> torch.device:
    """The requested device, else the GPU when one is usable, else the CPU."""
    if device:
        try:
            dev = torch.device(device)
        except RuntimeError:
            raise ModelError(f"device must be like 'cpu', 'cuda' or 'cuda:1', got {device!r}") from None
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ModelError(f"device {device!r} was requested but no CUDA GPU is available")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def cpu_has_fast_bf16() -> bool:
    """Whether this CPU multiplies bf16 natively (AVX512-BF16 or AMX), so bf16 weights are faster than fp32.

    On Linux the kernel's CPU flags say so for certain. Elsewhere (no /proc/cpuinfo) a short matmul probe decides:
    bf16 must beat fp32 by a clear margin, because emulated bf16 is several times *slower* than fp32.
    """
    return _cpu_bf16_verdict()


@functools.cache
def _cpu_bf16_verdict() -> bool:
    flags = _cpu_flags()
    if flags is not None:
        return bool(flags & {"avx512_bf16", "amx_bf16"})
    return _bf16_probe_speedup() >= 1.3


def _cpu_flags() -> set[str] | None:
    """The CPU feature flags from /proc/cpuinfo, or None where there is no such file."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.split(":", 1)[1].split())
    return None


def _bf16_probe_speedup(size: int = 512, repeats: int = 8) -> float:
    """fp32 time / bf16 time of a few square matmuls (about 0.1 s): > 1 where bf16 is the faster format."""
    times = {}
    for dt in (torch.float32, torch.bfloat16):
        a = torch.randn(size, size).to(dt)
        a @ a  # warm-up: thread pool, kernel selection
        start = time.perf_counter()
        for _ in range(repeats):
            a @ a
        times[dt] = time.perf_counter() - start
    return times[torch.float32] / max(times[torch.bfloat16], 1e-9)


def pick_dtype(dtype: str | None, device: torch.device, quantize: str | None = None) -> torch.dtype:
    """The requested dtype, else the fastest one that keeps the answers: bf16 on GPU (fp16 where bf16 is
    unsupported), bf16 on CPUs with native bf16 units, fp32 on other CPUs.

    bf16 is not a lossy shortcut here: on HumanEval (greedy, embedded 0.5B) it scores as fp32 does (see
    docs/sampling.md), while emulated bf16 on older CPUs is slower than fp32. int8 dynamic quantization needs
    fp32 weights to quantize from.
    """
    if dtype and dtype != "auto":
        if dtype not in _DTYPES:
            raise ModelError(f"dtype must be one of {sorted(_DTYPES)} or 'auto', got {dtype!r}")
        return _DTYPES[dtype]
    if quantize is not None:
        return torch.float32
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and cpu_has_fast_bf16():
        return torch.bfloat16
    return torch.float32


def load_model(
    spec: str | None = None,
    device: str | None = None,
    dtype: str | None = None,
    quantize: str | None = None,
    cache_dir: str | Path | None = None,
) -> LoadedModel:
    """Load a model by registry name (default ``qwen2.5-coder-0.5b``), local directory, ``.gguf`` file or
    hub id. GGUF weights (the embedded models, .gguf files) are converted once into ``cache_dir`` (None: the
    alphagen cache, ``cache_root()``) and read from there afterwards (alphagen.models.converted)."""
    spec = spec or DEFAULT_MODEL
    # transformers draws its own tqdm bar per load; ours (rich, on stderr) is the one users read, and a second
    # bar interleaved with it only garbles the terminal. -vv brings it back.
    if not logging.getLogger("alphagen").isEnabledFor(logging.DEBUG):
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    dev = pick_device(device)
    dt = pick_dtype(dtype, dev, quantize)
    if quantize is not None and dt != torch.float32:
        raise ModelError(f"--quantize int8 quantizes fp32 weights: dtype must be fp32 or auto, got {dtype!r}")
    started = time.perf_counter()
    local = Path(spec).expanduser()
    path: Path | None
    # Registry names first: they are the offline, pip-installed models. They and .gguf files are GGUF weights.
    if spec in REGISTRY or (local.is_file() and local.suffix == ".gguf"):
        model, tok, path = _load_converted(GgufSource.resolve(spec), dt, cache_dir)
    else:
        if local.is_dir():
            model, tok = _load_dir(local, dt, spec)
            path = local
        elif local.exists() or spec.endswith(".gguf") or spec.startswith((".", "/", "~")):
            raise ModelError(
                f"model path {spec!r} must be a model directory or a .gguf file, and it must exist"
            )
        else:
            # Offline, a name that is not in the hub cache cannot load: say so now instead of retrying the hub.
            if not _hub_cached(spec) and not _hub_reachable():
                raise ModelError(
                    f"model {spec!r} is neither an embedded model ({', '.join(sorted(REGISTRY))}), a local "
                    f"directory, a .gguf file, nor a hub id in the local cache, and the hub is unreachable "
                    f"(offline); {_default_hint()}"
                )
            model, tok = _load_hub(spec, dt)
            path = None
    # nn.Module's to and eval, in place: transformers types its `to` override through functools.wraps, unbound.
    module: torch.nn.Module = model
    module.to(dev)
    module.eval()
    if quantize is not None:
        quantize_int8(model, quantize, dev)
    else:
        # bf16 on the CPU: weights reordered once for oneDNN instead of at every call (same outputs, faster steps).
        pack_for_cpu(model, dev, dt)
    if dev.type == "cpu":
        # Decoding allocates and frees the same 10-20 MB tensors every step: keep them in the heap (cpu_heap).
        # After loading, so the loader's own temporaries are given back to the kernel as usual.
        retain_freed_memory()
    log.info("loaded model %s on %s (%s) in %.1fs", spec, dev, dt, time.perf_counter() - started)
    return LoadedModel(model=model, tokenizer=tok, name=spec, device=dev, dtype=dt, path=path, quantized=quantize)


def output_vocab_size(model: CausalLM) -> int:
    """Rows of the LM head (the logits' width). A dynamically quantized head exposes `weight` as a method."""
    head = model.get_output_embeddings()
    weight = head.weight() if callable(head.weight) else head.weight
    return int(weight.shape[0])


def quantize_int8(model: CausalLM, quantize: str, device: torch.device) -> None:
    """Dynamic int8 quantization of every linear layer, in place.

    CPU decoding of a 0.5B model at batch 32 is bound by streaming 2 GB of fp32 weights per step, not by
    arithmetic: int8 weights are a quarter of the bytes, and fbgemm's int8 kernels run ~1.8x faster end to end
    here (see the sampler benchmark). Activations stay fp32, so quality loss is small but not zero: opt-in.
    """
    if quantize != "int8":
        raise ModelError(f"quantize must be 'int8' or None, got {quantize!r}")
    if device.type != "cpu":
        raise ModelError(f"int8 dynamic quantization runs on the CPU only, got device {device}")
    import warnings

    with warnings.catch_warnings():
        # torch.ao.quantization announces its move to torchao; the API still works in this torch.
        warnings.simplefilter("ignore")
        torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def _load_converted(
    source: GgufSource, dtype: torch.dtype, cache_dir: str | Path | None
) -> tuple[CausalLM, PreTrainedTokenizerBase, Path | None]:
    """A GGUF's model from its converted copy in the cache (converting it the first time); where the cache
    cannot be written, from a conversion in memory, with a warning (the run goes on, only slower next time)."""
    conversion = convert_cached(source, dtype, cache_dir)
    if conversion.directory is None:
        # A conversion without a cache entry holds the model and tokenizer it converted in memory.
        assert conversion.model is not None and conversion.tokenizer is not None
        log.warning("%s; using weights converted in memory (every run converts again until the cache is "
                    "writable, or pass --cache-dir)", conversion.problem)
        return conversion.model, conversion.tokenizer, None
    model, tok = _load_dir(conversion.directory, dtype, source.name)
    return model, tok, conversion.directory


def _load_dir(directory: Path, dtype: torch.dtype, spec: str) -> tuple[CausalLM, PreTrainedTokenizerBase]:
    """Load a Hugging Face-format directory (ours or the user's)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(directory)
        model = AutoModelForCausalLM.from_pretrained(directory, dtype=dtype)
    except (OSError, ValueError) as exc:
        raise ModelError(f"could not load model directory {spec!r}: {_first_line(exc)}") from exc
    return model, tok


def _load_hub(repo_id: str, dtype: torch.dtype) -> tuple[CausalLM, PreTrainedTokenizerBase]:
    """Load a Hugging Face hub id (works only with internet access or a warm hub cache)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(repo_id)
        model = AutoModelForCausalLM.from_pretrained(repo_id, dtype=dtype)
    except (OSError, ValueError) as exc:
        names = ", ".join(sorted(REGISTRY))
        raise ModelError(
            f"model {repo_id!r} is neither an embedded model ({names}), a local directory, a .gguf file, "
            f"nor a reachable hub id ({_first_line(exc)}); {_default_hint()}"
        ) from exc
    return model, tok


def _hub_cached(repo_id: str) -> bool:
    """Whether the hub cache already holds this repo's config (then it may load offline)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(repo_id, "config.json")
    except Exception:  # noqa: BLE001 - a malformed id is simply not cached
        return False
    return isinstance(found, str)


def _hub_reachable(timeout_s: float = 3.0) -> bool:
    """HF_HUB_OFFLINE, or no TCP connection to the hub within `timeout_s`: unreachable. (The hub client would
    otherwise retry for most of a minute, warning twice per retry.)"""
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    url = urlparse(constants.ENDPOINT)
    try:
        with socket.create_connection((url.hostname or "huggingface.co", url.port or 443), timeout=timeout_s):
            return True
    except OSError:
        return False


def _default_hint() -> str:
    """What to use instead: the default model, with the install command only when no embedded model is installed."""
    name = default_model()
    if not is_installed(name):
        return f"offline, use the default: pip install 'alphagen[{REGISTRY[name].extra}]'"
    return f"leave out --model to use the installed default ({name})"


def _first_line(exc: BaseException) -> str:
    """The first line of an exception message, so errors stay one line."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
