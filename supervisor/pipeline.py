"""Which children make up the pipeline, and the frozen config each one gets."""

from __future__ import annotations

import math
import os
import secrets
import time
from collections.abc import Callable
from typing import Any

from capture_proc.config import CaptureConfig
from receiver.config import ReceiverConfig
from sender_proc.config import SenderConfig
from supervisor.config.ops import connect_address
from supervisor.config.options import Options
from supervisor.ops.stats import Stats
from supervisor.process import Child
from supervisor.restart import Intensity
from supervisor.rundir import RunDir
from supervisor.runtoken import write_run_token
from uplink_frame.format import MAX_EPOCH
from uplink_runtime.auth import load_token
from uplink_runtime.child import ChildSpec
from uplink_runtime.net import free_port
from uplink_runtime.roles import Role

_MODULES = {Role.RECEIVER: "receiver", Role.SENDER: "sender_proc", Role.CAPTURE: "capture_proc"}


class Pipeline:
    """Builds the children in start order: receiver (if embedded), senders, capture."""

    def __init__(self, options: Options, run_dir: RunDir, stats: Stats) -> None:
        self.options = options
        self.run_dir = run_dir
        self.stats = stats
        self.server = options.server or f"http://127.0.0.1:{free_port()}"
        self.capture_t0: dict[str, float] = {}
        self.streams = options.stream_sources()
        # one epoch per stream and run: a restarted capture keeps it and continues seq
        self.epochs = {stream: secrets.randbelow(MAX_EPOCH) + 1 for stream, _ in self.streams}
        self.token_file = options.auth_token_file
        if not options.server and load_token(options.auth_token_file) is None:
            self.token_file = write_run_token(run_dir.path)  # never an open embedded receiver
        self.children: list[Child] = []
        self.senders_made = 0
        if not options.server:
            self.children.append(self._child("receiver", Role.RECEIVER, self._receiver_config))
        for _ in range(options.senders):
            self.add_sender()
        for stream, source in self.streams:
            name = f"capture-{stream}" if options.streams else "capture"
            make = self._capture_maker(stream, source)
            self.children.append(self._child(name, Role.CAPTURE, make))
            self.children[-1].stdin_once = source == "pipe:-"

    def add_sender(self) -> Child:
        """A new sender slot; names are never reused, so reports stay unambiguous."""
        self.senders_made += 1
        child = self._child(f"sender-{self.senders_made}", Role.SENDER, self._sender_config)
        self.children.append(child)
        return child

    def _child(self, name: str, role: Role, make: Any) -> Child:
        intensity = Intensity(self.options.max_restarts, self.options.restart_window)
        return Child(name, role, _MODULES[role], self.run_dir.path, make, intensity=intensity)

    def role(self, role: Role) -> list[Child]:
        return [c for c in self.children if c.role == role]

    def _spec(self, child: Child) -> ChildSpec:
        return ChildSpec(
            child.name,
            child.role,
            self.run_dir.endpoint("stats.sock"),
            os.getpid(),
            log_format=self.options.log_format,
        )

    def _receiver_config(self, child: Child) -> ReceiverConfig:
        port = int(self.server.rsplit(":", 1)[1])
        o = self.options
        return ReceiverConfig(
            self._spec(child),
            o.recordings,
            port=port,
            event=o.event,
            max_message_bytes=o.max_message_bytes,
            require_auth=load_token(self.token_file) is not None,
            auth_token_file=self.token_file,
        )

    def _sender_config(self, child: Child) -> SenderConfig:
        o = self.options
        return SenderConfig(
            self._spec(child),
            tuple(connect_address(self.capture_endpoint(s)) for s, _ in self.streams),
            self.server,
            event=o.event,
            window=o.window,
            max_latency_ms=o.max_latency_ms,
            ack_timeout_ms=o.ack_timeout_ms,
            frame_ms=o.frame_ms,
            drain_ms=o.drain_ms,
            backpressure=not o.pace,
            stall_reconnect_ms=o.stall_reconnect_ms,
            buffer_ms=o.budget_ms() if o.delivery == "complete" else o.buffer_ms,
            complete=o.delivery == "complete",
            acks=o.acks,
            batch_ms=o.batch_ms,
            auth_token_file=self.token_file,
            ca_file=o.ca_file,
            tls_insecure=o.tls_insecure,
            curve_dir=o.curve_dir,
            streams=tuple(s for s, _ in self.streams),
        )

    def _capture_maker(self, stream: str, source: str) -> Callable[[Child], CaptureConfig]:
        return lambda child: self._capture_config(child, stream, source)

    def _capture_config(self, child: Child, stream: str, source: str) -> CaptureConfig:
        o = self.options
        self.capture_t0.setdefault(child.name, time.time())
        return CaptureConfig(
            self._spec(child),
            stream,
            source,
            self.capture_endpoint(stream),
            rate=o.rate,
            channels=o.channels,
            frame_ms=o.frame_ms,
            hwm_ms=o.hwm_ms,
            pace=o.pace,
            seq_start=self._next_seq(child.name, source),
            epoch=self.epochs[stream],
            budget_ms=o.budget_ms(),
            drain_ms=o.drain_ms,
            codec=o.codec,
            bitrate=o.bitrate,
            application=o.application,
            curve_dir=o.curve_dir if o.capture_bind else None,
            silence_db=o.silence_db,
            silence_alarm_s=o.silence_alarm_s,
            input_format=o.input_format or "s16le",
            input_rate=o.input_rate,
            input_channels=o.input_channels,
            stdin_gone=source == "pipe:-" and child.last_pid is not None,
            suppress_silence=o.suppress_silence,
        )

    def capture_endpoint(self, stream: str) -> str:
        if self.options.capture_bind:  # one stream only (checked in opsconfig)
            return self.options.capture_bind
        return self.run_dir.endpoint(f"capture-{stream}.sock")

    def _next_seq(self, name: str, source: str) -> int:
        """A restarted capture continues the stream: past every seq used, at real-time position."""
        reported = int(self.stats.by_name[name].info.get("next_seq", 0))
        if not self.options.pace or source.startswith("pipe:"):
            return reported  # a pipe is paced by arrival, not by real time
        elapsed = math.floor((time.time() - self.capture_t0[name]) / (self.options.frame_ms / 1000))
        return max(reported, elapsed)
