"""alphagen.overlap.Background: a producer thread behind a bounded queue."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from alphagen.overlap import Background


def test_items_arrive_in_order_and_errors_are_raised_in_the_consumer() -> None:
    with Background(iter(range(100)), maxsize=4) as bg:
        assert list(bg) == list(range(100))

    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("broken sampler")

    with Background(failing()) as bg, pytest.raises(ValueError, match="broken sampler"):
        list(bg)


def test_the_producer_runs_ahead_but_only_as_far_as_the_queue() -> None:
    produced: list[int] = []

    def counting() -> Iterator[int]:
        for i in range(50):
            produced.append(i)
            yield i

    with Background(counting(), maxsize=5) as bg:
        it = iter(bg)
        assert next(it) == 0
        time.sleep(0.3)
        # One item handed out, five queued, one waiting to be put: the rest is not computed yet.
        assert 5 <= len(produced) <= 7


def test_closing_early_stops_the_producer() -> None:
    def endless() -> Iterator[int]:
        i = 0
        while True:
            yield i
            i += 1

    before = threading.active_count()
    with Background(endless(), maxsize=2) as bg:
        assert next(iter(bg)) == 0
    assert threading.active_count() == before
    with pytest.raises(ValueError, match="maxsize must be >= 1, got 0"):
        Background(iter(()), maxsize=0)


def test_ctrl_c_does_not_wait_for_a_producer_in_the_middle_of_a_long_item() -> None:
    release = threading.Event()

    def slow() -> Iterator[int]:
        yield 0
        release.wait(30)  # a sampler minutes away from its next sample
        yield 1

    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt), Background(slow(), maxsize=2) as bg:
        assert next(iter(bg)) == 0
        raise KeyboardInterrupt
    assert time.monotonic() - t0 < 5
    release.set()
