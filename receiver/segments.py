"""Where a stream's recordings live: the one home of the file naming.

A stream's first segment in a directory is ``<stream>.wav``; every later one
is ``<stream>+<n>.wav`` with n counting up (``+`` is not allowed in a stream
id, so names never collide across streams). A segment is never reopened for
writing: a new epoch, a restarted receiver, a gap too long to fill and the
size limit each start the next number. Sorting by number is time order.
"""

from __future__ import annotations

import re
from pathlib import Path

from receiver.wavfile import SegmentMeta, WavWriter, read_meta

_MAX_TRIES = 64  # numbers tried when another writer takes ours in between
_HISTORY = 64  # newest segments read back to recognise frames already written


def segment_path(out_dir: Path, stream: str, number: int) -> Path:
    return out_dir / (f"{stream}.wav" if number == 0 else f"{stream}+{number}.wav")


def segment_number(path: Path, stream: str) -> int | None:
    if path.name == f"{stream}.wav":
        return 0
    found = re.fullmatch(re.escape(stream) + r"\+([1-9]\d{0,8})\.wav", path.name)
    return int(found.group(1)) if found else None


def stream_segments(out_dir: Path, stream: str) -> list[Path]:
    """Every segment of ``stream`` in ``out_dir``, oldest first."""
    numbered = []
    for path in out_dir.glob(f"{glob_escape(stream)}*.wav"):
        number = segment_number(path, stream)
        if number is not None:
            numbered.append((number, path))
    return [path for _, path in sorted(numbered)]


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def create_segment(out_dir: Path, rate: int, channels: int, meta: SegmentMeta) -> WavWriter:
    """A new file after the stream's newest one; existing files are never opened for writing."""
    existing = stream_segments(out_dir, meta.stream)
    number = 1 + (segment_number(existing[-1], meta.stream) or 0) if existing else 0
    for _ in range(_MAX_TRIES):
        try:
            return WavWriter(segment_path(out_dir, meta.stream, number), rate, channels, meta)
        except FileExistsError:
            number += 1
    raise FileExistsError(f"no free segment name for stream {meta.stream} in {out_dir}")


def written_before(out_dir: Path, stream: str, epoch: int) -> list[SegmentMeta]:
    """Segments of this stream and epoch already on disk (a receiver restarted mid-run)."""
    metas = (read_meta(path) for path in stream_segments(out_dir, stream)[-_HISTORY:])
    return [m for m in metas if m is not None and m.epoch == epoch and m.stream == stream]


def newest_of_epoch(out_dir: Path, stream: str, epoch: int) -> tuple[Path, SegmentMeta] | None:
    """The stream's newest segment if it belongs to this epoch (the consumer resumes it)."""
    paths = stream_segments(out_dir, stream)
    meta = read_meta(paths[-1]) if paths else None
    if meta is None or meta.epoch != epoch or meta.stream != stream:
        return None
    return paths[-1], meta
