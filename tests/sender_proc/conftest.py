"""A real sender process on its own: the test plays capture and supervisor."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq

from sender_proc.config import SenderConfig
from tests.support import Procs, poll_for
from uplink_runtime.child import ChildSpec, decode_heartbeat, save_config
from uplink_runtime.roles import Role


class LoneSender:
    """Feeds a sender through a PUSH socket and reads its heartbeats from a PULL socket."""

    def __init__(self, procs: Procs, tmp_path: Path, ipc_dir: Path) -> None:
        self.procs, self.tmp_path = procs, tmp_path
        self.stats_endpoint = f"ipc://{ipc_dir / 'stats.sock'}"
        self.capture_endpoint = f"ipc://{ipc_dir / 'capture.sock'}"
        self.ctx: zmq.Context[Any] = zmq.Context()
        self.stats, self.push = self.ctx.socket(zmq.PULL), self.ctx.socket(zmq.PUSH)
        self.stats.bind(self.stats_endpoint)
        self.push.bind(self.capture_endpoint)
        self.last: dict[str, Any] = {"counters": {}, "info": {}}

    def start(self, server: str, **options: Any) -> subprocess.Popen[str]:
        """Start the sender and wait until it has attached to our PUSH socket."""
        spec = ChildSpec("sender-1", Role.SENDER, self.stats_endpoint, os.getpid())
        config = SenderConfig(spec, (self.capture_endpoint,), server, **options)
        path = self.tmp_path / "sender.json"
        save_config(config, path)
        proc = self.procs.start([sys.executable, "-m", "sender_proc", "--config", str(path)])
        assert self.push.poll(30_000, zmq.POLLOUT), "the sender never attached to our PUSH"
        return proc

    def heartbeat(self) -> dict[str, Any]:
        """The newest heartbeat, after reading every one waiting."""
        while self.stats.poll(100):
            self.last = decode_heartbeat(self.stats.recv())
        return self.last

    def wait_counter(self, name: str, value: int, timeout: float = 30) -> dict[str, Any]:
        """Counters once ``name`` reaches ``value``; the last heartbeat in the failure."""

        def reached() -> dict[str, Any] | None:
            counters: dict[str, Any] = self.heartbeat()["counters"]
            return counters if counters.get(name) == value else None

        try:
            return dict(poll_for(reached, timeout))
        except AssertionError:
            raise AssertionError(f"sender's last heartbeat: {self.last}") from None

    def close(self) -> None:
        self.push.close(linger=0)
        self.stats.close(linger=0)
        self.ctx.term()


@pytest.fixture
def lone_sender(procs: Procs, tmp_path: Path) -> Iterator[LoneSender]:
    with tempfile.TemporaryDirectory(prefix="au-", dir="/tmp") as path:  # ipc paths stay short
        harness = LoneSender(procs, tmp_path, Path(path))
        try:
            yield harness
        finally:
            harness.close()
