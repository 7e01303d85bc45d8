"""Capture's network side: PUSH frames oldest first from the retention ring, never blocking."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import zmq

from capture_proc.config import CaptureConfig
from capture_proc.finishes import Finishes
from capture_proc.levels import LevelMeter
from capture_proc.retention import Retention
from uplink_frame import Frame, encode
from uplink_frame.counters import CaptureCounter
from uplink_frame.finish import BEAT_S, LEASE_S, finish_endpoint
from uplink_runtime import curve
from uplink_runtime.child import Heartbeat, StopFlag

_MARGIN_MS = 2000 + 2 * LEASE_S * 1000  # reports and leases lag behind the budget
# A steady source reads the back-channel this often, not every frame: a read cost
# ~80 us of CPU per 20 ms frame in a small VM (the first ZeroMQ touch after a wake),
# and senders report only every BEAT_S. A report then waits at most about this long
# plus a frame, far inside LEASE_S, and a lease only ever ends later for it.
REPORTS_EVERY_S = BEAT_S / 2


class Publisher:
    """Owns the PUSH socket and the ring; a full high-water mark leaves frames queued."""

    def __init__(self, ctx: zmq.Context[Any], config: CaptureConfig, meter: LevelMeter) -> None:
        self.meter = meter  # its levels and alarms ride in every heartbeat
        self.stream = config.stream
        kinds = (
            CaptureCounter.CAPTURED,
            CaptureCounter.SENT,
            CaptureCounter.HWM,
            CaptureCounter.QUEUE,
        )
        self.counters: dict[str, int] = dict.fromkeys(kinds, 0)
        self.also: list[Mapping[str, int]] = []  # more counters for the heartbeat
        held_ms = config.budget_ms + config.hwm_ms + _MARGIN_MS
        self.retention = Retention(math.ceil(held_ms / config.frame_ms), config.budget_ms / 1000)
        self._sock = ctx.socket(zmq.PUSH)
        self._sock.linger = 0
        self._sock.sndhwm = config.hwm_frames
        self._auth = curve.serve(ctx, self._sock, config.curve_dir) if config.curve_dir else None
        self._sock.bind(config.endpoint)
        self.finishes = Finishes(
            ctx, finish_endpoint(config.endpoint), config.curve_dir, self.retention
        )

    def wait_for_peer(self, timeout_s: float, heartbeat: Heartbeat, stop: StopFlag) -> bool:
        """A PUSH socket is writable only once a sender is attached."""
        deadline = time.monotonic() + timeout_s
        while not stop.requested and time.monotonic() < deadline:
            if self._sock.poll(50, zmq.POLLOUT):
                return True
            self.beat(heartbeat, {"waiting": True})
        return False

    def serve(self, timeout_s: float, want_room: bool = False, steady: bool = False) -> None:
        """Push what is queued and read senders' reports, after up to ``timeout_s``.

        Reports wait in their socket until the next frame is due: waking for
        each one would cost more CPU than the reports themselves. ``steady``
        (a source's once-a-frame call) reads them only every ``REPORTS_EVERY_S``;
        a wait for room or for fates reads them at every call.
        """
        if self.retention.queue or want_room:
            self._sock.poll(max(0, int(timeout_s * 1000)), zmq.POLLOUT)
        elif timeout_s > 0:
            time.sleep(timeout_s)
        now = time.monotonic()
        if not steady or now - self.finishes.read_at >= REPORTS_EVERY_S:
            self.finishes.read(now)
        self.flush()

    def serve_until(self, deadline: float, stop: StopFlag) -> None:
        while not stop.requested and (left := deadline - time.monotonic()) > 0:
            self.serve(min(left, 0.1), steady=True)

    def ready(self, timeout_s: float) -> bool:
        """Unpaced sources: make a frame only once the queue is out, the ring has room for
        it without forgetting an unfinished frame, and a sender has room."""
        self.serve(timeout_s, want_room=True)
        if self.retention.queue or self.retention.full:
            return False
        return bool(self._sock.poll(0, zmq.POLLOUT))

    def publish(self, frame: Frame) -> None:
        self.counters[CaptureCounter.CAPTURED] += frame.frames  # a silence run counts as its frames
        self.retention.add(frame.seq, encode(frame), frame.t_ready, frame.frames)
        self.flush()

    def flush(self) -> None:
        """Oldest first, as long as ZeroMQ takes them; the rest wait in the ring."""
        while (item := self.retention.next_push(time.time())) is not None:
            try:
                self._sock.send(item[1], zmq.NOBLOCK)
            except zmq.Again:
                return
            self.counters[CaptureCounter.SENT] += self.retention.pushed(item[0], time.monotonic())

    def drain(self, timeout_s: float, heartbeat: Heartbeat, info: Mapping[str, Any]) -> None:
        """A stop: keep pushing until every frame has a fate, or ``timeout_s`` ran out.

        Only while some sender reports to us: without one no fate can come.
        A source that ended within a sender's first beats (a short pipe) waits
        a lease for the first report.
        """
        start = time.monotonic()
        deadline = start + timeout_s
        self.serve(0)
        while (
            self.retention.unfinished
            and (self.finishes.heard or time.monotonic() - start < LEASE_S)
            and time.monotonic() < deadline
        ):
            self.serve(0.05)
            self.beat(heartbeat, info)

    def count_dropped(self, key: CaptureCounter, frames: int) -> None:
        """Frames captured but dropped before they reached the socket."""
        self.counters[CaptureCounter.CAPTURED] += frames
        self.counters[key] = self.counters.get(key, 0) + frames

    def beat(
        self,
        heartbeat: Heartbeat,
        info: Mapping[str, Any],
        final: bool = False,
        extra: Mapping[str, int] | None = None,
        force: bool = False,
    ) -> None:
        if final or force or heartbeat.due(time.monotonic()):
            counters = {**self.counters, **self.retention.counters, **self.finishes.counters}
            counters.update(self.meter.counters)
            for more in self.also:
                counters.update(more)
            if final:
                counters[CaptureCounter.SHUTDOWN] = self.retention.unfinished
            info = {**info, **self.meter.info(), "stream": self.stream}
            info["unfinished"] = self.retention.unfinished
            heartbeat.send({**counters, **(extra or {})}, info=info, final=final)

    def close(self) -> None:
        self._sock.close()
        self.finishes.close()
        if self._auth:
            self._auth.stop()
