"""How a run ends, decided in-process: the supervisor's exit codes without starting a child.

0: a clean run. 1: a child kept crashing and was given up on. 2: refused
(a child cannot run as configured, or the server refused the first
connection). 3: frames were captured but none was delivered. A real
Supervisor is built (its sockets bind in a temporary run directory) and fed
exits and heartbeats by hand; no process is spawned. The end-to-end proofs
are in test_faults.py and tests/e2e/test_refusal.py.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq

from supervisor.config.options import Options
from supervisor.outcome import EXIT_UNDELIVERED
from supervisor.process import Child
from supervisor.reasons import Cause, Reason
from supervisor.run import EXIT_FAILED, Supervisor
from supervisor.rundir import RunDir
from uplink_runtime.child import EXIT_CONFIG

MAX_RESTARTS = 2


@pytest.fixture
def supervisor() -> Iterator[Supervisor]:
    base = Path(tempfile.mkdtemp(prefix="au-", dir="/tmp"))  # ipc:// paths stay short
    options = Options(
        run_dir=str(base / "run"),
        recordings=str(base / "rec"),
        report=str(base / "report.json"),
        max_restarts=MAX_RESTARTS,
        restart_window=60.0,
    )
    run_dir = RunDir(str(base / "run"))
    run_dir.acquire()
    ctx: zmq.Context[Any] = zmq.Context()
    sup = Supervisor(options, run_dir, ctx)
    try:
        yield sup
    finally:
        sup.close()
        ctx.term()
        run_dir.release()
        shutil.rmtree(base)


def child(sup: Supervisor, name: str) -> Child:
    return sup.by_name[name]


def heartbeat(sup: Supervisor, name: str, counters: dict[str, int]) -> None:
    role = child(sup, name).role
    sup.stats.update(
        {"name": name, "pid": 1000, "role": role, "counters": counters, "hist": {}, "info": {}}
    )


def test_a_crash_is_restarted_at_once_then_after_a_backoff(supervisor: Supervisor) -> None:
    sender = child(supervisor, "sender-1")
    supervisor._on_exit(sender, -9, now=1.0)
    assert supervisor.exit_code == 0 and supervisor.stop_reason is None
    assert sender.restart_at == 1.0  # the first time: at once
    [record] = list(supervisor.records)
    assert record["process"] == "sender-1" and record["reason"] == "killed by SIGKILL"
    supervisor._on_exit(sender, -9, now=2.0)
    assert sender.restart_at is not None and 2.0 < sender.restart_at <= 2.0 + 0.12


def test_more_crashes_than_the_limit_give_up_with_exit_1(
    supervisor: Supervisor, capsys: pytest.CaptureFixture[str]
) -> None:
    sender = child(supervisor, "sender-1")
    sender.tail.append("Traceback: the last thing it said")
    for n in range(MAX_RESTARTS):
        supervisor._on_exit(sender, 1, now=float(n))
        assert supervisor.exit_code == 0, n
    supervisor._on_exit(sender, 1, now=float(MAX_RESTARTS))
    assert supervisor.exit_code == EXIT_FAILED == 1
    assert supervisor.stop_reason == "sender-1 failed"
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        f"supervisor: sender-1 failed: more than {MAX_RESTARTS} restarts in 60 s; last: exit code 1"
    )
    assert err[1] == "  sender-1 stderr: Traceback: the last thing it said"


def test_requested_restarts_do_not_count_toward_giving_up(supervisor: Supervisor) -> None:
    capture = child(supervisor, "capture")
    for n in range(3 * MAX_RESTARTS):
        capture.pending_reason = Reason(Cause.REQUESTED, "requested by supervisor restart")
        supervisor._on_exit(capture, -15, now=float(n))
        assert capture.restart_at == float(n)  # at once: no backoff
    assert supervisor.exit_code == 0 and capture.intensity.recent == 0


def test_a_child_that_cannot_run_as_configured_refuses_the_run_with_exit_2(
    supervisor: Supervisor,
) -> None:
    receiver = child(supervisor, "receiver")
    supervisor._on_exit(receiver, EXIT_CONFIG, now=1.0)
    assert supervisor.exit_code == EXIT_CONFIG == 2
    assert supervisor.stop_reason == "receiver failed"
    assert receiver.restart_at is None


@pytest.mark.parametrize(
    ("cause", "why"),
    [(Cause.HANG, "hang: no heartbeat for 2.0 s"), (Cause.MEMORY, "memory 300 MB over 256 MB")],
)
def test_exit_2_after_the_supervisor_stopped_the_child_is_a_crash_not_a_refusal(
    supervisor: Supervisor, cause: Cause, why: str
) -> None:
    """A child that exits 2 while being stopped for a hang or memory is not a config error."""
    sender = child(supervisor, "sender-1")
    sender.pending_reason = Reason(cause, why)
    supervisor._on_exit(sender, EXIT_CONFIG, now=1.0)
    assert supervisor.exit_code == 0 and supervisor.stop_reason is None
    assert sender.restart_at is not None
    assert list(supervisor.records)[-1]["reason"] == why


def test_the_source_ending_stops_the_run_cleanly(supervisor: Supervisor) -> None:
    capture = child(supervisor, "capture")
    capture.health.info = {"ended": True}
    supervisor._on_exit(capture, 0, now=1.0)
    assert capture.removed and capture.restart_at is None
    assert supervisor.stop_reason == "source ended" and supervisor.exit_code == 0


def test_a_capture_that_exits_0_without_ending_its_source_is_restarted(
    supervisor: Supervisor,
) -> None:
    capture = child(supervisor, "capture")
    supervisor._on_exit(capture, 0, now=1.0)
    assert not capture.removed and capture.restart_at is not None
    assert supervisor.stop_reason is None


def test_exits_while_stopping_are_not_restarts(supervisor: Supervisor) -> None:
    supervisor.stop_reason = "SIGTERM received"
    sender = child(supervisor, "sender-1")
    supervisor._on_exit(sender, 1, now=1.0)
    assert sender.restart_at is None and not list(supervisor.records)
    assert supervisor.exit_code == 0


def test_a_server_that_refuses_the_first_connection_ends_the_run_with_exit_2(
    supervisor: Supervisor, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = {"kind": "refused", "text": "server http://h:1 refused the connection: unauthorized"}
    supervisor._check_link(child(supervisor, "sender-1"), {"link_error": refused})
    assert supervisor.exit_code == EXIT_CONFIG
    assert supervisor.stop_reason == "server refused the connection"
    assert capsys.readouterr().err == f"supervisor: {refused['text']}\n"


def test_a_refusal_after_the_link_was_up_is_not_the_end(supervisor: Supervisor) -> None:
    sender = child(supervisor, "sender-1")
    supervisor._check_link(sender, {"connected": True, "link_error": None})
    refused = {"kind": "refused", "text": "refused"}
    supervisor._check_link(sender, {"connected": False, "reconnects": 1, "link_error": refused})
    assert supervisor.exit_code == 0 and supervisor.stop_reason is None


def test_a_run_that_delivered_frames_exits_0_and_writes_its_report(
    supervisor: Supervisor, capsys: pytest.CaptureFixture[str]
) -> None:
    heartbeat(supervisor, "capture", {"captured": 10, "fin.acked": 10})
    supervisor.stop_reason = "duration reached"
    supervisor._finish(duration_s=1.0)
    assert supervisor.exit_code == 0
    assert capsys.readouterr().err == ""
    assert supervisor.options.report is not None
    report = json.loads(Path(supervisor.options.report).read_text())
    assert report["stop_reason"] == "duration reached"
    assert report["frames"]["acked"] == 10 and report["frames"]["unaccounted"] == 0


def test_a_run_that_delivered_nothing_exits_3_naming_why(
    supervisor: Supervisor, capsys: pytest.CaptureFixture[str]
) -> None:
    heartbeat(supervisor, "capture", {"captured": 10})
    supervisor._finish(duration_s=1.0)
    assert supervisor.exit_code == EXIT_UNDELIVERED == 3
    assert capsys.readouterr().err == (
        "supervisor: nothing delivered (10 frames captured, none acked): "
        "no sender connected to the server\n"
    )
    assert supervisor.options.report is not None
    assert Path(supervisor.options.report).exists()  # the report is written all the same


def test_frames_written_without_acks_count_as_delivered(supervisor: Supervisor) -> None:
    heartbeat(supervisor, "capture", {"captured": 10, "fin.written": 10})
    supervisor._finish(duration_s=1.0)
    assert supervisor.exit_code == 0


def test_a_refused_run_stays_refused_though_nothing_was_delivered(
    supervisor: Supervisor, capsys: pytest.CaptureFixture[str]
) -> None:
    supervisor._on_exit(child(supervisor, "receiver"), EXIT_CONFIG, now=1.0)
    heartbeat(supervisor, "capture", {"captured": 10})
    supervisor._finish(duration_s=1.0)
    assert supervisor.exit_code == EXIT_CONFIG
    assert "nothing delivered" not in capsys.readouterr().err


def test_a_run_that_captured_nothing_is_not_undelivered(supervisor: Supervisor) -> None:
    supervisor._finish(duration_s=0.1)
    assert supervisor.exit_code == 0
