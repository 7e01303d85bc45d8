"""``supervisor check-config FILE``: every problem in a TOML file, or its effective config.

Unlike ``start``, which stops at the first bad key, this reports every bad
key (one line each: key, value, what is accepted) so a fleet's config can be
fixed in one pass, then prints the configuration ``start`` would run with.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

from supervisor.config.options import PARSERS, Options, build, load_toml, refusal, shown
from uplink_runtime.auth import TOKEN_ENV, load_token
from uplink_runtime.child import EXIT_CONFIG
from uplink_runtime.errors import ConfigError


def problems(file_values: dict[str, Any]) -> list[str]:
    """One line per bad key; then the checks that need all keys together."""
    errors = []
    for key, raw in file_values.items():
        if key not in PARSERS:
            errors.append(f"unknown config file key {shown(key)}; known keys: {', '.join(PARSERS)}")
            continue
        try:
            PARSERS[key](raw)
        except ValueError as exc:
            errors.append(refusal(key, raw, exc))
    if errors:
        return errors
    try:
        options = build(file_values, {})
        check_sources(options, probe=False)
        load_token(options.auth_token_file)
    except ConfigError as exc:
        return [str(exc)]
    return []


def check_sources(options: Options, *, probe: bool = True) -> None:
    """Every stream's source, before any process starts: a WAV file must open with the
    configured format and a pipe's path must be there; with ``probe`` (``start``, not
    ``check-config``) microphones are probed too, and stdin checked. ConfigError, one line."""
    from capture_proc.sources import SourceError, open_source
    from supervisor.ops.devices import check_mic
    from supervisor.pipes import check_pipe, pipe_arg

    samples = round(options.rate * options.frame_ms / 1000)
    for _, source in options.stream_sources():
        if source.partition(":")[0] == "mic":
            if probe:
                check_mic(options, source)
        elif (arg := pipe_arg(source)) is not None:
            if probe or arg != "-":
                check_pipe(arg)
        elif source.startswith("file:"):
            try:
                open_source(source, options.rate, options.channels, samples).close()
            except SourceError as exc:
                raise ConfigError(f"source = {source!r}: {exc}") from None


def render(options: Options, file_values: dict[str, Any]) -> str:
    """TOML of every key, marking the ones the file set; secrets are never printed."""
    lines = []
    for field in dataclasses.fields(Options):
        value = getattr(options, field.name)
        if field.name == "streams":
            for stream, source in value:
                lines.append(f"[[streams]]  # id = {stream!r}, source = {source!r}")
            continue
        origin = "  # from file" if field.name in file_values else ""
        if value is None:
            lines.append(f"# {field.name} = (unset)")
        else:
            lines.append(f"{field.name} = {_toml(value)}{origin}")
    token = "from auth_token_file" if options.auth_token_file else None
    if token is None and load_token(None):
        token = f"from ${TOKEN_ENV}"
    lines.append(f"# auth token: {token or 'none (the server must not require one)'}")
    if options.tls_insecure:
        lines.append("# WARNING: tls_insecure: server certificates are NOT verified")
    return "\n".join(lines)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def check_config(path: str) -> int:
    """Print the effective configuration (exit 0) or every problem found (exit 2)."""
    file_values = load_toml(path)
    errors = problems(file_values)
    for line in errors:
        print(f"supervisor: {path}: {line}", file=sys.stderr)
    if errors:
        return EXIT_CONFIG
    print(f"# {path}: OK; effective configuration (defaults unless marked)")
    print(render(build(file_values, {}), file_values))
    return 0
