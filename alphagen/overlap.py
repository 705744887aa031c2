"""Run an iterator in a background thread behind a bounded queue, so its consumer works while it produces.

The sampler spends its time inside torch (which releases the GIL) and the filter waits on sandbox processes, so
one thread each overlaps them. The queue is bounded: a consumer that falls behind pauses the producer instead of
letting finished samples pile up in memory.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_DONE = object()
INTERRUPT_WAIT_S = 1.0
"""How long Ctrl-C waits for the producer to stop before leaving it to die with the process."""


class Background(Generic[T]):
    """Iterate over ``source`` in a daemon thread; iterate this object to receive its items in order.

    An exception in the producer is raised in the consumer. Leaving the ``with`` block (or calling ``close``)
    stops the producer at its next item, so an abandoned consumer never leaves a thread blocked on the queue.
    """

    def __init__(self, source: Iterable[T], maxsize: int = 64) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize}")
        self._queue: queue.Queue[object] = queue.Queue(maxsize)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._produce, args=(source,), name="alphagen-producer", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        # Short timeouts so that a stop request is seen even while the queue is full.
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, source: Iterable[T]) -> None:
        try:
            for item in source:
                if not self._put(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            self._error = exc
        finally:
            self._put(_DONE)

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if item is _DONE:
                self._thread.join()
                if self._error is not None:
                    raise self._error
                return
            yield item  # type: ignore[misc]

    def close(self) -> None:
        """Ask the producer to stop and wait for it (it finishes the item it is computing)."""
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> Background[T]:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            # Ctrl-C must not wait for the producer's current item: a sampler can be minutes from its next sample
            # (every row of a big batch mid-program). The producer is told to stop and, a daemon, dies with the
            # process; the interrupted run keeps only what it stored before.
            self._stop.set()
            self._thread.join(timeout=INTERRUPT_WAIT_S)
            return
        self.close()
