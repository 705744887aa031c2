"""GGUF weights converted once (issue #30): the cache entry is written on a miss, read without converting on a hit,
keyed by the GGUF's content and the converter version, rebuilt when damaged, and never a crash when unwritable."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import torch

from alphagen.models import LoadedModel, converted, load_model
from alphagen.models.content_hash import content_hash
from alphagen.models.converted import (
    MANIFEST,
    WEIGHTS,
    GgufSource,
    convert_cached,
    converted_dir,
    entry_dir,
    entry_is_complete,
)
from alphagen.sampling import PromptRequest, SamplingParams, make_sampler
from tests.tiny_gguf import write_tiny_gguf
from tests.tiny_model import by_index, make_tiny_model


def write_gguf(lm: LoadedModel, path: Path) -> Path:
    """tests/tiny_gguf's file, as transformers reads it: token scores instead of its one placeholder merge.

    transformers builds the GGUF's BPE from its merges and rejects a merge whose result is not in the vocabulary
    (llama.cpp, which that file is for, insists on one); without merges it derives them from the scores: none,
    one byte per token, as in the tiny tokenizer.
    """
    import gguf

    vocab = len(lm.tokenizer.get_vocab())
    with mock.patch.object(gguf.GGUFWriter, "add_token_merges",
                           lambda writer, _merges: writer.add_token_scores([0.0] * vocab)):
        return write_tiny_gguf(lm, path)


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gguf")
    return write_gguf(make_tiny_model(root / "hf", seed=0), root / "tiny.gguf")


class Counting:
    """Wraps the converter: how many GGUF conversions ran (the slow step a warm start must skip)."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.calls = 0
        self.delay_s = delay_s
        self.real = converted.convert_gguf

    def __call__(self, file: Path, dtype: torch.dtype) -> tuple[Any, Any]:
        self.calls += 1
        time.sleep(self.delay_s)
        return self.real(file, dtype)


def load(gguf: Path, cache: Path, dtype: str = "fp32") -> LoadedModel:
    return load_model(str(gguf), device="cpu", dtype=dtype, cache_dir=cache)


def test_miss_writes_the_entry_and_a_hit_reads_it_without_converting(
    tiny_gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = Counting()
    monkeypatch.setattr(converted, "convert_gguf", counting)
    first = load(tiny_gguf, tmp_path)
    assert counting.calls == 1
    # A directory transformers (and vLLM) load by path: config, generation config, tokenizer, safetensors.
    assert first.path is not None and first.path.parent == tmp_path / "converted"
    names = {p.name for p in first.path.iterdir()}
    assert {"config.json", "generation_config.json", "tokenizer.json", WEIGHTS, MANIFEST} <= names
    manifest = json.loads((first.path / MANIFEST).read_text())
    assert manifest["dtype"] == "float32" and manifest["converter_version"] == converted.CONVERTER_VERSION

    def no_conversion(file: Path, dtype: torch.dtype) -> tuple[Any, Any]:
        raise AssertionError("a warm load converted the GGUF again")

    monkeypatch.setattr(converted, "convert_gguf", no_conversion)
    second = load(tiny_gguf, tmp_path)
    assert second.path == first.path
    from transformers import AutoModelForCausalLM

    plain = AutoModelForCausalLM.from_pretrained(first.path)
    for name, tensor in plain.state_dict().items():
        assert torch.equal(tensor, second.model.state_dict()[name]), name


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_same_weights_and_samples_as_the_gguf_loaded_directly(tiny_gguf: Path, tmp_path: Path, dtype: str) -> None:
    cached = load(tiny_gguf, tmp_path, dtype)
    # Before the cache, a .gguf loaded straight through transformers on every run.
    model, tok = converted.convert_gguf(tiny_gguf, cached.dtype)
    direct_state = model.state_dict()
    for name, tensor in cached.model.state_dict().items():
        if name in direct_state:
            assert tensor.dtype == cached.dtype and torch.equal(tensor, direct_state[name]), name
    if dtype == "bf16":
        return  # same tensors; the bf16 model's linears are packed for oneDNN, which has its own bitwise test
    direct = LoadedModel(model=model.eval(), tokenizer=tok, name="direct", device=torch.device("cpu"),
                         dtype=cached.dtype)
    prompt = "Write a function.\n"  # the tiny GGUF carries no chat template
    params = SamplingParams(temperature=1.0, max_new_tokens=24, seed=5, batch_size=4)
    texts = [
        [c.text for c in by_index(list(make_sampler(lm).sample([PromptRequest(prompt, count=6)], params)))]
        for lm in (direct, cached)
    ]
    assert texts[0] == texts[1] and len(set(texts[0])) > 1


def test_key_follows_the_content_and_the_converter_version(
    tiny_gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    sha = content_hash([tiny_gguf], cache)
    # The hash is remembered by (path, size, mtime): a warm start reads the memo, not the file.
    memo = next((cache / "hashes").iterdir())
    stored = json.loads(memo.read_text())
    memo.write_text(json.dumps(stored | {"sha256": "f" * 64}))
    assert content_hash([tiny_gguf], cache) == "f" * 64
    memo.write_text(json.dumps(stored))
    # Another file at the same path (other weights) gets another key.
    other = tmp_path / "tiny.gguf"
    other.write_bytes(tiny_gguf.read_bytes())
    assert content_hash([other], cache) == sha
    write_gguf(make_tiny_model(tmp_path / "hf1", seed=1), other)
    other_sha = content_hash([other], cache)
    assert other_sha != sha
    assert entry_dir(cache, other_sha, torch.float32) != entry_dir(cache, sha, torch.float32)
    # A new converter version: a new entry, converted again; the old one is not read.
    counting = Counting()
    monkeypatch.setattr(converted, "convert_gguf", counting)
    old = load(tiny_gguf, cache).path
    monkeypatch.setattr(converted, "CONVERTER_VERSION", converted.CONVERTER_VERSION + 1)
    new = load(tiny_gguf, cache).path
    assert counting.calls == 2 and old != new and old is not None and new is not None
    assert not entry_is_complete(old, sha, torch.float32)


@pytest.mark.parametrize("damage", ["truncate", "no-manifest", "no-tokenizer", "bad-header", "empty-dir"])
def test_a_damaged_entry_is_rebuilt(
    tiny_gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    counting = Counting()
    monkeypatch.setattr(converted, "convert_gguf", counting)
    entry = load(tiny_gguf, tmp_path).path
    assert entry is not None
    weights = entry / WEIGHTS
    if damage == "truncate":
        data = weights.read_bytes()
        weights.write_bytes(data[: len(data) // 2])
    elif damage == "no-manifest":
        (entry / MANIFEST).unlink()
    elif damage == "no-tokenizer":
        (entry / "tokenizer.json").unlink()
    elif damage == "bad-header":
        raw = bytearray(weights.read_bytes())
        raw[8:12] = b"\xff\xff\xff\xff"  # same size, a header that is no longer JSON
        weights.write_bytes(bytes(raw))
    else:
        for p in entry.iterdir():
            p.unlink()
    again = load(tiny_gguf, tmp_path)
    assert counting.calls == 2 and again.path == entry
    assert entry_is_complete(entry, content_hash([tiny_gguf], tmp_path), torch.float32)
    # Nothing left beside the entry but its lock file: the broken copy was deleted.
    assert {p.name for p in entry.parent.iterdir()} == {entry.name, f".{entry.name}.lock"}


def test_two_converters_at_once_convert_once(tiny_gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counting = Counting(delay_s=0.3)
    monkeypatch.setattr(converted, "convert_gguf", counting)
    source = GgufSource.resolve(tiny_gguf)
    results: list[Path | None] = []
    threads = [
        threading.Thread(target=lambda: results.append(convert_cached(source, torch.float32, tmp_path).directory))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The second waited on the lock and read the first's entry.
    assert counting.calls == 1 and len(results) == 2 and results[0] == results[1] is not None


def test_cache_dir_option_reaches_the_loader(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from alphagen.cli import main
    from alphagen.models import ModelError

    seen: dict[str, Any] = {}

    def fake_load(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        raise ModelError("stop here")

    monkeypatch.setattr("alphagen.models.load_model", fake_load)
    out = CliRunner().invoke(main, ["solve", "problems/sum-of-two.json", "-n", "1", "--cache-dir",
                                    str(tmp_path / "c")])
    assert out.exit_code == 2 and "stop here" in out.output
    assert seen["cache_dir"] == str(tmp_path / "c")


def test_default_cache_is_under_xdg(tiny_gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALPHAGEN_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    directory = converted_dir(tiny_gguf, dtype="fp32")
    assert directory.parent == tmp_path / "xdg" / "alphagen" / "converted"
    # The function other backends call returns the very entry load_model reads.
    assert load_model(str(tiny_gguf), device="cpu", dtype="fp32").path == directory


def test_unwritable_cache_warns_and_converts_in_memory(
    tiny_gguf: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A regular file where the cache directory should be: unwritable even for root.
    blocker = tmp_path / "file"
    blocker.write_text("")
    with caplog.at_level(logging.WARNING, logger="alphagen"):
        lm = load(tiny_gguf, blocker / "cache")
    assert lm.path is None and lm.model is not None
    assert any("not writable" in r.getMessage() and "in memory" in r.getMessage() for r in caplog.records)
    ids = torch.tensor([[1, 2, 3]])
    assert lm.model(ids).logits.shape[-1] == len(lm.tokenizer.get_vocab())
    from alphagen.models import ModelError

    with pytest.raises(ModelError, match="not writable"):
        converted_dir(tiny_gguf, blocker / "cache", dtype="fp32")


def test_converted_dir_of_other_specs(tmp_path: Path, tiny_model: LoadedModel) -> None:
    from alphagen.models import ModelError

    assert tiny_model.path is not None and converted_dir(tiny_model.path) == tiny_model.path
    with pytest.raises(ModelError, match="must be an embedded model .* or an existing .gguf file"):
        converted_dir(str(tmp_path / "nope.gguf"), tmp_path)
