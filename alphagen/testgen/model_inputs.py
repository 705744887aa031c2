"""Inputs proposed by the test-input model: written directly, or produced by model-written generator programs.

Both prompts show the statement (which holds the input format and constraints) and ask for small, tricky cases
(edge cases, boundaries, ties): what a model is good at; the random source covers the maximum sizes. The
generator prompt also shows the examples; the grammar-constrained direct prompt leaves them out (the format
needs no example under a grammar, and the 0.5B model shown one mostly copied it) and splits its batch over four
asks (`FOCUS`).

Direct inputs are sampled in one batch, constrained by the grammar compiled from the learned input format
(`grammar.input_grammar`), so every one parses in that format; without a grammar (no format learned, a
function problem, a backend that cannot constrain) they are sampled unconstrained and the reason is logged.

Generator programs read a seed from stdin and print one random input, so running one with several seeds yields
inputs a model could never type out. With a learned format the model only writes `gen(rng)` inside a skeleton
that reads the seed and prints the returned values in the learned layout (`generator_skeleton.py`); without
one it writes the whole program after a pre-filled head.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from alphagen.extract import python_syntax_ok
from alphagen.problems.model import PublicView
from alphagen.prompting import Tokenizer, render_chat
from alphagen.sampling.grammar import UnsupportedConstraint
from alphagen.testgen.generator_skeleton import BODY_STOPS, Skeleton

if TYPE_CHECKING:
    from alphagen.sampling.factory import Sampler

log = logging.getLogger(__name__)

SYSTEM = "You are an expert competitive programmer who writes tricky but valid test inputs."

# The generator's pre-filled opening: it makes every generator seedable from stdin (our sandbox passes stdin,
# not argv) and deterministic for a seed.
GENERATOR_HEAD = "import random\nimport sys\n\nseed = int(sys.stdin.readline())\nrandom.seed(seed)\n"

_FENCE = re.compile(r"^```[a-zA-Z0-9]*\n")


def _examples(view: PublicView) -> str:
    # Not prompting._examples_text (the same loop): a test-input prompt shows the examples' inputs alone, in the
    # layout the model is asked to answer in; their outputs would only invite it to write answers.
    parts = []
    for i, t in enumerate(view.public_tests, 1):
        if view.kind == "function":
            parts.append(f"Example {i} arguments (JSON): {t.input.strip()}")
        else:
            parts.append(f"Example {i} input:\n{t.input.rstrip()}")
    return "\n\n".join(parts)


def _chat(tokenizer: Tokenizer | None, user: str, prefill: str) -> str:
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
    return render_chat(tokenizer, messages) + prefill


_EXAMPLES_HEADING = re.compile(r"^\s*(examples?|sample tests?|samples?)\s*:?\s*$", re.IGNORECASE | re.MULTILINE)


def without_examples(statement: str) -> str:
    """The statement cut before its last "Examples" heading (with the notes on them after it); unchanged when it
    has none, or when the cut would leave less than a third of it (then the heading is not the examples')."""
    heads = list(_EXAMPLES_HEADING.finditer(statement))
    if not heads or heads[-1].start() < len(statement) / 3:
        return statement
    return statement[: heads[-1].start()].rstrip() + "\n"


# What each direct request asks for. One prompt for every sample made the model write the same few inputs (36
# of 48 duplicates on the benchmark's first three problems); a different ask per request spreads them out.
FOCUS: tuple[str, ...] = (
    "an edge case: the smallest sizes allowed",
    "a case with equal values, repeated values or ties",
    "a case with boundary values: the largest and smallest values allowed (zeros, negative numbers where "
    "allowed), at a small size",
    "a tricky case that a careless or greedy solution gets wrong",
)


def direct_prompt(view: PublicView, tokenizer: Tokenizer | None, focus: str = FOCUS[-1], examples: bool = True) -> str:
    """Ask for one new small, valid input of the kind `focus` names, answered inside a pre-filled code fence.
    Without `examples` the prompt shows the statement only (under a grammar the format needs no example, and
    a small model shown one mostly copies it)."""
    what = (
        "the arguments of one call, as a JSON array"
        if view.kind == "function"
        else "one complete input exactly in the input format"
    )
    shown = f"{_examples(view)}\n\n" if examples else ""
    statement = view.description if examples else without_examples(view.description)
    user = (
        f"{statement.strip()}\n\n{shown}"
        f"Write {what} for this problem: a new, small test, different from the examples, that respects every "
        f"constraint and is likely to expose wrong solutions. Write {focus}. "
        "Reply with only the input in a ``` block."
    )
    return _chat(tokenizer, user, "```\n")


def skeleton_prompt(view: PublicView, tokenizer: Tokenizer | None, skeleton: Skeleton) -> str:
    """Ask for the body of `gen(rng)` in the skeleton (pre-filled up to its docstring)."""
    plain = (
        "This plain version only follows the input format; its values ignore the statement's meaning:\n"
        f"```python\ndef gen(rng):\n{skeleton.plain}```\n" if skeleton.plain else ""
    )
    ask = "Write a better one: respect" if skeleton.plain else "Respect"
    user = (
        f"{view.description.strip()}\n\n{_examples(view)}\n\n"
        "Write the Python function `gen(rng)`: it returns one random test for this problem as a dict, and the "
        f"caller prints the dict in the input format, so it must not print anything. {plain}"
        f"{ask} every constraint of the statement exactly, also those between values "
        "(such as indices between 1 and n), and mix tiny tests, edge cases (equal values, boundaries) and "
        "larger ones. Reply with only the code in a ```python block."
    )
    return _chat(tokenizer, user, "```python\n" + skeleton.head)


def generator_prompt(view: PublicView, tokenizer: Tokenizer | None) -> str:
    """Ask for a Python program that prints one random valid input for the seed it reads."""
    what = "the arguments of one call as a JSON array on one line" if view.kind == "function" else "one input"
    user = (
        f"{view.description.strip()}\n\n{_examples(view)}\n\n"
        f"Write a Python 3 program that prints {what} for this problem, chosen at random, respecting every "
        "constraint of the statement exactly. Vary the sizes: sometimes tiny, sometimes large. It reads an "
        "integer seed from standard input and must be deterministic for that seed. "
        "Reply with only the program "
        "in a ```python block."
    )
    return _chat(tokenizer, user, "```python\n" + GENERATOR_HEAD)


def parse_direct(text: str) -> str | None:
    """The input inside a completion (everything up to a closing fence), newline-terminated; None if empty."""
    body = _FENCE.sub("", text.lstrip("\n"), count=1) if text.lstrip().startswith("```") else text
    body = body.split("```", 1)[0]
    lines = [line.rstrip() for line in body.strip("\n").split("\n")]
    out = "\n".join(lines).strip("\n")
    return out + "\n" if out.strip() else None


def parse_generator(text: str) -> str | None:
    """The generator program (pre-filled head + completion); None when it does not compile."""
    code = GENERATOR_HEAD + text.split("```", 1)[0]
    # Total on hostile text (a model's 3000-term sum raises RecursionError in compile()).
    return code.rstrip() + "\n" if python_syntax_ok(code) else None


def sample_texts(
    sampler: Sampler,
    prompt: str | Sequence[str],
    count: int,
    temperature: float,
    max_new_tokens: int,
    seed: int,
    grammar: str | None = None,
    stop: tuple[str, ...] = ("```",),
) -> list[str]:
    """`count` completions in one batch, in sample order (constrained by `grammar` if given); several prompts
    share the count evenly (the first ones take the remainder)."""
    if count < 1:
        return []
    from alphagen.sampling.params import PromptRequest, SamplingParams

    prompts = [prompt] if isinstance(prompt, str) else list(prompt)
    shares = [count // len(prompts) + (i < count % len(prompts)) for i in range(len(prompts))]
    params = SamplingParams(temperature=temperature, max_new_tokens=max_new_tokens, seed=seed, stop=stop)
    requests = [
        PromptRequest(prompt=p, count=k, grammar=grammar) for p, k in zip(prompts, shares, strict=True) if k > 0
    ]
    done = list(sampler.sample(requests, params))
    done.sort(key=lambda c: getattr(c, "sample_index", 0))
    return [c.text for c in done]


def model_inputs(
    sampler: Sampler,
    tokenizer: Tokenizer | None,
    view: PublicView,
    count: int,
    temperature: float,
    max_new_tokens: int,
    seed: int,
    grammar: str | None = None,
    why_unconstrained: str = "no grammar given",
) -> list[str]:
    """Directly written inputs, parsed (unparseable completions dropped). With `grammar` every completion is a
    sentence of it; without (or on a backend that refuses grammars) sampling is unconstrained and logged."""
    texts: list[str] | None = None
    if grammar is not None:
        try:
            prompts = [direct_prompt(view, tokenizer, focus, examples=False) for focus in FOCUS]
            texts = sample_texts(sampler, prompts, count, temperature, max_new_tokens, seed, grammar)
        except UnsupportedConstraint as e:
            why_unconstrained = str(e)
    if texts is None:
        log.info("test-input model writes unconstrained inputs: %s", why_unconstrained)
        prompts = [direct_prompt(view, tokenizer, focus) for focus in FOCUS]
        texts = sample_texts(sampler, prompts, count, temperature, max_new_tokens, seed)
    return [t for t in (parse_direct(x) for x in texts) if t is not None]


def generator_programs(
    sampler: Sampler,
    tokenizer: Tokenizer | None,
    view: PublicView,
    count: int,
    temperature: float,
    max_new_tokens: int,
    seed: int,
    skeleton: Skeleton | None = None,
) -> list[str]:
    """Model-written generator programs that compile: `gen` bodies inside the skeleton when there is one,
    else whole programs after the pre-filled head (logged)."""
    if skeleton is not None:
        prompt = skeleton_prompt(view, tokenizer, skeleton)
        texts = sample_texts(sampler, prompt, count, temperature, max_new_tokens, seed + 1, stop=BODY_STOPS)
        return [g for g in (skeleton.program(x) for x in texts) if g is not None]
    log.info("test-input model writes whole generator programs: no input format learned")
    texts = sample_texts(
        sampler, generator_prompt(view, tokenizer), count, temperature, max_new_tokens, seed + 1
    )
    return [g for g in (parse_generator(x) for x in texts) if g is not None]


def seed_inputs(seeds: Sequence[int]) -> list[str]:
    """The stdin each generator run reads (its seed)."""
    return [f"{s}\n" for s in seeds]
