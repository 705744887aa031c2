"""Soak: 20,000 executions with mixed outcomes keep fds and memory flat (controller and zygotes)."""

from __future__ import annotations

from collections import Counter

import psutil
import pytest

from sandbox import Executor, Limits, Program, Status

PROGRAMS = [
    Program("print(sum(map(int, input().split())))"),  # ok, passes
    Program("print(0)"),  # ok, wrong answer
    Program("raise ValueError('boom')"),  # runtime error
    Program("import sys\nsys.stdout.write('y' * 5000)"),  # output limit (cap 4096)
    Program("def f(:"),  # compile error
    Program("import os\nos.fork()"),  # denied syscall -> runtime error
    Program("open('scratch.txt', 'w').write(input())\nprint(open('scratch.txt').read())"),  # scratch files
    Program("import threading\nt = threading.Thread(target=print, args=(1,))\nt.start(); t.join()"),  # thread
]
LIMITS = Limits(time_s=2.0, memory_mb=128, output_bytes=4096)


def _round(ex: Executor, n_inputs: int) -> Counter[Status]:
    inputs = [f"{i} {i + 1}" for i in range(n_inputs)]
    expected = [str(2 * i + 1) for i in range(n_inputs)]
    counts: Counter[Status] = Counter()
    for result in ex.run_batch(PROGRAMS, inputs, LIMITS, expected=expected):
        counts[result.status] += 1
    return counts


@pytest.mark.slow
def test_twenty_thousand_executions_stay_flat() -> None:
    me = psutil.Process()
    with Executor(workers=2) as ex:
        zygotes = [psutil.Process(pid) for pid in ex.zygote_pids()]
        _round(ex, 250)  # warm-up: 2,000 executions, caches and allocator arenas settle
        fds, rss = me.num_fds(), me.memory_info().rss
        zygote_fds = [z.num_fds() for z in zygotes]
        total: Counter[Status] = Counter()
        for _ in range(9):
            total += _round(ex, 250)
        assert sum(total.values()) == 18_000
        assert total[Status.OK] == 4 * 9 * 250
        assert total[Status.RUNTIME_ERROR] == 2 * 9 * 250
        assert total[Status.OUTPUT_LIMIT] == total[Status.COMPILE_ERROR] == 9 * 250
        assert me.num_fds() <= fds + 2, "controller leaks file descriptors"
        assert me.memory_info().rss - rss < 24 << 20, "controller memory grows"
        assert ex.zygote_pids() == [z.pid for z in zygotes], "a zygote was restarted"
        assert [z.num_fds() for z in zygotes] == zygote_fds, "a zygote leaks file descriptors"
