"""``supervisor start``: start the pipeline in order, keep it alive, stop it in order."""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import zmq

from capture_proc.config import CaptureConfig
from capture_proc.sources import SourceError, open_source
from receiver.config import ReceiverConfig
from sender_proc.config import SenderConfig
from supervisor import report
from supervisor.child import EXIT_CONFIG, ChildSpec, decode_heartbeat
from supervisor.config import ConfigError, Options
from supervisor.process import Child
from supervisor.rundir import RunDir
from supervisor.stats import Stats

logger = logging.getLogger(__name__)
_TICK_MS = 50
_READY_TIMEOUT_S = 10.0


class Supervisor:
    def __init__(self, options: Options, run_dir: RunDir, ctx: zmq.Context[Any]) -> None:
        self.options = options
        self.run_dir = run_dir
        self.stats = Stats()
        self.signals: list[int] = []
        self.stopping = False
        self.capture_ended = False
        self.failed: Child | None = None
        self.server = options.server or f"http://127.0.0.1:{_free_port()}"
        self.stats_sock = ctx.socket(zmq.PULL)
        self.stats_sock.linger = 0
        self.stats_sock.bind(run_dir.endpoint("stats.sock"))
        self.capture_t0: float | None = None
        self.children: list[Child] = []
        if not options.server:
            self.children.append(self._child("receiver", "receiver", self._receiver_config))
        self.senders = [
            self._child(f"sender-{i}", "sender_proc", self._sender_config)
            for i in range(1, options.senders + 1)
        ]
        self.children += self.senders
        self.capture = self._child("capture", "capture_proc", self._capture_config)
        self.children.append(self.capture)

    def _child(self, name: str, module: str, make: Any) -> Child:
        return Child(name, module, self.run_dir.path, make)

    def _spec(self, child: Child, role: str) -> ChildSpec:
        return ChildSpec(child.name, role, self.run_dir.endpoint("stats.sock"), os.getpid())

    def _receiver_config(self, child: Child) -> ReceiverConfig:
        port = int(self.server.rsplit(":", 1)[1])
        return ReceiverConfig(
            self._spec(child, "receiver"),
            self.options.recordings,
            port=port,
            event=self.options.event,
        )

    def _sender_config(self, child: Child) -> SenderConfig:
        o = self.options
        return SenderConfig(
            self._spec(child, "sender"),
            (self._capture_endpoint(),),
            self.server,
            event=o.event,
            window=o.window,
            max_latency_ms=o.max_latency_ms,
            ack_timeout_ms=o.ack_timeout_ms,
            frame_ms=o.frame_ms,
            drain_ms=o.drain_ms,
        )

    def _capture_config(self, child: Child) -> CaptureConfig:
        o = self.options
        return CaptureConfig(
            self._spec(child, "capture"),
            o.stream,
            o.source,
            self._capture_endpoint(),
            rate=o.rate,
            channels=o.channels,
            frame_ms=o.frame_ms,
            hwm_ms=o.hwm_ms,
            pace=o.pace,
            seq_start=self._next_seq(),
        )

    def _capture_endpoint(self) -> str:
        return self.run_dir.endpoint(f"capture-{self.options.stream}.sock")

    def _next_seq(self) -> int:
        """A restarted capture continues the stream: past every seq used, at real-time position."""
        reported = int(self.stats.by_name["capture"].info.get("next_seq", 0))
        if self.capture_t0 is None or not self.options.pace:
            return reported
        elapsed = math.floor((time.time() - self.capture_t0) / (self.options.frame_ms / 1000))
        return max(reported, elapsed)

    # -- the main loop -------------------------------------------------------

    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda signum, _frame: self.signals.append(signum))
        started = time.monotonic()
        try:
            self._start_in_order()
            deadline = (
                time.monotonic() + self.options.duration if self.options.duration else math.inf
            )
            while not self.stopping:
                self._tick()
                if self.signals or self.capture_ended or time.monotonic() >= deadline:
                    self.stopping = True
            self._stop_in_order()
        finally:
            for child in self.children:
                child.signal(signal.SIGKILL)
        self._finish(time.monotonic() - started)
        return EXIT_CONFIG if self.failed else 0

    def _start_in_order(self) -> None:
        for child in self.children:
            if child is self.capture:
                self.capture_t0 = time.time()
            child.spawn()
            self._write_status()
            if child is not self.capture:
                self._wait_ready(child)

    def _wait_ready(self, child: Child) -> None:
        """Until the child's heartbeat says it can take traffic (bounded)."""
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while time.monotonic() < deadline and not self.signals:
            self._tick()
            ps = self.stats.by_name[child.name]
            if ps.seen(child.pid) and ps.info.get("connected", True):
                return
        logger.warning(
            "supervisor: %s not ready after %.0f s, going on", child.name, _READY_TIMEOUT_S
        )

    def _tick(self) -> None:
        self._read_heartbeats(_TICK_MS)
        now = time.monotonic()
        for child in self.children:
            code = child.reap()
            if code is not None:
                self._on_exit(child, code, now)
            if child.restart_at is not None and now >= child.restart_at and not self.stopping:
                child.restarts += 1
                child.spawn()
                self._write_status()

    def _on_exit(self, child: Child, code: int, now: float) -> None:
        if self.stopping:
            return
        if code == EXIT_CONFIG:
            # restarting cannot fix a bad source or setting: the child said why on stderr
            logger.error(
                "supervisor: %s cannot run as configured (%s), stopping",
                child.name,
                child.last_exit,
            )
            self.failed = child
            self.stopping = True
            return
        if child is self.capture and code == 0 and self.stats.by_name["capture"].info.get("ended"):
            logger.info("supervisor: source ended, stopping")
            self.capture_ended = True
            return
        delay = child.schedule_restart(now)
        logger.warning(
            "supervisor: %s %s, restarting in %.2f s", child.name, child.last_exit, delay
        )
        self._write_status()

    def _read_heartbeats(self, timeout_ms: int) -> None:
        if not self.stats_sock.poll(timeout_ms):
            return
        while True:
            try:
                raw = self.stats_sock.recv(zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                self.stats.update(decode_heartbeat(raw))
            except (ValueError, KeyError, TypeError):
                self.stats.bad_heartbeats += 1

    # -- stopping ------------------------------------------------------------

    def _stop_in_order(self) -> None:
        """Capture first, then senders once they drained, the receiver last."""
        grace = self.options.stop_timeout_ms / 1000
        self._stop([self.capture], grace)
        self._stop(self.senders, grace + self.options.drain_ms / 1000)
        self._stop([c for c in self.children if c.name == "receiver"], grace)

    def _stop(self, children: list[Child], grace_s: float) -> None:
        for child in children:
            child.restart_at = None
            child.signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while any(c.alive for c in children) and time.monotonic() < deadline:
            self._read_heartbeats(20)
        for child in children:
            if child.alive:
                logger.warning(
                    "supervisor: %s ignored SIGTERM for %.1f s, killing", child.name, grace_s
                )
                child.signal(signal.SIGKILL)
                if child.proc:
                    child.proc.wait(timeout=5)
            child.reap()
        self._read_heartbeats(50)  # final heartbeats sent just before exit
        self._write_status()

    def _finish(self, duration_s: float) -> None:
        result = report.build(self.stats, self.children, duration_s)
        print(report.summary(result), flush=True)
        if self.options.report:
            report.write(result, self.options.report)

    def _write_status(self) -> None:
        status = {
            c.name: {
                "pid": c.pid,
                "alive": c.alive,
                "restarts": c.restarts,
                "last_exit": c.last_exit,
            }
            for c in self.children
        }
        tmp = self.run_dir.path / "status.json.tmp"
        tmp.write_text(json.dumps({"supervisor": os.getpid(), "processes": status}))
        os.replace(tmp, self.run_dir.path / "status.json")

    def close(self) -> None:
        self.stats_sock.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def check_source(options: Options) -> None:
    """A file source's format is known before any process starts: fail fast, in one line."""
    if options.source.startswith("file:"):
        samples = round(options.rate * options.frame_ms / 1000)
        try:
            open_source(options.source, options.rate, options.channels, samples).close()
        except SourceError as exc:
            raise ConfigError(f"source: {exc}") from None


def start(options: Options) -> int:
    """Run the pipeline until the duration, a signal, or the source's end; return the exit code."""
    check_source(options)
    run_dir = RunDir(options.resolved_run_dir())
    run_dir.acquire()
    Path(options.recordings).mkdir(parents=True, exist_ok=True)
    ctx: zmq.Context[Any] = zmq.Context()
    supervisor = Supervisor(options, run_dir, ctx)
    try:
        return supervisor.run()
    finally:
        supervisor.close()
        ctx.term()
        run_dir.release()
