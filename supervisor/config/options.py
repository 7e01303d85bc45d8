"""The supervisor's one config object: defaults, then the TOML file, then flags.

Every key is validated here, once; an error names the key, the value and
what is accepted, and the CLI turns it into one line and exit code 2. TOML
values must have their type (``senders = "3"`` is refused); only a flag,
which is text, is converted by the field's type before it is validated.
Echoed values are shortened, so a 10 MB value makes a short line.
"""

from __future__ import annotations

import dataclasses
import os
import re
import reprlib
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from supervisor.config import codec as codec_options
from supervisor.config.ops import OPS_PARSERS, combination_problem
from uplink_frame import MAX_MESSAGE_BYTES, FrameError, frame_bytes
from uplink_runtime.errors import ConfigError
from uplink_runtime.safefile import read_regular

COMPLETE_BUFFER_MS = 10_000  # buffer_ms when delivery = "complete" and none is given


@dataclass(frozen=True)
class Options:
    source: str = "tone"
    server: str | None = None
    stream: str = "main"
    streams: tuple[tuple[str, str], ...] = ()  # (id, source) from [[streams]]; else stream+source
    rate: int = 16000
    channels: int = 1
    frame_ms: float = 20.0
    window: int = 8
    max_latency_ms: int = 500
    ack_timeout_ms: int = 2000
    hwm_ms: int = 1000
    senders: int = 1
    event: str = "audio_data"
    duration: float | None = None
    report: str | None = None
    recordings: str = "recordings"
    run_dir: str | None = None
    pace: bool = True
    drain_ms: int = 3000
    stop_timeout_ms: int = 5000
    hang_timeout_ms: int = 2000
    max_rss_mb: float = 256.0
    capture_max_rss_mb: float | None = None
    sender_max_rss_mb: float | None = None
    receiver_max_rss_mb: float | None = None
    max_restarts: int = 10
    restart_window: float = 60.0
    codec: str = "pcm"
    bitrate: int = 24000
    application: str = "voip"
    stall_reconnect_ms: int = 5000
    buffer_ms: int | None = None
    delivery: str = "live"
    acks: bool = True
    batch_ms: int = 0
    silence_db: float = -60.0
    silence_alarm_s: float = 10.0
    suppress_silence: bool = False  # docs/silence.md
    # operations and security; parsers in supervisor/opsconfig.py
    auth_token_file: str | None = None
    ca_file: str | None = None
    tls_insecure: bool = False
    max_message_bytes: int = MAX_MESSAGE_BYTES
    metrics: str | None = None
    log_format: str = "text"
    capture_bind: str | None = None
    curve_dir: str | None = None
    # pipe: sources, the raw PCM's declared format (docs/audio.md); None: the stream's
    input_format: str | None = None
    input_rate: int | None = None
    input_channels: int | None = None

    def budget_ms(self) -> int:
        """How old a frame may get and still be delivered (docs/delivery.md)."""
        if self.delivery == "complete":
            return COMPLETE_BUFFER_MS if self.buffer_ms is None else self.buffer_ms
        return self.max_latency_ms

    def stream_sources(self) -> tuple[tuple[str, str], ...]:
        return self.streams or ((self.stream, self.source),)

    def rss_cap_mb(self, role: str) -> float:
        cap: float | None = getattr(self, f"{role}_max_rss_mb")
        return self.max_rss_mb if cap is None else cap

    def resolved_run_dir(self) -> str:
        if self.run_dir:
            return self.run_dir
        base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
        return os.path.join(base, f"audio-uplink-{os.getuid()}")


def _int(lo: int, hi: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise ValueError(f"an integer from {lo} to {hi}")
        return value

    return parse


def _float(lo: float, hi: float) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        number = float(value) if isinstance(value, int | float) else None
        if isinstance(value, bool) or number is None or not lo <= number <= hi:
            raise ValueError(f"a number from {lo:g} to {hi:g}")
        return number

    return parse


def _text(pattern: str, accepted: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            raise ValueError(accepted)
        return value

    return parse


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError("true or false")


def _url(value: Any) -> str:
    parsed = urlparse(str(value))
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError("an http:// or https:// URL of a Socket.IO server")
    return str(value)


MAX_SENDERS = 32
MAX_STREAMS = 32  # one capture interpreter each; 2 cores saturate near 32 (docs/benchmarks.md)
MAX_CONFIG_BYTES = 1 << 20
_SOURCE = _text(
    r"tone(:\d+)?|file:.+|mic(:.+)?|pipe:.+",
    "tone[:HZ], file:PATH.wav, mic[:DEVICE], pipe:- or pipe:PATH",
)
_STREAM_ID = _text(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", "1-64 characters of [A-Za-z0-9_.-]")


def _streams(value: Any) -> tuple[tuple[str, str], ...]:
    """``[[streams]]`` tables: each exactly ``id`` and ``source``, ids unique."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_STREAMS:
        raise ValueError(f"1 to {MAX_STREAMS} [[streams]] tables with id and source")
    streams = []
    for table in value:
        if not isinstance(table, dict) or set(table) != {"id", "source"}:
            keys = sorted(table) if isinstance(table, dict) else table
            raise ValueError(f"tables with exactly id and source (got {shown(keys)})")
        try:
            streams.append((_STREAM_ID(table["id"]), _SOURCE(table["source"])))
        except ValueError as exc:
            raise ValueError(f"id and source in {shown(table)}: {exc}") from None
    ids = [sid for sid, _ in streams]
    if len(set(ids)) != len(ids):
        raise ValueError(f"unique stream ids (got {shown(ids)})")
    return tuple(streams)


_PATH = _text(r".{1,4096}", "a path of 1-4096 characters")  # PATH_MAX
PARSERS: dict[str, Callable[[Any], Any]] = {
    "source": _SOURCE,
    "server": _url,
    "stream": _STREAM_ID,
    "streams": _streams,
    "rate": _int(8000, 192000),
    "channels": _int(1, 8),
    "frame_ms": _float(2.5, 1000),
    "window": _int(1, 1024),
    "max_latency_ms": _int(10, 600_000),
    "ack_timeout_ms": _int(10, 600_000),
    "hwm_ms": _int(1, 600_000),
    "senders": _int(1, MAX_SENDERS),
    "event": _text(r"[A-Za-z0-9_.:-]{1,64}", "1-64 characters of [A-Za-z0-9_.:-]"),
    "duration": _float(0.1, 1e9),
    "report": _PATH,
    "recordings": _PATH,
    "run_dir": _PATH,
    "pace": _bool,
    "drain_ms": _int(0, 600_000),
    "stop_timeout_ms": _int(100, 600_000),
    "hang_timeout_ms": _int(100, 600_000),
    "max_rss_mb": _float(16, 1 << 20),
    "capture_max_rss_mb": _float(16, 1 << 20),
    "sender_max_rss_mb": _float(16, 1 << 20),
    "receiver_max_rss_mb": _float(16, 1 << 20),
    "max_restarts": _int(0, 10_000),
    "restart_window": _float(1, 86_400),
    "codec": _text("pcm|opus", "pcm or opus"),
    "bitrate": _int(codec_options.MIN_BITRATE, codec_options.MAX_BITRATE),
    "application": _text("voip|audio", "voip or audio"),
    "stall_reconnect_ms": _int(0, 600_000),
    "buffer_ms": _int(10, 600_000),
    "delivery": _text("live|complete", "live or complete"),
    "acks": _bool,
    "batch_ms": _int(0, 1000),
    "silence_db": _float(-119, 0),  # above capture_proc.levels.FLOOR_DB: silence can be below it
    "silence_alarm_s": _float(0.1, 86_400),
    "input_format": _text("s16le|f32le", "s16le or f32le"),
    "input_rate": _int(8000, 192000),
    "input_channels": _int(1, 8),
    "suppress_silence": _bool,
}
PARSERS.update(OPS_PARSERS)
assert set(PARSERS) == {f.name for f in dataclasses.fields(Options)}


_SHORT = reprlib.Repr()  # keyword arguments only from Python 3.12
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 3, 60, 60
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxtuple = 6


def shown(value: Any) -> str:
    """A value as the user wrote it, shortened: an error line stays one short line."""
    return _SHORT.repr(value)


def refusal(key: str, raw: Any, accepted: ValueError, flag: bool = False) -> str:
    """The one line for a refused value: key (or --flag), value, what is accepted."""
    name = f"--{key.replace('_', '-')}" if flag else key
    quoted = isinstance(raw, str) and not flag and _kind(key) in _CONVERTED
    return f"{name} = {shown(raw)}: expected {accepted}" + (", not a string" if quoted else "")


def load_toml(path: str) -> dict[str, Any]:
    try:
        return tomllib.loads(read_regular(path, MAX_CONFIG_BYTES).decode())
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"config file {path}: values nested too deeply") from None


_FIELD_TYPES = {f.name: str(f.type) for f in dataclasses.fields(Options)}
_FLAG_BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_CONVERTED: dict[str, Callable[[str], Any]] = {
    "int": int,
    "float": float,
    "bool": lambda text: _FLAG_BOOLS[text.lower()],
}


def _kind(key: str) -> str:
    return _FIELD_TYPES[key].split(" | ")[0]


def _from_flag(key: str, raw: Any) -> Any:
    """A flag's text as the field's type; left as text if it does not convert (then refused)."""
    convert = _CONVERTED.get(_kind(key))
    if convert is None or not isinstance(raw, str):
        return raw
    try:
        return convert(raw.strip())
    except (ValueError, KeyError):
        return raw


def _pipe_problem(options: Options) -> str | None:
    """input_* keys belong to a pipe: source; stdin can feed one stream only."""
    pipes = [s for _, s in options.stream_sources() if s.startswith("pipe:")]
    given = [k for k in ("input_format", "input_rate", "input_channels") if getattr(options, k)]
    if given and not pipes:
        return f"{given[0]}: only for a pipe: source (--source pipe:- or pipe:PATH)"
    if pipes.count("pipe:-") > 1:
        return "source = pipe:-: stdin can feed one stream only (use FIFOs: pipe:PATH)"
    return None


def build(file_values: Mapping[str, Any], flag_values: Mapping[str, Any]) -> Options:
    """Defaults, overridden by the file, overridden by flags; validated."""
    values: dict[str, Any] = {}
    for origin, source in (("config file", file_values), ("flag", flag_values)):
        for given, raw in source.items():
            key = given.replace("-", "_")
            flag = origin == "flag"
            if key not in PARSERS:
                known = ", ".join(PARSERS)
                name = f"--{key.replace('_', '-')}" if flag else key
                raise ConfigError(f"unknown {origin} key {shown(name)}; known keys: {known}")
            try:
                values[key] = PARSERS[key](_from_flag(key, raw) if flag else raw)
            except ValueError as exc:
                raise ConfigError(refusal(key, raw, exc, flag)) from None
    options = Options(**values)
    if problem := combination_problem(options) or _pipe_problem(options):
        raise ConfigError(problem)
    try:
        frame_bytes(options.rate, options.frame_ms, options.channels)
    except FrameError as exc:
        raise ConfigError(f"frame_ms: {exc}") from None
    if problem := codec_options.check(options) or silence_problem(options):
        raise ConfigError(problem)
    return options


def silence_problem(options: Options) -> str | None:
    """The one-line reason suppress_silence cannot run with these options, or None."""
    if not options.suppress_silence:
        return None
    # here, not at the top: senders and receivers import this module, and need no numpy
    from capture_proc import vad

    # the pre-roll is held back that long: in a shorter budget it would arrive stale
    least = round(1000 * vad.PREROLL_S + 200)
    if options.budget_ms() < least:
        key = "buffer_ms" if options.delivery == "complete" else "max_latency_ms"
        return f"{key} = {options.budget_ms()}: suppress_silence needs at least {least}"
    return vad.problem(options.rate)
