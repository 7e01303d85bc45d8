"""``supervisor start --help``: what each flag does, and its default read from Options.

The meaning is said here once per key; the default is never repeated: it
comes from the Options field, or, where the field is None, from what None
means for that key.
"""

from __future__ import annotations

import dataclasses

from supervisor.config.options import Options

MEANING = {
    "source": "tone[:HZ], file:PATH.wav, mic[:DEVICE], pipe:- (stdin) or pipe:PATH (raw PCM)",
    "server": "http(s)://host:port of the Socket.IO server",
    "stream": "stream id",
    "rate": "sample rate, Hz",
    "channels": "channels",
    "frame_ms": "frame length, ms (a whole number of samples)",
    "window": "unacked emits in flight at most",
    "max_latency_ms": "frames older than this are dropped (stale)",
    "ack_timeout_ms": "an ack later than this returns its credit",
    "hwm_ms": "capture's ZeroMQ high-water mark, ms of audio",
    "senders": "sender processes, 1-32",
    "event": "Socket.IO event name",
    "duration": "stop after this many seconds",
    "report": "write the JSON report to this file",
    "recordings": "the embedded receiver's WAV directory",
    "run_dir": "private runtime directory",
    "drain_ms": "how long senders may take to send what they hold on stop",
    "stop_timeout_ms": "SIGTERM to SIGKILL grace per child",
    "hang_timeout_ms": "heartbeat silence or stalled progress that counts as a hang",
    "max_rss_mb": "RSS cap per child, MB",
    "capture_max_rss_mb": "RSS cap of capture, MB",
    "sender_max_rss_mb": "RSS cap of each sender, MB",
    "receiver_max_rss_mb": "RSS cap of the embedded receiver, MB",
    "max_restarts": "crash restarts allowed per restart_window",
    "restart_window": "the window for max_restarts, s",
    "codec": "pcm or opus",
    "bitrate": "Opus target bit rate, bit/s",
    "application": "Opus application: voip or audio",
    "stall_reconnect_ms": "a stalled link is dropped and reconnected after this much longer",
    "buffer_ms": "the replay ring a sender keeps while its link is down, ms",
    "acks": "false: emit without asking for acks",
    "delivery": "live: nothing older than max_latency_ms is sent; complete: every frame "
    "younger than buffer_ms is delivered, oldest first (docs/delivery.md)",
    "batch_ms": "> 0: up to this much audio per emit",
    "silence_db": "the silent alarm's threshold, dBFS RMS (docs/levels.md)",
    "silence_alarm_s": "the silent alarm is raised after this long below silence_db, s",
    "suppress_silence": "send silence (by WebRTC VAD) as small silence-run frames, keeping "
    "200 ms before and after speech (docs/silence.md)",
    "auth_token_file": "file holding the token sent in the connect auth payload",
    "ca_file": "PEM CA bundle that verifies an https:// server",
    "max_message_bytes": "the embedded receiver's frame limit, bytes",
    "metrics": "PORT or HOST:PORT: serve Prometheus metrics there",
    "log_format": "text or json",
    "capture_bind": "tcp://HOST:PORT for capture's ZeroMQ socket (needs curve_dir)",
    "curve_dir": "CURVE keys from supervisor curve-keys DIR",
    "input_format": "pipe: sources: raw sample format, s16le or f32le",
    "input_rate": "pipe: sources: the input's sample rate, Hz (converted to rate)",
    "input_channels": "pipe: sources: the input's channels (mixed to channels)",
}
# what a None default means, per key
_NONE_MEANS = {
    "server": "an embedded receiver",
    "duration": "until stopped",
    "report": "none",
    "run_dir": "$XDG_RUNTIME_DIR/audio-uplink-UID, else /tmp/audio-uplink-UID",
    "capture_max_rss_mb": "max_rss_mb",
    "sender_max_rss_mb": "max_rss_mb",
    "receiver_max_rss_mb": "max_rss_mb",
    "buffer_ms": "max_latency_ms (live), 10000 (complete)",
    "auth_token_file": "$AUDIO_UPLINK_TOKEN if set",
    "ca_file": "the system's CAs",
    "metrics": "off",
    "capture_bind": "ipc:// in run_dir",
    "curve_dir": "none",
    "input_format": "s16le",
    "input_rate": "rate",
    "input_channels": "channels",
}
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Options)}


def default_text(key: str) -> str:
    value = _DEFAULTS[key]
    if value is None:
        return _NONE_MEANS[key]
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:g}" if isinstance(value, float) else str(value)


def flag_help(key: str) -> str:
    # argparse %-formats help text: a literal % must be doubled
    return f"{MEANING[key]} (default: {default_text(key)})".replace("%", "%%")
