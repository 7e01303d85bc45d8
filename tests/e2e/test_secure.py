"""The whole pipeline to a server that wants TLS and a token; the token never leaks."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
from pathlib import Path

import socketio

from testkit.certs import make_ca, make_pki
from tests.receivers import start_receiver, stop_receiver
from tests.support import Procs, expected_tone, read_wav, start_supervisor

TOKEN = "tok-7f3a9c1e5b2d4068"


def write_token(path: Path) -> Path:
    path.write_text(TOKEN + "\n")
    path.chmod(0o600)
    return path


def start_pipeline(
    procs: Procs,
    run_dir: Path,
    report: Path,
    *flags: str,
    duration: float = 3,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    run = start_supervisor(
        procs,
        run_dir,
        *("--duration", str(duration), *flags),
        report=report,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    return run.proc


def run_pipeline(
    procs: Procs, run_dir: Path, report: Path, *flags: str, env: dict[str, str] | None = None
) -> tuple[int, str]:
    proc = start_pipeline(procs, run_dir, report, *flags, env=env)
    output, _ = proc.communicate(timeout=90)
    return proc.returncode, output


def test_tls_and_token_stream_bit_exact(procs: Procs, run_dir: Path, tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    token = write_token(tmp_path / "token")
    out = tmp_path / "rec"
    url, receiver = start_receiver(
        procs, out, "--cert", str(pki.cert), "--key", str(pki.key), "--auth-token-file", str(token)
    )
    rep = tmp_path / "r.json"
    server = url.replace("127.0.0.1", "localhost")
    flags = ["--server", server, "--ca-file", str(pki.ca), "--auth-token-file", str(token)]
    code, output = run_pipeline(procs, run_dir, rep, *flags)
    assert code == 0, output
    assert TOKEN not in output

    report = json.loads(rep.read_text())
    assert report["frames"]["acked"] > 0 and report["frames"]["unaccounted"] == 0
    stats = stop_receiver(receiver, out)
    assert stats["rejected_auth"] == 0
    _, audio = read_wav(out / "main.wav")
    assert audio == expected_tone(report["frames"]["captured"])


def test_wrong_ca_and_missing_token_get_nothing_through(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    pki = make_pki(tmp_path)
    wrong_ca, _, _ = make_ca(tmp_path, "wrong")
    token = write_token(tmp_path / "token")
    out = tmp_path / "rec"
    url, receiver = start_receiver(
        procs, out, "--cert", str(pki.cert), "--key", str(pki.key), "--auth-token-file", str(token)
    )
    for flags, code_wanted, why in (
        (["--ca-file", str(wrong_ca), "--auth-token-file", str(token)], 3, "TLS verification"),
        (["--ca-file", str(pki.ca)], 2, "refused the connection: unauthorized"),  # no token
    ):
        rep = tmp_path / "r.json"
        code, output = run_pipeline(procs, run_dir, rep, "--server", url, *flags)
        assert code == code_wanted, output
        assert re.search(rf"^supervisor: .*server {url} .*{why}", output, re.M), output
        assert json.loads(rep.read_text())["frames"]["acked"] == 0
    stats = stop_receiver(receiver, out)
    assert stats["frames"] == 0 and stats["rejected_auth"] >= 1


def test_embedded_receiver_requires_the_env_token(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    rec, rep = tmp_path / "rec", tmp_path / "r.json"
    env = {"AUDIO_UPLINK_TOKEN": TOKEN}
    code, output = run_pipeline(procs, run_dir, rep, "--recordings", str(rec), env=env)
    assert code == 0, output
    assert TOKEN not in output
    report = json.loads(rep.read_text())
    assert report["frames"]["acked"] > 0
    stats = json.loads((rec / "stats.json").read_text())
    assert stats["clients"] >= 1 and stats["rejected_auth"] == 0
    assert os.environ.get("AUDIO_UPLINK_TOKEN") != TOKEN  # the test did not set it for itself


def test_embedded_receiver_refuses_a_client_without_the_token(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    rec, rep = tmp_path / "rec", tmp_path / "r.json"
    token = str(write_token(tmp_path / "token"))
    args = ("--recordings", str(rec), "--auth-token-file", token)
    proc = start_pipeline(procs, run_dir, rep, *args, duration=6)
    assert proc.stdout is not None
    url = None
    for line in proc.stdout:  # bounded by the test timeout; the sender says where it connected
        if match := re.search(r"connected to (http://[\d.]+:\d+)", line):
            url = match.group(1)
            break
    assert url, "the sender never connected to the embedded receiver"
    assert asyncio.run(try_connect(url, None)) is False
    assert asyncio.run(try_connect(url, {"token": "not-" + TOKEN})) is False
    output, _ = proc.communicate(timeout=90)
    assert proc.returncode == 0, output
    assert json.loads(rep.read_text())["frames"]["acked"] > 0  # the sender had the token
    stats = json.loads((rec / "stats.json").read_text())
    assert stats["rejected_auth"] >= 2, stats


async def try_connect(url: str, auth: dict[str, str] | None) -> bool:
    client = socketio.AsyncClient(reconnection=False)
    try:
        await client.connect(url, transports=["websocket"], auth=auth, wait_timeout=10)
    except socketio.exceptions.ConnectionError:
        return False
    await client.disconnect()
    return True
