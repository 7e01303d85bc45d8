"""A WAV file that is valid after every write, created once and never truncated.

The header carries the segment's identity in a ``LIST/INFO/ICMT`` comment
(``audio-uplink stream=S epoch=E first_seq=N``), which ``soxi`` shows and
every reader skips. Audio is written in place with ``pwrite`` at its frame's
position, then the two RIFF sizes are patched: a process killed between the
two leaves a file whose header covers every write that returned (so every
acked frame), and at worst ignores bytes of a frame that was never acked.
A position not written yet is a hole in the file and reads as silence.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

WAV_LIMIT = (1 << 32) - 1  # RIFF sizes are 32-bit: the hard limit of one file
MAX_DATA_BYTES = WAV_LIMIT - 4096  # room for the header, whatever a config asks for
_COMMENT = re.compile(rb"audio-uplink stream=(\S+) epoch=(\d+) first_seq=(\d+)")
_CREATE = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class SegmentMeta:
    """What a segment file says about itself; ``data_bytes`` as its header covers."""

    stream: str
    epoch: int
    first_seq: int
    data_bytes: int = 0


class WavWriter:
    """One new file (O_EXCL | O_NOFOLLOW: FileExistsError rather than touch another)."""

    def __init__(self, path: Path, rate: int, channels: int, meta: SegmentMeta) -> None:
        comment = f"audio-uplink stream={meta.stream} epoch={meta.epoch} first_seq={meta.first_seq}"
        text = comment.encode().ljust(len(comment) + 2 - len(comment) % 2, b"\0")
        info = b"INFO" + b"ICMT" + struct.pack("<I", len(text)) + text
        fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * 2, channels * 2, 16)
        head = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
        head += b"LIST" + struct.pack("<I", len(info)) + info + b"data"
        self.header = b"RIFF" + struct.pack("<I", len(head) + 4) + head + struct.pack("<I", 0)
        self.data_start = len(self.header)
        self.data_bytes = 0
        self.path = path
        self._fd = os.open(path, _CREATE, 0o644)
        os.write(self._fd, self.header)

    @classmethod
    def reopen(cls, path: Path) -> WavWriter | None:
        """A segment this program wrote, to write in place again; None if it is not one.

        Only the consumer does this (receiver/consume.py): after a restart it
        writes its unacked entries again, at their own places, so a frame
        written before the kill is overwritten by the same bytes, never added.
        """
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        parsed = _parse(os.pread(fd, 512, 0))
        if parsed is None:
            os.close(fd)
            return None
        meta, data_start = parsed
        writer = cls.__new__(cls)
        writer.path, writer._fd = path, fd
        writer.header = os.pread(fd, data_start, 0)
        writer.data_start, writer.data_bytes = data_start, meta.data_bytes
        return writer

    def write_at(self, offset: int, pcm: bytes) -> None:
        """Write ``pcm`` at ``offset`` bytes into the data; the header follows when it grows."""
        os.pwrite(self._fd, pcm, self.data_start + offset)
        end = offset + len(pcm)
        if end > self.data_bytes:
            self.data_bytes = end
            riff = self.data_start - 8 + end
            os.pwrite(self._fd, struct.pack("<I", riff), 4)
            os.pwrite(self._fd, struct.pack("<I", end), self.data_start - 4)

    def close(self) -> None:
        os.close(self._fd)


def read_meta(path: Path) -> SegmentMeta | None:
    """The identity and covered length of a segment this program wrote; None for others."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        head = os.read(fd, 512)
    finally:
        os.close(fd)
    parsed = _parse(head)
    return parsed[0] if parsed else None


def _parse(head: bytes) -> tuple[SegmentMeta, int] | None:
    """The meta of a header of ours and where its data starts."""
    if len(head) < 56 or head[:4] != b"RIFF" or head[36:40] != b"LIST":
        return None
    data_at = 44 + struct.unpack_from("<I", head, 40)[0]  # our layout: fmt, LIST, data
    found = _COMMENT.match(head, 56)
    if not found or head[data_at : data_at + 4] != b"data" or len(head) < data_at + 8:
        return None
    (data_bytes,) = struct.unpack_from("<I", head, data_at + 4)
    stream, epoch, first = found.groups()
    return SegmentMeta(stream.decode(), int(epoch), int(first), data_bytes), data_at + 8
