"""The sender: PULL frames, feed them to Socket.IO within the ack window, drain on stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from typing import Any

import zmq

from sender_proc import connect_opts
from sender_proc.config import SenderConfig
from sender_proc.flow import FlowControl
from sender_proc.inbox import Inbox
from sender_proc.link import Link
from sender_proc.reporter import Reporter
from uplink_frame import Frame, FrameError, decode
from uplink_frame.batch import to_batch
from uplink_frame.counters import CONNECT_FAILED, SenderCounter
from uplink_frame.finish import BEAT_S
from uplink_runtime import curve
from uplink_runtime.child import (
    EXIT_CRASH,
    EXIT_OK,
    Heartbeat,
    load_config,
    start_child,
)

logger = logging.getLogger(__name__)
_DRAIN_IDLE_S = 0.2  # nothing routes to us any more: a pipe empty this long is drained
_LET_GO_S = 1.0  # a retiring sender waits this long at most for a frame from each capture
_SLACK_S = 0.025  # periodic work done this early by a frame saves the timer's wake


class Sender:
    def __init__(self, config: SenderConfig, ctx: zmq.Context[Any]) -> None:
        self.config = config
        self.flow = FlowControl(config.limits())
        self.wake = asyncio.Event()
        self.room = asyncio.Event()  # a pending frame left: backpressure may pull again
        self.stopping = asyncio.Event()
        self.retiring = False
        self.name = config.child.name
        self.link = Link(
            config.server,
            config.connect_timeout_ms / 1000,
            (config.backoff_initial_ms / 1000, config.backoff_cap_ms / 1000),
            on_up=self._link_up,
            on_down=self._link_down,
            opts=connect_opts.build(
                config.server, config.auth_token_file, config.ca_file, config.tls_insecure
            ),
        )
        self.heartbeat = Heartbeat(ctx, config.child)
        self.pull = ctx.socket(zmq.PULL)
        self.pull.linger = 0
        self.pull.rcvhwm = config.rcvhwm_frames
        self.pull.reconnect_ivl = 20  # capture restarts should reattach within a frame
        if config.curve_dir:
            curve.connect_as_client(self.pull, config.curve_dir)
        for endpoint in config.endpoints:
            self.pull.connect(endpoint)
        self.inbox = Inbox(self.pull)
        self.reporter = Reporter(ctx, config)
        self._timer: asyncio.TimerHandle | None = None
        self._report_due = self._expire_due = self._next_due = 0.0

    def _link_up(self) -> None:
        self.flow.link_up(time.time())
        self.wake.set()

    def _link_down(self) -> None:
        self.flow.link_down()
        self.wake.set()

    def _has_room(self) -> bool:
        return not (self.config.backpressure and len(self.flow.pending) >= self.config.window)

    async def drain_pipe(self) -> None:
        """After a stop or a disconnect, an idle pipe is an empty pipe."""
        while True:
            await self._wait_room()
            try:
                raw = await asyncio.wait_for(self.inbox.recv(), _DRAIN_IDLE_S)
            except TimeoutError:
                return
            self._take(raw)

    async def _wait_room(self) -> None:
        while not self._has_room():
            self.room.clear()
            await self.room.wait()

    def _take(self, raw: bytes) -> Frame | None:
        try:
            frame = decode(raw)
        except FrameError as exc:
            self.flow.count(SenderCounter.BAD_FRAME)
            logger.debug("bad frame: %s", exc)
            return None
        self.reporter.took(frame)
        self.flow.offer(frame)
        self.send_now()
        self.periodic()
        return frame

    async def pump(self) -> None:
        """Emit pending frames whenever woken; wait while the link's send buffer is full."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            while not self.send_now():
                await self.link.writable()

    def send_now(self) -> bool:
        """Emit what the window allows, right away; False if the link's buffer is full.

        Called where a frame or an ack arrives, so neither waits for a task switch.
        """
        while self.flow.can_send(time.time()) and self.link.up:
            if not self.link.has_room():
                return False
            frames = self.flow.next_batch(time.time())
            self.room.set()
            self.inbox.resume()
            if not frames:
                break
            self._emit(frames)
        return True

    def _emit(self, frames: list[Frame]) -> None:
        """Emit a frame or a batch, filed in flight before it is written."""
        data = frames[0].to_dict() if len(frames) == 1 else to_batch(frames)
        if not self.config.acks:
            self.link.emit(self.config.event, data, None)
            self.flow.sent(0, frames, time.time())
            return

        def on_ack(*reply: Any) -> None:
            ok = not (reply and isinstance(reply[0], dict) and reply[0].get("ok") is False)
            if self.flow.acked(ack_id, time.time(), ok):
                self.send_now()
                if self.flow.counters[SenderCounter.ACKED] == 1:
                    self.send_heartbeat()  # the supervisor times recoveries by this

        ack_id = self.link.expect_ack(on_ack)
        self.flow.sent(ack_id, frames, time.time())
        self.link.emit(self.config.event, data, ack_id)

    def periodic(self) -> None:
        """Reports to capture, heartbeats and ack expiry, whichever is due; re-arms its timer.

        Each frame calls it too, and does what falls due before the next frame
        could (``_SLACK_S``): while frames flow the timer never fires, and in
        this VM every wake of a thread costs ~80 us (issue 17's small device).
        """
        now = time.monotonic()
        soon = now + _SLACK_S
        if soon < self._next_due:
            return  # nothing due before the next frame, and the timer is armed for it
        if soon >= self._report_due:
            # one every BEAT_S on average: from when it was due, as a frame does it early
            self._report_due = max(self._report_due, now - _SLACK_S) + BEAT_S
            self.send_report()  # also the lease that keeps our frames ours
            if self.flow.pending:  # a partial batch is due by time, not by a new frame
                self.send_now()
        if soon >= self.heartbeat.next_due:
            self.send_heartbeat()
        if soon >= self._expire_due:
            self._expire_due = now + min(0.25, self.config.ack_timeout_ms / 4000)
            self.expire_acks()
        due = min(self._report_due, self.heartbeat.next_due, self._expire_due)
        self._next_due = due  # a heartbeat sent meanwhile only moves it later
        if self._timer is not None and self._timer.when() == due:
            return  # nothing fell due: the armed timer stands
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_at(due, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.periodic()

    def expire_acks(self) -> None:
        """Return overdue credit; acks missing for stall_reconnect_ms more: reconnect."""
        now = time.time()
        stalled = self.flow.stalled_since
        expired = self.flow.expire(now)
        for ack_id in expired:
            self.link.forget_ack(ack_id)
        if stalled is None and self.flow.stalled_since is not None:
            acked = self.flow.counters[SenderCounter.ACKED]
            hint = "" if acked else " (never acked: acks = false?)"
            logger.warning(
                "sender %s: no ack for %d ms, link stalled%s",
                self.name,
                self.config.ack_timeout_ms,
                hint,
            )
        elif stalled is not None and now - stalled >= self.config.stall_reconnect_ms / 1000:
            logger.warning("sender %s: stalled for %.1f s, reconnecting", self.name, now - stalled)
            self.link.drop()
        if expired:  # the credit back, after a drop would have taken it: no probe sent to die
            self.send_now()

    def send_report(self, bye: bool = False) -> None:
        self.reporter.settled(self.flow.settled)
        self.flow.settled.clear()
        self.reporter.send(bye)

    def send_heartbeat(self, final: bool = False) -> None:
        info = {
            "connected": self.link.up,
            "pending": len(self.flow.pending),
            "inflight": len(self.flow.inflight),
            "reconnects": self.link.reconnects,
            "window": self.flow.window.size,
            "stalled": self.flow.stalled_since is not None,
            "link_error": self.link.last_error.to_info() if self.link.last_error else None,
        }
        failures = {f"{CONNECT_FAILED}{kind}": n for kind, n in self.link.failures.items()}
        counters = {**self.flow.counters, **failures, **self.link.refusals}
        counters.update(self.reporter.counters)
        self.heartbeat.send(counters, self.flow.latency.counts, info, final)

    async def drain(self) -> None:
        """After a stop: send what is held and collect its acks, within drain_ms."""
        deadline = time.monotonic() + self.config.drain_ms / 1000
        self.inbox.stop()
        if self.retiring:
            # capture is alive and the other senders pull: let go of it, then
            # read what is already in our pipe until it stays empty (closing
            # with frames in it discards them)
            await self.let_go(deadline)
        piped = asyncio.create_task(self.drain_pipe())
        while time.monotonic() < deadline:
            if self.flow.idle and piped.done():
                break
            await asyncio.sleep(0.02)
            self.flow.flushing = piped.done()
            self.wake.set()
        piped.cancel()
        self.flow.abandon()

    async def let_go(self, deadline: float) -> None:
        """Disconnect from each capture just after a frame from it arrived.

        PUSH/PULL has no hand-off: a frame capture has queued for us when we
        disconnect is lost. Capture hands us the next frame of a stream only
        after every other sender has had one, so right after one arrives is
        the moment with the least in flight toward us.
        """
        endpoints = dict(zip(self.config.streams, self.config.endpoints, strict=False))
        unknown = [e for e in self.config.endpoints if e not in endpoints.values()]
        until = min(deadline, time.monotonic() + _LET_GO_S)
        while endpoints and (left := until - time.monotonic()) > 0:
            try:
                raw = await asyncio.wait_for(self.inbox.recv(), left)
            except TimeoutError:
                break
            frame = self._take(raw)
            if frame is not None and frame.stream in endpoints:
                self._disconnect(endpoints.pop(frame.stream))
        for endpoint in [*endpoints.values(), *unknown]:
            self._disconnect(endpoint)

    def _disconnect(self, endpoint: str) -> None:
        with contextlib.suppress(zmq.ZMQError):
            self.pull.disconnect(endpoint)

    def _retire(self) -> None:
        """SIGUSR1 from the supervisor: a replacement is connected, finish and exit."""
        self.retiring = True
        self.stopping.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGUSR1, self._retire)
        self.periodic()
        self.inbox.stream(self._take, self._has_room)  # frames into the bounded pending queue
        tasks = [
            asyncio.create_task(self.link.keep_connected()),
            asyncio.create_task(self.pump()),
        ]
        await self.stopping.wait()
        logger.info("sender %s stopping: draining", self.config.child.name)
        await self.drain()
        if self._timer is not None:
            self._timer.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.link.close()
        self.send_report(bye=True)  # what we could not finish, capture pushes to another sender
        self.send_heartbeat(final=True)

    def close(self) -> None:
        self.pull.close()
        self.reporter.close()
        self.heartbeat.close()


async def _serve(config: SenderConfig, ctx: zmq.Context[Any]) -> None:
    sender = Sender(config, ctx)
    try:
        await sender.run()
    finally:
        sender.close()


def main(config_path: str) -> None:
    """Entry point of ``python -m sender_proc``."""
    config = load_config(SenderConfig, config_path)
    start_child(config.child)
    ctx: zmq.Context[Any] = zmq.Context()
    try:
        asyncio.run(_serve(config, ctx))
    except Exception:
        logger.exception("sender %s crashed", config.child.name)
        sys.exit(EXIT_CRASH)
    finally:
        ctx.term()
    sys.exit(EXIT_OK)
