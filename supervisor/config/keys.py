"""Every config key, declared once: its type, default, parser, ``--help`` line and documentation.

Each field of ``Options`` is made by ``key()``, which keeps the parser, the
help line, the documentation line and what an unset value means in the
field's metadata. ``KEYS`` reads them back in field order; the option
table (``PARSERS``), ``supervisor start --help``, ``check-config`` and the
configuration table (supervisor/config/table.py) are all built from it.
"""

from __future__ import annotations

import dataclasses
import enum
import os
from dataclasses import dataclass
from typing import Any, TypeVar

from supervisor.config import parsers as p
from supervisor.config.codec import MAX_BITRATE, MIN_BITRATE
from uplink_frame import MAX_MESSAGE_BYTES
from uplink_runtime.roles import Role

T = TypeVar("T")

COMPLETE_BUFFER_MS = 10_000  # buffer_ms when delivery = "complete" and none is given
MAX_SENDERS = 32
MAX_STREAMS = 32  # one capture interpreter each; 2 cores saturate near 32 (docs/benchmarks.md)
MIN_MESSAGE_BYTES = 4096
_MB = p.number(16, 1 << 20)


class Flag(enum.Enum):
    """How a key appears on ``supervisor start``'s command line."""

    VALUE = "--key VALUE"
    SET_TRUE = "--key"  # a switch that turns the key on
    SET_FALSE = "--no-key"  # a switch that turns the key off
    FILE_ONLY = "no flag"


@dataclass(frozen=True)
class Key:
    """One config key; ``unset`` says what no value (None, or no tables) means."""

    name: str
    parse: p.Parser
    default: Any
    help: str
    doc: str
    unset: str | None
    flag: Flag

    @property
    def flag_name(self) -> str | None:
        dashed = self.name.replace("_", "-")
        if self.flag is Flag.FILE_ONLY:
            return None
        return f"--no-{dashed}" if self.flag is Flag.SET_FALSE else f"--{dashed}"


def key(
    default: T,
    parse: p.Parser,
    help: str,
    doc: str | None = None,
    *,
    unset: str | None = None,
    flag: Flag = Flag.VALUE,
) -> T:
    """An Options field; ``doc`` (the configuration table's line) defaults to ``help``."""
    spec = {"parse": parse, "help": help, "doc": doc or help, "unset": unset, "flag": flag}
    field: T = dataclasses.field(default=default, metadata={"key": spec})
    return field


@dataclass(frozen=True)
class Options:
    source: str = key(
        "tone",
        p.SOURCE,
        "tone[:HZ], file:PATH.wav, mic[:DEVICE], pipe:- (stdin) or pipe:PATH (raw PCM)",
        "see [Sources](#sources)",
    )
    server: str | None = key(
        None,
        p.url,
        "http(s)://host:port of the Socket.IO server",
        "`http(s)://host:port` of the Socket.IO server",
        unset="an embedded receiver",
    )
    stream: str = key("main", p.STREAM_ID, "stream id")
    streams: tuple[tuple[str, str], ...] = key(
        (),
        p.streams(MAX_STREAMS),
        "[[streams]] tables",
        f"1-{MAX_STREAMS} `[[streams]]` tables (file only), each exactly `id` and `source`: one "
        "capture process each (2 cores saturate near 32, see [Scaling out](design.md#scaling-out))",
        unset="one stream from `source`/`stream`",
        flag=Flag.FILE_ONLY,
    )
    rate: int = key(16000, p.integer(8000, 192000), "sample rate, Hz")
    channels: int = key(1, p.integer(1, 8), "channels")
    frame_ms: float = key(20.0, p.number(2.5, 1000), "frame length, ms (a whole number of samples)")
    window: int = key(
        8,
        p.integer(1, 1024),
        "unacked emits in flight at most",
        "unacked emits in flight at most; the sender sizes its window from ack round trips "
        "within `1..window` (see [Flow control](design.md#flow-control))",
    )
    max_latency_ms: int = key(
        500,
        p.integer(10, 600_000),
        "frames older than this are dropped (stale)",
        "frames older than this are dropped (`stale`); also the sender's queue bound",
    )
    ack_timeout_ms: int = key(
        2000,
        p.integer(10, 600_000),
        "an ack later than this returns its credit",
        "an ack later than this returns its credit (`ack_timeout`)",
    )
    hwm_ms: int = key(1000, p.integer(1, 600_000), "capture's ZeroMQ high-water mark, ms of audio")
    senders: int = key(
        1,
        p.integer(1, MAX_SENDERS),
        f"sender processes, 1-{MAX_SENDERS}",
        f"sender processes, 1-{MAX_SENDERS} (see [Scaling out](design.md#scaling-out))",
    )
    event: str = key(
        "audio_data",
        p.text(r"[A-Za-z0-9_.:-]{1,64}", "1-64 characters of [A-Za-z0-9_.:-]"),
        "Socket.IO event name",
    )
    duration: float | None = key(
        None,
        p.number(0.1, 1e9),
        "stop after this many seconds",
        "stop after this many seconds of capture",
        unset="until stopped",
    )
    report: str | None = key(None, p.PATH, "write the JSON report to this file", unset="none")
    recordings: str = key("recordings", p.PATH, "the embedded receiver's WAV directory")
    run_dir: str | None = key(
        None,
        p.PATH,
        "private runtime directory",
        "private runtime directory; see [The run directory](operations.md#the-run-directory)",
        unset="$XDG_RUNTIME_DIR/audio-uplink-UID, else /tmp/audio-uplink-UID",
    )
    pace: bool = key(
        True,
        p.boolean,
        "run tone/file sources as fast as the senders take frames (default: real time)",
        "real-time tone/file sources; `--no-pace`: as fast as the senders take frames",
        flag=Flag.SET_FALSE,
    )
    drain_ms: int = key(
        3000, p.integer(0, 600_000), "how long senders may take to send what they hold on stop"
    )
    stop_timeout_ms: int = key(5000, p.integer(100, 600_000), "SIGTERM to SIGKILL grace per child")
    hang_timeout_ms: int = key(
        2000,
        p.integer(100, 600_000),
        "heartbeat silence or stalled progress that counts as a hang",
    )
    max_rss_mb: float = key(
        256.0,
        _MB,
        "RSS cap per child, MB",
        "RSS cap per child, MB; `capture_max_rss_mb`, `sender_max_rss_mb`, "
        "`receiver_max_rss_mb` override it per role",
    )
    capture_max_rss_mb: float | None = key(None, _MB, "RSS cap of capture, MB", unset="max_rss_mb")
    sender_max_rss_mb: float | None = key(
        None, _MB, "RSS cap of each sender, MB", unset="max_rss_mb"
    )
    receiver_max_rss_mb: float | None = key(
        None, _MB, "RSS cap of the embedded receiver, MB", unset="max_rss_mb"
    )
    max_restarts: int = key(
        10,
        p.integer(0, 10_000),
        "crash restarts allowed per restart_window",
        "crash restarts allowed per `restart_window` before the child is failed",
    )
    restart_window: float = key(60.0, p.number(1, 86_400), "the window for max_restarts, s")
    codec: str = key(
        "pcm",
        p.text("pcm|opus", "pcm or opus"),
        "pcm or opus",
        "`pcm` or `opus`; see [Opus](opus.md)",
    )
    bitrate: int = key(
        24000,
        p.integer(MIN_BITRATE, MAX_BITRATE),
        "Opus target bit rate, bit/s",
        "Opus target bit rate, bit/s; see [Opus](opus.md)",
    )
    application: str = key(
        "voip",
        p.text("voip|audio", "voip or audio"),
        "Opus application: voip or audio",
        "Opus application: `voip` or `audio`; see [Opus](opus.md)",
    )
    stall_reconnect_ms: int = key(
        5000,
        p.integer(0, 600_000),
        "a stalled link is dropped and reconnected after this much longer",
        "a link without acks for `ack_timeout_ms` is *stalled*; this much longer and the "
        "sender drops the connection and reconnects",
    )
    buffer_ms: int | None = key(
        None,
        p.integer(10, 600_000),
        "the replay ring a sender keeps while its link is down, ms",
        "the replay ring: the newest audio a sender keeps while its link is down or stalled; "
        "in `complete` mode also the age past which a frame is `stale`",
        unset=f"max_latency_ms (live), {COMPLETE_BUFFER_MS} (complete)",
    )
    delivery: str = key(
        "live",
        p.text("live|complete", "live or complete"),
        "live: nothing older than max_latency_ms is sent; complete: every frame "
        "younger than buffer_ms is delivered, oldest first (docs/delivery.md)",
        "`live`: nothing older than `max_latency_ms` is sent; `complete`: every frame younger "
        "than `buffer_ms` is delivered, oldest first, catching up faster than real time after "
        "an outage. In both, no fault loses a frame still inside the budget (see "
        "[delivery.md](delivery.md))",
    )
    acks: bool = key(
        True,
        p.boolean,
        "false: emit without asking for acks",
        "`false`: emit without asking for acks, for servers that never ack (see "
        "[Flow control](design.md#flow-control))",
    )
    batch_ms: int = key(
        0,
        p.integer(0, 1000),
        "> 0: up to this much audio per emit",
        "> 0: up to this much audio (consecutive frames of one stream) per emit, at most 64 frames",
    )
    silence_db: float = key(
        -60.0,
        p.number(-119, 0),  # above uplink_runtime.levels.FLOOR_DB: silence can be below it
        "the silent alarm's threshold, dBFS RMS (docs/levels.md)",
        "the *silent* alarm's level: RMS below this many dBFS (see [levels](levels.md))",
    )
    silence_alarm_s: float = key(
        10.0,
        p.number(0.1, 86_400),
        "the silent alarm is raised after this long below silence_db, s",
        "the *silent* alarm: RMS below `silence_db` for this many seconds raises it (see "
        "[levels](levels.md))",
    )
    suppress_silence: bool = key(
        False,
        p.boolean,
        "send silence (by WebRTC VAD) as small silence-run frames, keeping 200 ms before and "
        "after speech (docs/silence.md)",
        "`true` (flag `--suppress-silence`): send silence as small silence-run frames (WebRTC "
        "VAD, 200 ms kept before and after speech; needs `audio-uplink[vad]`); see "
        "[silence](silence.md)",
        flag=Flag.SET_TRUE,
    )
    # operations and security
    auth_token_file: str | None = key(
        None,
        p.readable_file,
        "file holding the token sent in the connect auth payload",
        "file holding the token sent in the Socket.IO connect `auth` payload "
        '(`{"token": …}`). The embedded receiver then requires that token; with neither '
        "this nor `$AUDIO_UPLINK_TOKEN`, it requires a per-run token only its own senders "
        "get. See [Security](operations.md#security)",
        unset="$AUDIO_UPLINK_TOKEN if set",
    )
    ca_file: str | None = key(
        None,
        p.readable_file,
        "PEM CA bundle that verifies an https:// server",
        "PEM CA bundle that verifies an `https://` server",
        unset="the system's CAs",
    )
    tls_insecure: bool = key(
        False,
        p.boolean,
        "do NOT verify the server's TLS certificate (logged loudly; tests only; default: verify)",
        "do not verify the server's certificate (logged as a warning by every sender); "
        "for tests only",
        flag=Flag.SET_TRUE,
    )
    max_message_bytes: int = key(
        MAX_MESSAGE_BYTES,
        p.integer(MIN_MESSAGE_BYTES, MAX_MESSAGE_BYTES),
        "the embedded receiver's frame limit, bytes",
        "the embedded receiver's frame limit, bytes; bigger frames are refused and counted "
        "(`rejected_oversized`)",
    )
    metrics: str | None = key(
        None,
        p.host_port,
        "PORT or HOST:PORT: serve Prometheus metrics there",
        "`PORT` or `HOST:PORT`: serve Prometheus metrics at `http://HOST:PORT/metrics` (a bare "
        "port binds 127.0.0.1); see [Metrics](operations.md#metrics)",
        unset="off",
    )
    log_format: str = key(
        "text",
        p.choice("text", "json"),
        "text or json",
        "`json`: one JSON object per line, for the supervisor and every child; "
        "see [Logs](operations.md#logs)",
    )
    capture_bind: str | None = key(
        None,
        p.tcp_endpoint,
        "tcp://HOST:PORT for capture's ZeroMQ socket (needs curve_dir)",
        "`tcp://HOST:PORT` (HOST may be `*`) for capture's ZeroMQ socket; refused unless "
        "`curve_dir` is set; one stream only",
        unset="ipc:// in run_dir",
    )
    curve_dir: str | None = key(
        None,
        p.directory,
        "CURVE keys from supervisor curve-keys DIR",
        "CURVE keys from `supervisor curve-keys DIR`: capture admits only the sender keys in "
        "`DIR/senders/`; see [ZeroMQ over TCP](operations.md#zeromq-over-tcp)",
        unset="none",
    )

    # pipe: sources, the raw PCM's declared format (docs/audio.md); None: the stream's
    input_format: str | None = key(
        None,
        p.choice("s16le", "f32le"),
        "pipe: sources: raw sample format, s16le or f32le",
        "a `pipe:` source's raw sample format: `s16le` or `f32le` (converted to the stream's; "
        "[audio](audio.md)); refused with any other source",
        unset="s16le",
    )
    input_rate: int | None = key(
        None,
        p.integer(8000, 192000),
        "pipe: sources: the input's sample rate, Hz (converted to rate)",
        "a `pipe:` source's sample rate, Hz, 8000 to 192000; refused with any other source",
        unset="rate",
    )
    input_channels: int | None = key(
        None,
        p.integer(1, 8),
        "pipe: sources: the input's channels (mixed to channels)",
        "a `pipe:` source's channel count, 1 to 8; refused with any other source",
        unset="channels",
    )

    def budget_ms(self) -> int:
        """How old a frame may get and still be delivered (docs/delivery.md)."""
        if self.delivery == "complete":
            return COMPLETE_BUFFER_MS if self.buffer_ms is None else self.buffer_ms
        return self.max_latency_ms

    def stream_sources(self) -> tuple[tuple[str, str], ...]:
        return self.streams or ((self.stream, self.source),)

    def rss_cap_mb(self, role: Role) -> float:
        cap: float | None = getattr(self, f"{role}_max_rss_mb")
        return self.max_rss_mb if cap is None else cap

    def resolved_run_dir(self) -> str:
        if self.run_dir:
            return self.run_dir
        base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
        return os.path.join(base, f"audio-uplink-{os.getuid()}")


KEYS: tuple[Key, ...] = tuple(
    Key(name=f.name, default=f.default, **f.metadata["key"]) for f in dataclasses.fields(Options)
)
BY_NAME = {k.name: k for k in KEYS}
PARSERS: dict[str, p.Parser] = {k.name: k.parse for k in KEYS}
for _key in KEYS:  # a value with no default must say what its absence means
    assert _key.default not in (None, ()) or _key.unset, _key.name


def default_text(k: Key) -> str:
    """A default as a person writes it: true, 20, 256, text; or what no value means."""
    if k.default in (None, ()):
        assert k.unset is not None
        return k.unset
    if isinstance(k.default, bool):
        return str(k.default).lower()
    return f"{k.default:g}" if isinstance(k.default, float) else str(k.default)
