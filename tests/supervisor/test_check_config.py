"""``supervisor check-config``: every error path names key, value and what is accepted."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from supervisor.config.options import PARSERS, Options
from tests.support import REPO, run_supervisor


def check(tmp_path: Path, toml: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "uplink.toml"
    path.write_text(toml)
    return run_supervisor("check-config", str(path))


@pytest.mark.parametrize(
    ("toml", "key", "value", "accepted"),
    [
        ("rate = 'fast'", "rate", "'fast'", "an integer from 8000 to 192000"),
        ("channels = 9", "channels", "9", "an integer from 1 to 8"),
        ("frame_ms = 0.1", "frame_ms", "0.1", "a number from 2.5 to 1000"),
        ("window = 0", "window", "0", "an integer from 1 to 1024"),
        (
            "source = 'radio'",
            "source",
            "'radio'",
            "tone[:HZ], file:PATH.wav, mic[:DEVICE], pipe:- or pipe:PATH",
        ),
        ("server = 'ftp://x'", "server", "'ftp://x'", "an http:// or https:// URL"),
        ("stream = '../x'", "stream", "'../x'", "1-64 characters of [A-Za-z0-9_.-]"),
        ("senders = 33", "senders", "33", "an integer from 1 to 32"),
        ("event = ''", "event", "''", "1-64 characters"),
        ("duration = -1", "duration", "-1", "a number from 0.1"),
        ("report = ''", "report", "''", "a path"),
        ("pace = 'maybe'", "pace", "'maybe'", "true or false"),
        ("stop_timeout_ms = 5", "stop_timeout_ms", "5", "an integer from 100"),
        ("max_rss_mb = 1", "max_rss_mb", "1", "a number from 16"),
        ("max_restarts = -1", "max_restarts", "-1", "an integer from 0"),
        ("auth_token_file = '/no/such'", "auth_token_file", "'/no/such'", "a readable"),
        ("ca_file = '/no/such'", "ca_file", "'/no/such'", "a readable"),
        ("tls_insecure = 'yes please'", "tls_insecure", "'yes please'", "true or false"),
        ("max_message_bytes = 10", "max_message_bytes", "10", "an integer from 4096"),
        ("metrics = 'x:0'", "metrics", "'x:0'", "PORT or HOST:PORT"),
        ("log_format = 'xml'", "log_format", "'xml'", "text or json"),
        ("capture_bind = 'udp://x:1'", "capture_bind", "'udp://x:1'", "tcp://HOST:PORT"),
        ("curve_dir = '/no/such'", "curve_dir", "'/no/such'", "an existing directory"),
        ("[[streams]]\nid = 'a'", "streams", "[{'id': 'a'}]", "exactly id and source"),
    ],
)
def test_each_bad_key_is_named_with_its_value_and_what_is_accepted(
    tmp_path: Path, toml: str, key: str, value: str, accepted: str
) -> None:
    result = check(tmp_path, toml)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert f"{key} = {value}" in line and accepted in line, line


def test_all_errors_are_reported_at_once(tmp_path: Path) -> None:
    result = check(tmp_path, "rate = 1\ncolour = 'blue'\nwindow = 0\nmax_message_bytes = 1\n")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 4, lines
    assert "unknown config file key 'colour'; known keys:" in lines[1]


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ("rate = [", "not valid TOML"),
        ("rate = 44100\nframe_ms = 2.5", "whole number of samples"),
        ("source = 'file:/no/such.wav'", "source = 'file:/no/such.wav'"),
        ("capture_bind = 'tcp://*:5555'", "needs CURVE keys: set curve_dir"),
        ("capture_bind = 'tcp://*:5555'\ncurve_dir = '/tmp'", "curve_dir = '/tmp': missing"),
    ],
)
def test_whole_file_problems(tmp_path: Path, toml: str, says: str) -> None:
    result = check(tmp_path, toml)
    assert result.returncode == 2 and says in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    result = run_supervisor("check-config", str(tmp_path / "none.toml"))
    assert result.returncode == 2 and "No such file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_good_file_prints_the_effective_configuration_as_toml(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("very-secret-value\n")
    token.chmod(0o600)
    toml = f"rate = 48000\nmax_message_bytes = 9100\nauth_token_file = '{token}'\n"
    toml += "tls_insecure = true\n"
    result = check(tmp_path, toml)
    assert result.returncode == 0, result.stderr
    assert "very-secret-value" not in result.stdout + result.stderr
    effective = tomllib.loads(result.stdout)
    assert effective["rate"] == 48000 and effective["max_message_bytes"] == 9100
    assert effective["window"] == Options.window  # defaults are printed too
    assert "rate = 48000  # from file" in result.stdout
    assert "# auth token: from auth_token_file" in result.stdout
    assert "# WARNING: tls_insecure: server certificates are NOT verified" in result.stdout
    printed = set(effective) | set(re.findall(r"^# (\w+) = \(unset\)", result.stdout, re.M))
    assert printed == set(PARSERS) - {"streams"}


def keys_table() -> str:
    """The Keys section of docs/configuration.md, the one table of every config key."""
    doc = (REPO / "docs" / "configuration.md").read_text()
    assert "\n## Keys\n" in doc, "docs/configuration.md has no '## Keys' section"
    return doc.split("\n## Keys\n", 1)[1].split("\n## ", 1)[0]


def documented_rows() -> dict[str, str]:
    """Each key of docs/configuration.md's Keys table with its default cell.

    A row may list several keys and as many defaults: `rate` / `channels` | 16000 / 1.
    """
    table = keys_table()
    rows: dict[str, str] = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        keys = [k.strip().strip("`") for k in cells[0].split(" / ")]
        defaults = [d.strip().strip("`") for d in cells[1].split(" / ")]
        for i, key in enumerate(keys):
            rows.setdefault(key, defaults[i] if len(defaults) == len(keys) else cells[1])
    return rows


def shown(value: object) -> str:
    """A default as a person writes it in the docs: true, 20, 256, text."""
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:g}" if isinstance(value, float) else str(value)


def test_docs_document_every_key_with_its_default() -> None:
    rows = documented_rows()
    defaults = {f.name: f.default for f in dataclasses.fields(Options)}
    for key in PARSERS:
        default = defaults[key]
        if default in (None, ()):  # no value: the table says what happens instead
            if key.endswith("_max_rss_mb"):  # documented in the max_rss_mb row, inheriting it
                assert f"`{key}`" in keys_table(), key
                continue
            assert key in rows and not re.fullmatch(r"[\d.]+", rows[key]), (key, rows.get(key))
            continue
        assert key in rows, f"docs/configuration.md's Keys table has no row for {key!r}"
        said = rows[key]
        assert said == shown(default), f"{key}: docs say {said!r}, code {default!r}"
