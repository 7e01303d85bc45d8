"""Frame format shared by capture_proc, sender_proc, the receiver and the supervisor."""

from uplink_frame.format import (
    MAX_MESSAGE_BYTES,
    Frame,
    FrameError,
    decode,
    encode,
    frame_bytes,
    from_dict,
)

__all__ = [
    "MAX_MESSAGE_BYTES",
    "Frame",
    "FrameError",
    "decode",
    "encode",
    "frame_bytes",
    "from_dict",
]
