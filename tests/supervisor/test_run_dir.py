"""The run directory and every file the supervisor writes: nothing of anyone else's is touched.

Adopting a directory deletes only names this program makes; a directory with
anything else in it, or a link, is refused. Writes never follow a link planted
at the target or at a temporary name. The lock survives ``supervisor.pid``
being deleted.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tests.support import (
    Procs,
    control,
    one_line_error,
    poll_for,
    run_supervisor,
    start_supervisor,
    wait_child_pid,
)


def bound_socket(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    return sock


def test_a_directory_with_files_that_are_not_ours_is_refused_and_left_alone(
    run_dir: Path,
) -> None:
    run_dir.mkdir(mode=0o700)
    theirs = {"package.json": "{}", "config.json": "{}", "upload.tmp": "half an upload"}
    for name, text in theirs.items():
        (run_dir / name).write_text(text)
    agent = bound_socket(run_dir / "agent.socket")
    try:
        line = one_line_error(run_supervisor("start", "--run-dir", str(run_dir), "--duration", "1"))
    finally:
        agent.close()
    assert "holds files audio-uplink did not make" in line and "'agent.socket'" in line, line
    for name, text in theirs.items():
        assert (run_dir / name).read_text() == text
    assert (run_dir / "agent.socket").is_socket()


def test_a_dead_supervisors_leftovers_are_cleaned_and_nothing_is_left_after(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    run_dir.mkdir(mode=0o700)
    for name in ("sender-7.json", "status.json", ".status.json.0a1b2c.tmp"):
        (run_dir / name).write_text("stale")
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (run_dir / "supervisor.pid").symlink_to(victim)
    stale = bound_socket(run_dir / "control.sock")
    stale.close()
    ended = start_supervisor(procs, run_dir, "--duration", "2").wait(timeout=60)
    assert ended.code == 0, ended.err
    assert list(run_dir.iterdir()) == []
    assert victim.read_text() == "precious\n"


def test_the_lock_holds_when_the_pid_file_is_deleted_and_writes_follow_no_link(
    procs: Procs, run_dir: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    report = tmp_path / "out" / "r.json"
    report.parent.mkdir()
    (report.parent / "r.json.tmp").symlink_to(victim)  # the old temporary name
    report.symlink_to(victim)
    first = start_supervisor(procs, run_dir, report=report)
    wait_child_pid(run_dir, "capture")
    (run_dir / "supervisor.pid").unlink()  # a tmp cleaner
    for name in ("status.json.tmp", "status.json"):  # planted while it runs
        (run_dir / name).unlink(missing_ok=True)
        (run_dir / name).symlink_to(victim)
    (run_dir / "sender-1.json").unlink()
    (run_dir / "sender-1.json").symlink_to(victim)  # a child's config, rewritten on restart
    sender = wait_child_pid(run_dir, "sender-1")
    control("restart", "sender-1", run_dir=run_dir)
    wait_child_pid(run_dir, "sender-1", not_pid=sender)
    assert not (run_dir / "sender-1.json").is_symlink()
    line = one_line_error(run_supervisor("start", "--run-dir", str(run_dir), "--duration", "1"))
    assert "another supervisor" in line and str(run_dir) in line
    assert first.status()["supervisor"] == first.proc.pid  # its sockets are still there
    poll_for(lambda: not (run_dir / "status.json").is_symlink(), timeout=30)
    ended = first.stop(timeout=60)
    assert ended.code == 0 and "Traceback" not in ended.err, ended.err
    assert victim.read_text() == "precious\n"
    assert not report.is_symlink() and json.loads(report.read_text())["frames"]["captured"] > 0


def test_curve_keys_are_written_only_into_a_new_or_empty_directory(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    used = tmp_path / "used"
    used.mkdir()
    (used / "sender.key").symlink_to(victim)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "empty-target", target_is_directory=True)
    (tmp_path / "empty-target").mkdir()
    for directory in (used, link):
        line = one_line_error(run_supervisor("curve-keys", str(directory)))
        assert "give a new or empty directory" in line, line
    assert victim.read_text() == "precious\n"
    assert run_supervisor("curve-keys", str(tmp_path / "empty-target")).returncode == 0
