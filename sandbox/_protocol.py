"""Length-prefixed framing between the controller and a zygote. Standard library only.

Both ends speak marshal of plain data (tuples, bytes, str, ints, floats, dicts): marshal cannot build
arbitrary
objects, so a confused or compromised peer can at worst send wrong values, never code.
"""

from __future__ import annotations

import marshal
import os
import struct
from typing import Any

_HEADER = struct.Struct("<I")
MAX_MESSAGE = 1 << 30
"""Refuse frames above 1 GiB: a corrupt length must not make us allocate without bound."""


def encode(message: Any) -> bytes:
    """One frame: 4-byte little-endian length, then the marshalled payload."""
    payload = marshal.dumps(message)
    return _HEADER.pack(len(payload)) + payload


def write_message(fd: int, message: Any) -> None:
    """Write a whole frame to a blocking fd (os.write may write less than asked, so loop)."""
    data = memoryview(encode(message))
    while data:
        written = os.write(fd, data)
        data = data[written:]


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


def read_message(fd: int) -> Any:
    """Read one frame from a blocking fd; raise EOFError when the peer closed the pipe."""
    header = _read_exact(fd, _HEADER.size)
    if header is None:
        raise EOFError("peer closed the pipe")
    (size,) = _HEADER.unpack(header)
    if size > MAX_MESSAGE:
        raise ValueError(f"frame length must be <= {MAX_MESSAGE}, got {size}")
    payload = _read_exact(fd, size)
    if payload is None:
        raise EOFError("peer closed the pipe mid-frame")
    return marshal.loads(payload)


class FrameBuffer:
    """Incremental decoder for a non-blocking reader: feed bytes, pop whole messages."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Any]:
        """Append data and return every message that is now complete, in order."""
        self._buf += data
        out: list[Any] = []
        while len(self._buf) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buf)
            if size > MAX_MESSAGE:
                raise ValueError(f"frame length must be <= {MAX_MESSAGE}, got {size}")
            end = _HEADER.size + size
            if len(self._buf) < end:
                break
            out.append(marshal.loads(bytes(self._buf[_HEADER.size : end])))
            del self._buf[:end]
        return out
