"""In-process stand-ins for the sandbox executor and the sampler, so the test-input stage is tested fast and
deterministically. Programs run with exec() on a StringIO stdin; an exception is a runtime error."""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from alphagen.problems.model import PublicView, Test
from sandbox.interface import BatchExecutor, BatchRequest
from sandbox.values import Result, Status

# A small stdio problem shared by the test-input tests: the maximum of n numbers.
STATEMENT = """Given n numbers, print their maximum.

Input
The first line contains n (1 ≤ n ≤ 100). The second line contains a_1..a_n (1 ≤ a_i ≤ 1000).

Output
Print the maximum."""

VIEW = PublicView(
    name="max",
    description=STATEMENT,
    kind="stdio",
    public_tests=(Test("3\n1 5 2\n", "5\n"), Test("4\n7 7 1 2\n", "7\n")),
    entry_point=None,
    signature=None,
    time_limit_s=1.0,
    memory_limit_mb=256,
    rating=800,
    tags=(),
)
RIGHT = "n = int(input())\na = list(map(int, input().split()))\nprint(max(a))\n"


def run_source(source: str, stdin: str) -> tuple[Status, bytes]:
    out = io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, "<prog>", "exec"), {"__name__": "__main__"})
        status = Status.OK
    except SystemExit as e:
        status = Status.OK if e.code in (None, 0) else Status.RUNTIME_ERROR
    except Exception:
        status = Status.RUNTIME_ERROR
    finally:
        sys.stdin = old_stdin
    return status, out.getvalue().encode()


class FakeExecutor(BatchExecutor):
    """Executes a BatchRequest like sandbox.Executor (no limits enforced); counts executions."""

    def __init__(self) -> None:
        self.runs = 0

    def execute(self, request: BatchRequest) -> Iterator[Result]:
        for p, i in request.todo():
            self.runs += 1
            text = request.inputs[i]
            status, stdout = run_source(request.programs[p].source, text if isinstance(text, str) else text.decode())
            yield Result(program_index=p, input_index=i, status=status, stdout=stdout)


@dataclass(frozen=True)
class FakeCompletion:
    request_index: int
    sample_index: int
    text: str


class FakeSampler:
    """Returns scripted completions: `direct` for input prompts, `generators` for generator prompts."""

    def __init__(self, direct: Sequence[str], generators: Sequence[str]) -> None:
        self.direct, self.generators = list(direct), list(generators)
        self.prompts: list[str] = []

    def sample(
        self, requests: Sequence[object], params: object, progress: Callable[[int], None] | None = None
    ) -> Iterator[FakeCompletion]:
        k = 0
        taken = {"direct": 0, "generator": 0}  # scripted texts hand out in order across the call's requests
        for r, req in enumerate(requests):
            prompt: str = req.prompt  # type: ignore[attr-defined]
            count: int = req.count  # type: ignore[attr-defined]
            self.prompts.append(prompt)
            # Generator prompts: a whole program after the seed-reading head, or a `gen` body in the skeleton.
            is_generator = "seed = int(sys.stdin.readline())" in prompt or "def gen(rng):" in prompt
            pool = self.generators if is_generator else self.direct
            which = "generator" if is_generator else "direct"
            for _ in range(count):
                # One sample per "step", reported before it is yielded (as the hf backend reports a step's samples).
                if progress is not None:
                    progress(1)
                yield FakeCompletion(r, k, pool[taken[which] % len(pool)])
                taken[which] += 1
                k += 1
