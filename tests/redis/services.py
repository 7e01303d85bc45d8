"""A real redis-server and a real HAProxy, on free ports in a temporary directory."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path

from tests.support import REPO, Procs, poll_for
from uplink_runtime.net import free_port

HAPROXY_CFG = REPO / "docs" / "haproxy.cfg"
_START_S = 20.0  # a loaded machine may take a while to bring a server up


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class RedisServer:
    """redis-server with an append-only file synced at every write, so a stop loses nothing."""

    def __init__(self, procs: Procs, directory: Path) -> None:
        self.procs, self.dir = procs, directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--dir", str(self.dir), "--save", "", "--appendonly", "yes"]
        args += ["--appendfsync", "always", "--daemonize", "no", "--logfile", "redis.log"]
        self.proc = self.procs.start(args, stdout=subprocess.DEVNULL)
        poll_for(self.ping, _START_S)

    def ping(self) -> bool:
        result = subprocess.run(
            ["redis-cli", "-p", str(self.port), "ping"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return result.stdout.strip() == "PONG"

    def stop(self) -> None:
        """SIGTERM: Redis syncs its append-only file and exits."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)


def start_haproxy(procs: Procs, directory: Path, receivers: list[str]) -> str:
    """docs/haproxy.cfg with a free front port and these receiver URLs; the front URL."""
    front = free_port()
    text = HAPROXY_CFG.read_text().replace("127.0.0.1:8000", f"127.0.0.1:{front}")
    assert len(receivers) == 2, "docs/haproxy.cfg lists two receivers"
    for n, url in enumerate(receivers, 1):
        text = text.replace(f"127.0.0.1:800{n}", url.removeprefix("http://"))
    cfg = directory / "haproxy.cfg"
    cfg.write_text(text)
    procs.start(["haproxy", "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL)
    poll_for(lambda: listening(front), _START_S)
    return f"http://127.0.0.1:{front}"
