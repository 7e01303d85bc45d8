"""Several consecutive frames of one stream in one Socket.IO event (``batch_ms``).

A batch is a map ``{"v": 2, "n": N, "frames": [frame, ...]}``: each frame is
the map of format.py, checked by the same validator, all of one stream and
epoch with consecutive seqs, so a batch is exactly N frames in a row (a
silence run counts as the frames it stands for: the next one starts after
them). One ack answers for the whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from uplink_frame.format import MAX_MESSAGE_BYTES, VERSION, Frame, FrameError, from_dict

MAX_BATCH = 64
_FIELDS = {"v", "n", "frames"}


def is_batch(obj: object) -> bool:
    return isinstance(obj, dict) and "frames" in obj


def to_batch(frames: Sequence[Frame]) -> dict[str, Any]:
    return {"v": VERSION, "n": len(frames), "frames": [f.to_dict() for f in frames]}


def from_batch(obj: object, max_bytes: int = MAX_MESSAGE_BYTES) -> list[Frame]:
    """Validate a batch map into its frames; FrameError on anything else."""
    if not isinstance(obj, dict) or set(obj) != _FIELDS:
        raise FrameError(f"batch must be a map of exactly {sorted(_FIELDS)}")
    if obj["v"] != VERSION or isinstance(obj["v"], bool):
        raise FrameError(f"unsupported batch version {obj['v']!r}, expected {VERSION}")
    items, n = obj["frames"], obj["n"]
    if not isinstance(items, list) or not isinstance(n, int) or isinstance(n, bool):
        raise FrameError("batch n must be an integer and frames a list")
    if not 1 <= n <= MAX_BATCH or n != len(items):
        raise FrameError(f"batch n={n} must match its {len(items)} frames, 1..{MAX_BATCH}")
    frames = [from_dict(item, max_bytes) for item in items]
    if sum(len(f.audio) for f in frames) > max_bytes:
        raise FrameError(f"batch audio exceeds the limit of {max_bytes} bytes")
    first, seq = frames[0], frames[0].seq
    for frame in frames:
        same = (frame.stream, frame.epoch) == (first.stream, first.epoch)
        if not same or frame.seq != seq:
            raise FrameError("batch frames must be one stream and epoch with consecutive seqs")
        seq += frame.frames
    return frames
