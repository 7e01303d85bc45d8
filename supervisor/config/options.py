"""The supervisor's one config object, built once: defaults, then the TOML file, then flags.

Every key is validated here, once, by the parser its declaration names
(supervisor/config/keys.py); an error names the key, the value and what is
accepted, and the CLI turns it into one line and exit code 2. TOML values
must have their type (``senders = "3"`` is refused); only a flag, which is
text, is converted by the field's type before it is validated. Echoed
values are shortened, so a 10 MB value makes a short line.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable, Mapping
from typing import Any

from supervisor.config import codec as codec_options
from supervisor.config.keys import (
    COMPLETE_BUFFER_MS,
    KEYS,
    MAX_SENDERS,
    MAX_STREAMS,
    PARSERS,
    Options,
)
from supervisor.config.ops import combination_problem
from supervisor.config.parsers import shown
from uplink_frame import FrameError, frame_bytes
from uplink_runtime.errors import ConfigError
from uplink_runtime.safefile import read_regular

__all__ = [
    "COMPLETE_BUFFER_MS",
    "KEYS",
    "MAX_SENDERS",
    "MAX_STREAMS",
    "PARSERS",
    "Options",
    "build",
    "load_toml",
    "refusal",
    "shown",
]

MAX_CONFIG_BYTES = 1 << 20


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
