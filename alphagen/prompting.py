"""Prompt construction: the statement (plus, optionally, AlphaCode-style metadata) in the model's chat format.

AlphaCode conditions every sample on a random difficulty rating and a random set of tags; the variety of prompts
buys variety of programs. Its model was fine-tuned on that metadata; an instruct model never saw it, so metadata is
optional and never shown on function problems (Codeforces tags on a HumanEval function only mislead). Metadata is
drawn per *group* of samples (a shared prompt the sampler encodes once) from a stream seeded by the run seed *and*
the problem, so problems of one run do not all share one draw.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from alphagen.problems.model import PublicView
from sandbox import Language

LanguageChoice = Literal["python", "cpp", "mix"]
Prefill = Literal["fence", "stub", "plan", "mix"]
PREFILLS: tuple[str, ...] = ("fence", "stub", "plan", "mix")
"""What the assistant turn is pre-filled with: the opening code fence only; (function problems) the fence and the
function stub, cut where the model's own tokens start the body's first line; or the fence and an open
"# Algorithm:" comment, the user turn asking for the algorithm and its running time at the stated limits as
comments before any code (issue #29: survivors that are right but loop to n = 10^15 never said how fast they are).
`mix` alternates two of them group by group (`MIX`), for a pool from two prompt formats. On HumanEval 164 (T 0.8,
-n 16) fence and stub each had right samples on problems the other had none (8 and 7), but their expected coverage
from 8 samples of each, 132.4 problems, is no more than fence's alone (133): an option, not the default."""
MIX: dict[str, tuple[Prefill, Prefill]] = {"function": ("fence", "stub"), "stdio": ("fence", "plan")}
"""The pre-fills `mix` alternates, by problem kind (the stub exists only for function problems)."""

# Codeforces tags, the vocabulary AlphaCode's metadata drew from (most frequent first).
TAGS: tuple[str, ...] = (
    "implementation", "math", "greedy", "dp", "brute force", "constructive algorithms", "sortings",
    "data structures", "strings", "number theory", "graphs", "binary search", "two pointers", "dfs and similar",
    "combinatorics", "bitmasks", "trees", "geometry", "shortest paths", "dsu",
)
RATINGS: tuple[int, ...] = tuple(range(800, 3600, 100))

SYSTEM = "You are an expert competitive programmer. You write correct, efficient programs."

FENCE = {Language.PYTHON: "```python\n", Language.CPP: "```cpp\n"}
LANGUAGE_NAME = {Language.PYTHON: "Python 3", Language.CPP: "C++17"}
COMMENT = {Language.PYTHON: "#", Language.CPP: "//"}

# The plan is written as comments at the top of the program, not as prose before the fence: the sampler stops at
# the first ``` and extraction takes the text up to it, so prose first would end the sample before any code.
PLAN_ASK = ("Start the code with a few comment lines that name the algorithm and its time complexity at the largest "
            "input the constraints allow, then write the code.")
PLAN_ASK_FUNCTION = "Start the code with a few comment lines that name the algorithm and its time complexity."


class Tokenizer(Protocol):
    """What prompt building needs of a tokenizer: its chat template (None or absent for a base model) and the
    renderer of a conversation through it (a Hugging Face tokenizer, a GGUF model's, a test's fake). The result
    is taken as text (`str(...)`): Hugging Face types it as any of its encodings, though with tokenize=False it is
    the string."""

    def apply_chat_template(
        self, conversation: list[dict[str, str]], *, tokenize: bool, add_generation_prompt: bool
    ) -> object: ...


def render_chat(tokenizer: Tokenizer | None, messages: list[dict[str, str]]) -> str:
    """The model input of a conversation, ready for the assistant's turn: through the tokenizer's chat template,
    or, for a base model, as a plain transcript (works as well as anything)."""
    if tokenizer is not None and getattr(tokenizer, "chat_template", None):
        return str(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
    return "\n\n".join(m["content"] for m in messages) + "\n\n"


@dataclass(frozen=True)
class PromptMeta:
    """The metadata drawn for one prompt group."""

    language: Language
    """Programming language the samples of this group are asked for."""
    rating: int
    """Random difficulty rating shown to the model (AlphaCode: uniform over 800..3500)."""
    tags: tuple[str, ...]
    """Random tags shown to the model."""

    def as_dict(self) -> dict[str, object]:
        return {"language": self.language.value, "rating": self.rating, "tags": list(self.tags)}


@dataclass(frozen=True)
class PromptGroup:
    """One prompt text and how many samples to draw from it."""

    meta: PromptMeta
    text: str
    """Full model input: chat template applied, the assistant turn pre-filled up to the code fence."""
    count: int
    """Number of samples to draw from this prompt."""
    code_prefix: str
    """Text the completion continues (the function stub or the plan header when pre-filled; '' otherwise):
    code = prefix + output."""
    stub_prefilled: bool = False
    """Whether code_prefix is a function problem's stub: a program without it gets the stub's imports and helpers
    back (`extract.with_stub_context`); one after the plan header writes the whole function itself, so it does."""
    prefill: Prefill = "fence"
    """This group's pre-fill (with `mix`, one of the two it alternates)."""


def draw_meta(rng: random.Random, language: Language, use_metadata: bool = True) -> PromptMeta:
    """AlphaCode's random rating and 1-3 random tags."""
    if not use_metadata:
        return PromptMeta(language=language, rating=0, tags=())
    k = rng.randint(1, 3)
    return PromptMeta(language=language, rating=rng.choice(RATINGS), tags=tuple(sorted(rng.sample(TAGS, k))))


def _examples_text(view: PublicView) -> str:
    # The examples are already in most statements, but shown once more in a fixed layout they anchor the I/O format.
    parts = []
    for i, t in enumerate(view.public_tests, 1):
        if view.kind == "function":
            parts.append(f"Example {i}: arguments {t.input.strip()} -> returns {t.output.strip()}")
        else:
            parts.append(f"Example {i}\nInput:\n{t.input.rstrip()}\nOutput:\n{t.output.rstrip()}")
    return "\n\n".join(parts)


def user_message(view: PublicView, meta: PromptMeta, prefill: Prefill = "fence") -> str:
    """The instruction shown to the model for one group (with ``prefill="plan"``, one sentence more asking for the
    plan comments; repair prompts keep the default)."""
    lines = []
    if view.kind == "function":
        lines.append(f"Complete the following {LANGUAGE_NAME[Language.PYTHON]} function.")
        lines.append("")
        if view.signature:
            # The stub itself (imports, helpers, signature, docstring), as HumanEval shows it to every model.
            lines.append(f"```python\n{view.signature.rstrip()}\n```")
        else:
            lines.append(view.description.strip())
    else:
        lines.append(
            f"Solve the following competitive programming problem in {LANGUAGE_NAME[meta.language]}. "
            "The program reads from standard input and writes to standard output."
        )
        lines.append("")
        lines.append(view.description.strip())
        lines.append("")
        lines.append(_examples_text(view))
        lines.append("")
        lines.append(f"Time limit: {view.time_limit_s:g} seconds. Memory limit: {view.memory_limit_mb} MB.")
    if meta.rating:
        lines.append(f"Difficulty rating: {meta.rating}")
    if meta.tags:
        lines.append(f"Tags: {', '.join(meta.tags)}")
    lines.append("")
    lines.append(f"Write the complete solution in a single ```{meta.language.value} code block.")
    if prefill == "plan":
        # Asked in the user turn too: the pre-filled header alone is a comment the model may close after one line.
        lines.append(PLAN_ASK_FUNCTION if view.kind == "function" else PLAN_ASK)
    return "\n".join(lines)


def plan_header(language: Language) -> str:
    """The plan pre-fill after the fence: one open comment line, "# Algorithm:" ("// Algorithm:" in C++).

    No line describing the plan comes before it: with "# Plan: the algorithm, and its running time at the largest
    input the constraints allow." above it, the 0.5B copied that description as its algorithm, line after line, to
    the token limit (2 of 4 samples on integer-sqrt; a third copied the statement; 1639 tokens against 238 with the
    fence). What to write (the running time at the limits too) is asked in the user turn. It ends with a colon, not
    a bare comment marker and a space: the model's first token then starts with a space (" Binary search ...") as
    BPE tokenizers saw it, and whatever it writes up to its first newline is still inside the comment.
    """
    return f"{COMMENT[language]} Algorithm:"


def code_prefix_for(view: PublicView, prefill: Prefill, language: Language = Language.PYTHON) -> str:
    """The code the assistant turn is pre-filled with after the fence: '' with the fence alone, the plan header
    (`plan_header`) with ``prefill="plan"``, a function problem's stub with ``prefill="stub"``.

    The plan header is part of the program (code = prefix + completion), so the program starts with the comment and
    the model's continuation of its open line stays a comment: without it the program would start with the bare
    text of that line and not compile.

    The stub is cut after its last non-blank character: ending the pre-fill with a newline makes the model's first
    token start mid-indentation, which BPE tokenizers almost never saw (they merge a newline with the spaces after
    it), and the model then indents one level too deep or repeats the docstring's close. Cut there, the model
    writes the newline and the body's indentation itself.
    """
    if prefill == "stub" and view.kind == "function" and view.signature:
        return view.signature.rstrip()
    if prefill == "plan":
        return plan_header(language)
    return ""


def render(tokenizer: Tokenizer, view: PublicView, meta: PromptMeta, prefill: Prefill = "fence") -> tuple[str, str]:
    """Return (model input text, code prefix).

    The assistant turn is pre-filled with the opening fence (and, with ``prefill="stub"``, a function problem's
    stub; with ``prefill="plan"``, the plan header), so the model writes code straight away and the sampler can
    stop at the closing fence: no tokens wasted on prose.
    """
    if prefill == "mix":
        raise ValueError("prefill of one prompt must be fence, stub or plan, got 'mix' (build_prompts alternates "
                         "the groups' pre-fills)")
    if prefill not in PREFILLS:
        raise ValueError(f"prefill must be one of {', '.join(PREFILLS)}, got {prefill!r}")
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user_message(view, meta, prefill)}]
    head = render_chat(tokenizer, messages)
    code_prefix = code_prefix_for(view, prefill, meta.language)
    return head + FENCE[meta.language] + code_prefix, code_prefix


def build_prompts(
    tokenizer: Tokenizer,
    view: PublicView,
    n: int,
    *,
    seed: int,
    language: LanguageChoice = "python",
    samples_per_prompt: int = 8,
    use_metadata: bool = True,
    prefill: Prefill = "fence",
) -> list[PromptGroup]:
    """Split a budget of n samples into prompt groups, each with its own metadata draw.

    `mix` alternates Python and C++ groups (AlphaCode sampled half and half). Function problems are Python only
    and never show metadata. ``prefill="mix"`` alternates the two pre-fills of `MIX` (every other pair of groups
    when the languages alternate too, so each language gets both).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if samples_per_prompt < 1:
        raise ValueError(f"samples_per_prompt must be >= 1, got {samples_per_prompt}")
    # One stream per (seed, problem): a string seed is hashed with SHA-512, stable across runs and platforms.
    rng = random.Random(f"{seed}:{view.name}")
    use_metadata = use_metadata and view.kind != "function"
    groups: list[PromptGroup] = []
    remaining = n
    i = 0
    while remaining > 0:
        count = min(samples_per_prompt, remaining)
        lang: Language
        if view.kind == "function" or language == "python":
            lang = Language.PYTHON
        elif language == "cpp":
            lang = Language.CPP
        else:
            lang = Language.PYTHON if i % 2 == 0 else Language.CPP
        meta = draw_meta(rng, lang, use_metadata)
        alternating = language == "mix" and view.kind != "function"
        pf = MIX[view.kind][(i // 2 if alternating else i) % 2] if prefill == "mix" else prefill
        text, prefix = render(tokenizer, view, meta, pf)
        groups.append(PromptGroup(meta=meta, text=text, count=count, code_prefix=prefix,
                                  stub_prefilled=pf == "stub" and bool(prefix), prefill=pf))
        remaining -= count
        i += 1
    return groups


def languages_in(groups: Sequence[PromptGroup]) -> set[str]:
    return {g.meta.language.value for g in groups}
