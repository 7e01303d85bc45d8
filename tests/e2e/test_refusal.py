"""A server that says no is heard: the reason it gives ends a run refused at start (exit 2),
is repeated on every retry of a link that was up, and a run that delivered nothing fails.

The servers are real: the project's own receiver (python-socketio raising
ConnectionRefusedError) and the official Node.js Socket.IO 4 server with the
usual auth middleware, ``next(new Error("unauthorized"))``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.metrics import scrape, value
from tests.receivers import start_receiver, stop_receiver
from tests.support import REPO, Procs, control, live_status, poll_for, start_supervisor
from uplink_runtime.net import free_port

NODE_DIR = REPO / "tests" / "node"
GOOD, BAD = "good-token-0123456789", "bad-token-9876543210"
REFUSED_LINE = re.compile(
    r"^supervisor: server http://127\.0\.0\.1:\d+ refused the connection: unauthorized$", re.M
)


def token_file(path: Path, token: str) -> str:
    path.write_text(token + "\n")
    path.chmod(0o600)
    return str(path)


def run_to_end(
    procs: Procs, run_dir: Path, report: Path, *flags: str, duration: float = 60
) -> tuple[int, str, str, float]:
    """Exit code, stdout, stderr, and how long the run took."""
    t0 = time.monotonic()
    run = start_supervisor(
        procs, run_dir, "--duration", str(duration), *flags, report=report, stdout=subprocess.PIPE
    )
    ended = run.wait(timeout=duration + 60)
    return ended.code, ended.out, ended.err, time.monotonic() - t0


def assert_refused_at_start(code: int, err: str, took_s: float, report: Path) -> None:
    assert code == 2, err
    assert len(REFUSED_LINE.findall(err)) == 1, err
    assert "Traceback" not in err
    # the run was asked to last 60 s: it ended on the refusal (the issue asks for 10 s;
    # the bound here is looser because the machine is shared)
    assert took_s < 30, took_s
    errors = json.loads(report.read_text())["link_errors"]
    assert "refused the connection: unauthorized" in errors["sender-1"]["text"]


def test_wrong_token_at_the_receiver_ends_the_run(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    good = token_file(tmp_path / "good", GOOD)
    url, receiver = start_receiver(procs, out, "--auth-token-file", good)
    report = tmp_path / "r.json"
    bad = token_file(tmp_path / "bad", BAD)
    code, _, err, took_s = run_to_end(
        procs, run_dir, report, "--server", url, "--auth-token-file", bad
    )
    assert_refused_at_start(code, err, took_s, report)
    assert re.search(r"WARNING .*refused the connection: unauthorized, retry in", err), err
    stats = stop_receiver(receiver, out)
    assert stats["rejected_auth"] >= 1 and stats["frames"] == 0


needs_node = pytest.mark.skipif(
    shutil.which("node") is None or not (NODE_DIR / "node_modules" / "socket.io").is_dir(),
    reason="needs Node.js and `npm ci` in tests/node (scripts/bootstrap.sh does it)",
)


def start_node_server(procs: Procs) -> tuple[str, subprocess.Popen[str]]:
    server = procs.start(
        ["node", str(NODE_DIR / "refusing_server.js"), GOOD], stdout=subprocess.PIPE
    )
    assert server.stdout is not None
    match = re.search(r"http://[\d.]+:\d+", server.stdout.readline())
    assert match, "the Node.js server did not announce its port"
    return match.group(0), server


@needs_node
def test_node_socketio_server_refusal_ends_the_run(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    url, _ = start_node_server(procs)
    report = tmp_path / "r.json"
    code, _, err, took_s = run_to_end(procs, run_dir, report, "--server", url)
    assert_refused_at_start(code, err, took_s, report)


@needs_node
def test_node_socketio_server_gets_every_frame_as_binary(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    """The senders' own Socket.IO client against socket.io-parser: events, binary, acks."""
    url, server = start_node_server(procs)
    report = tmp_path / "r.json"
    good = token_file(tmp_path / "good", GOOD)
    code, _, err, _ = run_to_end(
        procs, run_dir, report, "--server", url, "--auth-token-file", good, duration=3
    )
    assert code == 0, err
    server.terminate()
    out, _ = server.communicate(timeout=30)
    seen = json.loads(out.strip().splitlines()[-1])
    frames = json.loads(report.read_text())["frames"]
    assert frames["acked"] == frames["captured"] == seen["frames"] > 100, (frames, seen)
    assert seen["seqs"] == list(range(seen["frames"])), "out of order or repeated"
    assert seen["not_buffers"] == 0 and seen["audio_bytes"] == 640 * seen["frames"]


def test_unreachable_server_fails_the_run_and_says_why(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    report = tmp_path / "r.json"
    code, out, err, _ = run_to_end(procs, run_dir, report, "--server", url, duration=3)
    frames = json.loads(report.read_text())["frames"]
    assert frames["captured"] > 0 and frames["acked"] == 0, out
    assert code == 3, err
    line = f"supervisor: nothing delivered ({frames['captured']} frames captured, none acked): "
    assert f"{line}server {url} unreachable: connection refused\n" in err, err


def test_a_stopped_run_that_delivered_nothing_fails_too(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    report = tmp_path / "r.json"
    run = start_supervisor(procs, run_dir, "--server", url, report=report, stdout=subprocess.PIPE)
    poll_for(lambda: row(run_dir, "capture").get("frames_in", 0) > 0, 30)  # frames made
    control("stop", run_dir=run_dir)
    ended = run.wait(timeout=60)
    err = ended.err
    assert ended.code == 3, err
    assert f"server {url} unreachable: connection refused\n" in err, err
    assert json.loads(report.read_text())["stop_reason"] == "stop requested"


def row(run_dir: Path, name: str) -> dict[str, Any]:
    rows = {r["name"]: r for r in live_status(run_dir).get("processes", [])}
    return dict(rows.get(name, {}))


def acked(run_dir: Path) -> int:
    return int(row(run_dir, "sender-1").get("frames_out", 0))


def test_a_link_refused_after_it_was_up_keeps_retrying_loudly(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    """A token rotation at the server: the run goes on, warning on every try."""
    out = tmp_path / "rec"
    good = token_file(tmp_path / "good", GOOD)
    url, receiver = start_receiver(procs, out, "--auth-token-file", good)
    log, metrics = tmp_path / "supervisor.log", free_port()
    with log.open("w") as sink:
        supervisor = start_supervisor(
            procs,
            run_dir,
            *("--server", url, "--auth-token-file", good, "--metrics", str(metrics)),
            stdout=sink,
            stderr=subprocess.STDOUT,
        ).proc
    poll_for(lambda: acked(run_dir) > 0, 60)
    stop_receiver(receiver, out)
    rotated = token_file(tmp_path / "rotated", BAD)
    port = url.rsplit(":", 1)[1]
    start_receiver(procs, tmp_path / "rec2", "--port", port, "--auth-token-file", rotated)

    warnings = re.compile(r"WARNING .*refused the connection: unauthorized, retry in")
    poll_for(lambda: len(warnings.findall(log.read_text())) >= 3, 60)
    rows = {r["name"]: r for r in live_status(run_dir)["processes"]}
    assert "refused the connection: unauthorized" in str(rows["sender-1"]["last_error"])
    assert supervisor.poll() is None, log.read_text()  # still running, still trying
    samples = poll_for(
        lambda: (
            (s := scrape(metrics))
            and value(s, "audio_uplink_connect_failures_total", kind="refused")
            and s
        ),
        30,
    )
    errors = [labels for (name, labels) in samples if name == "audio_uplink_link_error"]
    assert any(("kind", "refused") in labels for labels in errors), errors

    control("stop", run_dir=run_dir)
    assert supervisor.wait(timeout=60) == 0, log.read_text()  # frames got through before
