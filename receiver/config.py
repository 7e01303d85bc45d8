"""The receiver's config: from the supervisor's file, or from its own flags when run alone."""

from __future__ import annotations

from dataclasses import dataclass

from uplink_frame import MAX_MESSAGE_BYTES
from uplink_frame.attachments import AttachmentLimits
from uplink_runtime.child import ChildSpec

_ATTACHMENTS = AttachmentLimits()


@dataclass(frozen=True)
class ReceiverConfig:
    """The receiver's settings; ``child`` is None when it runs on its own."""

    child: ChildSpec | None
    out_dir: str
    host: str = "127.0.0.1"
    port: int = 0
    event: str = "audio_data"
    sink: str = ""  # "" or wav:DIR: WAV files in out_dir; redis://HOST:PORT/DB (receiver/sinks.py)
    retain_s: float = 300.0  # audio a Redis stream key keeps (receiver/redis_sink.py)
    max_streams: int = 64
    max_message_bytes: int = MAX_MESSAGE_BYTES
    max_gap_fill_s: float = 10.0  # receiver/sink.py: what one frame may make it write
    max_gap_fill_bytes: int = 4 << 20
    max_segment_bytes: int = 4_000_000_000  # a new segment before the WAV's 4 GiB limit
    max_stream_bytes: int = 64 << 30  # receiver/budget.py: disk one stream may fill
    max_disk_bytes: int = 256 << 30  # ... and all streams in this receiver's life
    idle_stream_s: float = 60.0  # receiver/streams.py: a stream with no frame this long closes
    require_auth: bool = False  # token from auth_token_file, else $AUDIO_UPLINK_TOKEN
    auth_token_file: str | None = None
    cert_file: str | None = None  # both set: serve TLS
    key_file: str | None = None
    # hostile peers (docs/operations.md "Security"; receiver/limits.py, uplink_frame/attachments.py)
    max_sessions: int = 256  # Engine.IO sessions, capped by RLIMIT_NOFILE less a reserve
    max_sessions_per_peer: int = 64  # from one address (every local sender is 127.0.0.1)
    session_rate: float = 20.0  # new sessions a second from one address (burst: per-peer cap)
    auth_timeout_ms: int = 3000  # to complete the Socket.IO connect, token included
    max_attachments: int = _ATTACHMENTS.max_count  # per binary packet
    max_pending_attachment_bytes: int = _ATTACHMENTS.max_total_bytes  # all connections
    attachment_timeout_ms: int = int(_ATTACHMENTS.timeout_s * 1000)
    close_clients_ms: int = 1000  # on SIGTERM: how long client connections may take to close
