"""Length-prefixed framing between the controller and a zygote. Standard library only.

A frame is a 4-byte little-endian length, then a 4-byte length of the marshalled header, the header
(marshal of (message, blob_lengths)), then the raw blobs. Both ends speak marshal of plain data (tuples, bytes,
str, ints, floats, dicts): marshal cannot build arbitrary objects, so a confused or compromised peer can at
worst send wrong values, never code.

Why blobs: test inputs, checker answers and candidates' outputs must never sit in the zygote's heap, which every
child inherits (freed buffers included). The zygote reads blobs straight into a WipeBuffer (an anonymous mapping
with MADV_WIPEONFORK: a forked child sees zeros there) and writes them from it, so that data never becomes a
Python object on its side. The controller's side decodes blobs as bytes (its memory never reaches a child).
"""

from __future__ import annotations

import marshal
import mmap
import os
import struct
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

_HEADER = struct.Struct("<II")
MADV_WIPEONFORK = getattr(mmap, "MADV_WIPEONFORK", 18)
"""Python < 3.12 lacks the constant; 18 on every Linux architecture."""
Message: TypeAlias = "None | bool | int | float | str | bytes | Sequence[Message] | Mapping[str, Message]"
"""A frame's message: plain data (tuples, lists and dicts of scalars, str and bytes) that marshal writes and reads
back as it was. Named by the read-only container protocols so a list[str] is one (lists are invariant)."""
MAX_MESSAGE = 1 << 30
"""Refuse frames above 1 GiB: a corrupt length must not make us allocate without bound."""


def frame_head(message: Message, lengths: list[int]) -> bytes:
    """Everything of a frame but its blobs (which follow it, in order, with these lengths)."""
    # marshal's stub names its concrete containers (tuple, list, dict); Message names them by their protocols.
    head = marshal.dumps((message, lengths))  # type: ignore[arg-type]
    return _HEADER.pack(4 + len(head) + sum(lengths), len(head)) + head


def encode(message: Message, blobs: tuple[bytes, ...] | list[bytes] = ()) -> bytes:
    """One whole frame: lengths, the marshalled (message, blob lengths), then the blobs."""
    return frame_head(message, [len(b) for b in blobs]) + b"".join(blobs)


def write_message(fd: int, message: Message) -> None:
    """Write a frame without blobs to a blocking fd."""
    write_views(fd, [encode(message)])


def write_views(fd: int, parts: list[Any]) -> None:
    """Write every part (bytes or memoryview) in order; os.writev may write less than asked, so loop."""
    views = [memoryview(p).cast("B") for p in parts if len(p)]
    while views:
        written = os.writev(fd, views)
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if written:
            views[0] = views[0][written:]


def _read_exact(fd: int, size: int) -> bytes | None:
    """Read exactly size bytes, or return None on EOF (the peer went away)."""
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class WipeBuffer:
    """Growable anonymous memory that a forked child does not inherit (MADV_WIPEONFORK: it reads zeros)."""

    def __init__(self) -> None:
        self.map = self._new(1 << 16)

    @staticmethod
    def _new(size: int) -> mmap.mmap:
        size = -(-size // mmap.PAGESIZE) * mmap.PAGESIZE
        m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        try:
            m.madvise(MADV_WIPEONFORK)
        except OSError:
            m.madvise(mmap.MADV_DONTFORK)  # before Linux 4.14: the child gets no mapping there at all
        return m

    def reserve(self, size: int) -> mmap.mmap:
        """At least size bytes (contents not kept when it grows). No view of the old map may be alive."""
        if size > len(self.map):
            grown = max(size, 2 * len(self.map))
            self.map.close()
            self.map = self._new(grown)
        return self.map

    def view(self, offset: int, size: int) -> memoryview:
        return memoryview(self.map)[offset : offset + size]


def read_request(fd: int, buf: WipeBuffer) -> tuple[Any, list[tuple[int, int]]]:
    """Read one frame from a blocking fd: the message, and its blobs as (offset, size) spans of buf.
    Raise EOFError when the peer closed the pipe."""
    header = _read_exact(fd, _HEADER.size)
    if header is None:
        raise EOFError("peer closed the pipe")
    size, head_size = _HEADER.unpack(header)
    if size > MAX_MESSAGE or head_size > size - 4:
        raise ValueError(f"frame length must be <= {MAX_MESSAGE}, got {size}")
    head = _read_exact(fd, head_size)
    if head is None:
        raise EOFError("peer closed the pipe mid-frame")
    message, lengths = marshal.loads(head)
    total = size - 4 - head_size
    if sum(lengths) != total or min(lengths, default=0) < 0:
        raise ValueError("blob lengths do not add up")
    buf.reserve(total)
    with memoryview(buf.map) as whole:
        view = whole[:total]
        while view:
            got = os.readv(fd, [view])
            if not got:
                raise EOFError("peer closed the pipe mid-frame")
            view = view[got:]
        view.release()
    spans, offset = [], 0
    for n in lengths:
        spans.append((offset, n))
        offset += n
    return message, spans


class FrameBuffer:
    """Incremental decoder for a non-blocking reader (the controller): feed bytes, pop whole messages. A
    message with blobs comes back as the message tuple with the blobs (bytes) appended."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Any]:
        """Append data and return every message that is now complete, in order."""
        self._buf += data
        out: list[Any] = []
        while len(self._buf) >= _HEADER.size:
            size, head_size = _HEADER.unpack_from(self._buf)
            if size > MAX_MESSAGE or head_size > size - 4:
                raise ValueError(f"frame length must be <= {MAX_MESSAGE}, got {size}")
            end = 4 + size
            if len(self._buf) < end:
                break
            message, lengths = marshal.loads(bytes(self._buf[_HEADER.size : _HEADER.size + head_size]))
            offset = _HEADER.size + head_size
            blobs = []
            for n in lengths:
                blobs.append(bytes(self._buf[offset : offset + n]))
                offset += n
            out.append(tuple(message) + tuple(blobs) if blobs else message)
            del self._buf[:end]
        return out
