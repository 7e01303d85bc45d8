from __future__ import annotations

from dataclasses import dataclass

from supervisor.child import ChildSpec
from uplink_frame import MAX_MESSAGE_BYTES


@dataclass(frozen=True)
class ReceiverConfig:
    """The receiver's settings; ``child`` is None when it runs on its own."""

    child: ChildSpec | None
    out_dir: str
    host: str = "127.0.0.1"
    port: int = 0
    event: str = "audio_data"
    max_streams: int = 64
    max_message_bytes: int = MAX_MESSAGE_BYTES
    max_gap_fill_s: float = 10.0
    reorder_ms: int = 200
    require_auth: bool = False  # token from auth_token_file, else $AUDIO_UPLINK_TOKEN
    auth_token_file: str | None = None
    cert_file: str | None = None  # both set: serve TLS
    key_file: str | None = None
