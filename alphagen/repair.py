"""Repair from execution feedback: turn programs that failed an example into prompts for fixes.

AlphaCode throws every program that fails an example away; S* (2025) and AlphaCodium show the model can often fix
one when it is told *how* it failed. This module builds repair prompts and nothing else: which failures are worth
repairing first, and the repair prompt (the statement, the program, the first failing example with what the
program did on it). It prints nothing and runs nothing: `alphagen.draws` decides the budget and the rounds (the
draw steps), the pipeline draws the fixes and the filter runs them like any sample. The feedback text it quotes is
the filter's (`alphagen.feedback`).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from alphagen import extract, prompting
from alphagen.feedback import clip_head
from alphagen.problems.model import PublicView
from alphagen.results import Candidate
from alphagen.statuses import TestStatus
from sandbox import Language

if TYPE_CHECKING:
    from alphagen.sampling.params import Completion, PromptRequest, SamplingParams

# How promising each kind of failure is, best first: a wrong answer ran to the end (often a near miss), a runtime
# error names its line, a limit needs a new algorithm, a program that does not compile is often cut short.
_STATUS_RANK = {
    TestStatus.WRONG_ANSWER: 0,
    TestStatus.RUNTIME_ERROR: 1,
    TestStatus.TIME_LIMIT: 2,
    TestStatus.MEMORY_LIMIT: 2,
    TestStatus.OUTPUT_LIMIT: 2,
    TestStatus.COMPILE_ERROR: 3,
}
REPAIRABLE = frozenset(_STATUS_RANK)
"""Example statuses worth a repair (not 'ok', and not a sandbox fault or a program that never ran)."""


# -- which failures to repair ------------------------------------------------------------------------------------


def repairable(c: Candidate) -> bool:
    """A distinct program that ran (or failed to compile) and failed an example, with code to fix."""
    return (c.duplicate_of is None and not c.passed_examples and c.example_status in REPAIRABLE
            and bool(c.code.strip()))


def closeness(c: Candidate, expected: Sequence[str]) -> float:
    """For a wrong answer, how close its output was to the expected one (difflib ratio, 0..1); else 0."""
    if c.example_status != TestStatus.WRONG_ANSWER or c.failed_example is None:
        return 0.0
    if not 0 <= c.failed_example < len(expected):
        return 0.0
    want = clip_head(expected[c.failed_example])
    return difflib.SequenceMatcher(None, c.feedback, want, autojunk=False).ratio()


def parent_key(c: Candidate, expected: Sequence[str]) -> tuple[int, int, float, bool, int, int]:
    """Sort key of a failure as a repair parent, most promising first: more examples passed, then the kind of
    failure (wrong answer, crash, limit, compile error), then how close a wrong output was, then a program that was
    not cut at the token limit, then fewer tokens (less to get wrong), then the sample index (deterministic)."""
    truncated = c.meta.get("finish_reason") == "length"
    return (-c.examples_passed, _STATUS_RANK.get(TestStatus(c.example_status), 9),
            -round(closeness(c, expected), 4), truncated, int(c.meta.get("num_tokens", 0)), c.index)


def choose_parents(
    pool: Sequence[Candidate], used: Collection[int], budget: int, expected: Sequence[str]
) -> list[tuple[Candidate, int]]:
    """The parents of one round and how many fixes each gets: the `budget` most promising failures not repaired
    before (one fix each), or, with fewer failures than samples, every one of them with the budget shared out
    (the most promising first). Empty when there is nothing to repair."""
    if budget < 1:
        return []
    ranked = sorted((c for c in pool if repairable(c) and c.index not in used), key=lambda c: parent_key(c, expected))
    if not ranked:
        return []
    if len(ranked) >= budget:
        return [(c, 1) for c in ranked[:budget]]
    each, extra = divmod(budget, len(ranked))
    return [(c, each + (1 if i < extra else 0)) for i, c in enumerate(ranked)]


# -- the repair prompt -------------------------------------------------------------------------------------------


def speedup_message(parent: Candidate, time_limit_s: float) -> str:
    """The user turn of a speed-up step: the program is right on the examples but failed at the stated limits
    (alphagen.limits), on this input; ask for an asymptotically faster complete program."""
    said = {
        TestStatus.TIME_LIMIT: f"exceeds the time limit ({time_limit_s:g} s)",
        TestStatus.MEMORY_LIMIT: "exceeds the memory limit",
        TestStatus.RUNTIME_ERROR: "crashes (too deep a recursion, or too large a structure?)",
    }.get(TestStatus(parent.limit_status), "fails")
    return "\n".join([
        f"Your program gives the right answers on the examples, but it {said} on {parent.limit_feedback}",
        "",
        "The hidden tests go up to the limits in the statement. Time limit exceeded: make it asymptotically "
        "faster (a better algorithm, not micro-optimizations: think about the largest n and values the "
        "constraints allow), and use fast input reading. Write the complete corrected program in a single "
        f"```{parent.language} code block.",
    ])


def failure_message(view: PublicView, parent: Candidate, time_limit_s: float) -> str:
    """The user turn that tells the model how its program failed, and asks for the whole corrected program."""
    if parent.passed_examples and parent.limit_status:
        return speedup_message(parent, time_limit_s)
    lang = parent.language
    what = "function" if view.kind == "function" else "program"
    lines: list[str] = []
    status = TestStatus(parent.example_status)
    k = parent.failed_example
    test = view.public_tests[k] if k is not None and 0 <= k < len(view.public_tests) else None
    if status is TestStatus.COMPILE_ERROR or test is None or k is None:
        lines.append(f"Your {what} does not compile:" if status is TestStatus.COMPILE_ERROR
                     else f"Your {what} fails:")
        lines.append(parent.feedback or "(no message)")
    else:
        said = {
            TestStatus.WRONG_ANSWER: "gives a wrong answer on",
            TestStatus.RUNTIME_ERROR: "crashes with a runtime error on",
            TestStatus.TIME_LIMIT: f"exceeds the time limit ({time_limit_s:g} s) on",
            TestStatus.MEMORY_LIMIT: "exceeds the memory limit on",
            TestStatus.OUTPUT_LIMIT: "prints far too much on",
        }.get(status, "fails")
        lines.append(f"Your {what} {said} example {k + 1}.")
        if view.kind == "function":
            lines += ["Arguments (JSON):", clip_head(test.input.strip()), "Expected return value (JSON):",
                      clip_head(test.output.strip())]
        else:
            lines += ["Input:", clip_head(test.input.rstrip("\n")), "Expected output:",
                      clip_head(test.output.rstrip("\n"))]
        if status is TestStatus.WRONG_ANSWER:
            got = "Your function returned (rendered as tokens):" if view.kind == "function" else "Your output:"
            lines += [got, parent.feedback.rstrip("\n") or "(nothing)"]
        elif status is TestStatus.RUNTIME_ERROR:
            lines += ["The error (last lines of stderr):", parent.feedback or "(no message)"]
        elif status is TestStatus.TIME_LIMIT:
            lines.append("time limit exceeded: it is too slow or never stops (waiting for input that is not there?).")
    lines.append("")
    # Small models often hand the same program back: say that it must change.
    lines.append(f"Find the bug and fix it; the {what} above is wrong, so do not repeat it unchanged. Write the "
                 f"complete corrected {what} in a single ```{lang} code block.")
    return "\n".join(lines)


def render_repair(tokenizer: prompting.Tokenizer, view: PublicView, parent: Candidate, time_limit_s: float) -> str:
    """The model input of a repair: the original task, the program as the assistant's answer, the failure as the
    user's reply, and the assistant turn pre-filled with the code fence (the fix is extracted like any sample)."""
    language = Language.CPP if parent.language == "cpp" else Language.PYTHON
    task = prompting.user_message(view, prompting.PromptMeta(language=language, rating=0, tags=()))
    answer = f"```{language.value}\n{parent.code.rstrip()}\n```"
    feedback = failure_message(view, parent, time_limit_s)
    messages = [
        {"role": "system", "content": prompting.SYSTEM},
        {"role": "user", "content": task},
        {"role": "assistant", "content": answer},
        {"role": "user", "content": feedback},
    ]
    return prompting.render_chat(tokenizer, messages) + prompting.FENCE[language]


@dataclass(frozen=True)
class RepairPlan:
    """What one repair round asks the sampler for: one request per parent, numbered from `first_index`."""

    round_no: int
    """1-based round."""
    parents: tuple[Candidate, ...]
    """The parent of each request, in request order."""
    requests: tuple[PromptRequest, ...]
    params: SamplingParams
    stub: tuple[str, str] | None = None
    """(stub, entry point) of a function problem: its imports and helpers complete fixes that omit them."""

    @property
    def size(self) -> int:
        """Model samples this round draws."""
        return sum(r.count for r in self.requests)

    def candidate(self, comp: Completion) -> Candidate:
        """A drawn fix as a pipeline candidate, with its lineage (parent, round)."""
        parent = self.parents[comp.request_index]
        code = extract.extract_code(comp.text)
        if self.stub is not None:
            code = extract.with_stub_context(code, *self.stub)
        if parent.language == Language.PYTHON.value:
            code = extract.with_missing_imports(code)
        meta = {"language": parent.language, "num_tokens": comp.num_tokens, "finish_reason": comp.finish_reason}
        return Candidate(index=comp.sample_index, language=parent.language, code=code, meta=meta,
                         parent=parent.index, repair_round=self.round_no)


def plan_round(
    tokenizer: prompting.Tokenizer,
    view: PublicView,
    parents: Sequence[tuple[Candidate, int]],
    round_no: int,
    first_index: int,
    params: SamplingParams,
    time_limit_s: float,
    stub: tuple[str, str] | None = None,
) -> RepairPlan:
    """The requests of one round: per parent its repair prompt, `count` fixes, global sample indices from
    `first_index` on (each fix has its own reproducible random stream, after every fresh sample's)."""
    from alphagen.sampling.params import PromptRequest

    requests = []
    at = first_index
    for parent, count in parents:
        requests.append(PromptRequest(prompt=render_repair(tokenizer, view, parent, time_limit_s), count=count,
                                      first_index=at))
        at += count
    return RepairPlan(round_no=round_no, parents=tuple(p for p, _ in parents), requests=tuple(requests),
                      params=params, stub=stub)

