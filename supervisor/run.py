"""``supervisor start``: start the pipeline in order, keep it alive, stop it in order."""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import zmq

from supervisor.channels import Channels
from supervisor.config.check import check_sources
from supervisor.config.options import MAX_SENDERS, Options
from supervisor.intake import BadRequest, Intake
from supervisor.ops import report
from supervisor.ops.liveview import LiveView
from supervisor.ops.stats import Stats
from supervisor.ops.status import row
from supervisor.outcome import EXIT_UNDELIVERED, LinkWatch
from supervisor.pipeline import Pipeline
from supervisor.pipes import hold_fifos, release
from supervisor.process import Child, describe_exit
from supervisor.reasons import Cause, Reason
from supervisor.recycle import Recycler
from supervisor.retired import Kept, Retired
from supervisor.rundir import RunDir
from supervisor.watchdog import Limits, verdict
from uplink_runtime.child import EXIT_CONFIG
from uplink_runtime.roles import Role
from uplink_runtime.safefile import write_atomic

if TYPE_CHECKING:
    from supervisor.ops.metrics import Metrics

logger = logging.getLogger(__name__)
_TICK_MS = 100
_READY_TIMEOUT_S = 10.0
_HANG_GRACE_S = 0.3  # a hung child rarely handles SIGTERM; do not wait long for it
MAX_RESTART_RECORDS = 200  # the newest are kept; restarts_dropped counts the others
EXIT_FAILED = 1


class Supervisor:
    def __init__(self, options: Options, run_dir: RunDir, ctx: zmq.Context[Any]) -> None:
        self.options = options
        self.run_dir = run_dir
        self.metrics: Metrics | None = None
        if options.metrics:  # prometheus_client (and http, ssl with it) only when asked for
            from supervisor.ops.metrics import Metrics

            self.metrics = Metrics(options.metrics)
        self.stats = Stats()
        self.intake = Intake(self.stats)
        self.retired = Retired()
        self.pipeline = Pipeline(options, run_dir, self.stats)
        self.children = self.pipeline.children
        self.by_name = {c.name: c for c in self.children}
        self.channels = Channels(ctx, run_dir)
        self.channels.log_format = options.log_format
        self.recycler = Recycler(options.drain_ms / 1000)
        self.signals: list[int] = []
        self.stop_reason: str | None = None
        self.exit_code = 0
        self.records: Kept[dict[str, Any]] = Kept(MAX_RESTART_RECORDS)
        self.live = LiveView()
        self.links = LinkWatch()
        self.t0 = time.monotonic()
        self.status_at = 0.0
        self.checked_at = self.t0 - _TICK_MS / 1000  # the last look at each child: none yet

    # -- the main loop -------------------------------------------------------

    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda signum, _frame: self.signals.append(signum))
        try:
            self._start_in_order()
            deadline = time.monotonic() + (self.options.duration or math.inf)
            while self.stop_reason is None:
                self._tick()
                if self.signals:
                    self.stop_reason = f"{signal.Signals(self.signals[0]).name} received"
                elif time.monotonic() >= deadline:
                    self.stop_reason = "duration reached"
            logger.info("supervisor %d stopping: %s", os.getpid(), self.stop_reason)
            self._stop_in_order()
        finally:
            for child in self.children:
                child.kill_all()
        self._finish(time.monotonic() - self.t0)
        return self.exit_code

    def _start_in_order(self) -> None:
        for child in self.children:
            if self.stop_reason is not None:
                return
            self._spawn(child)
            if child.role is not Role.CAPTURE:
                self._wait_ready(child)

    def _spawn(self, child: Child) -> None:
        child.spawn(time.monotonic())
        assert child.proc is not None
        self.intake.expect(child.name, child.role, child.proc.pid)
        self.channels.watch(child.proc.stderr, child.tail, child.name, child.pid)
        self._write_status(force=True)

    def _wait_ready(self, child: Child) -> None:
        """Until the child's heartbeat says it can take traffic (bounded)."""
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while time.monotonic() < deadline and not self.signals and self.stop_reason is None:
            self._tick()
            if child.health.beat_at is not None and child.health.info.get("connected", True):
                return
        if self.stop_reason is not None or self.signals:
            return
        logger.warning(
            "supervisor: %s not ready after %.0f s, going on", child.name, _READY_TIMEOUT_S
        )

    def _pump(self, timeout_ms: int) -> bool:
        return self.channels.poll(timeout_ms, self._on_heartbeat, self._on_request)

    def _tick(self) -> None:
        """Read what came; look at each child if a tick has passed, a restart is due or
        more than heartbeats came.

        A heartbeat (four a second from each child) wakes this loop as the tick
        does, but only updates the child's health: a look right after the last
        one would find nothing new, and each costs a few waitpid calls.
        """
        more = self._pump(self._tick_ms())
        now = time.monotonic()
        if not more and now < self._next_look():
            return
        self.checked_at = now
        for child in list(self.children):
            if self.retired.due(child, now):
                self._forget(child, now)
                continue
            code = child.reap()
            if code is not None:
                self._on_exit(child, code, now)
            child.enforce(now)
            self._watch(child, now)
            self.recycler.tick(child, now)
            if child.restart_at is not None and now >= child.restart_at:
                self._restart(child)
        self._write_status()
        if self.live.due(now):  # a status table costs a row per child: only when shown
            self.live.update(self.status(), now)
        if self.metrics:
            self.metrics.refresh(self.stats, self.children, now - self.t0)

    def _tick_ms(self) -> int:
        """Up to a tick, but no later than the next restart is due: a restart waits for its
        backoff, not for the tick after it."""
        due = self._restart_due()
        if due is None:
            return _TICK_MS
        return max(0, min(_TICK_MS, math.ceil((due - time.monotonic()) * 1000)))

    def _next_look(self) -> float:
        due = self._restart_due()
        tick = self.checked_at + _TICK_MS / 1000
        return tick if due is None else min(tick, due)

    def _restart_due(self) -> float | None:
        """When the soonest restart is due (monotonic), or None."""
        due = [c.restart_at for c in self.children if c.restart_at is not None]
        return min(due) if due else None

    def _watch(self, child: Child, now: float) -> None:
        if not child.alive or child.kill_at is not None or child.removed or self.stop_reason:
            return
        limits = Limits(
            self.options.hang_timeout_ms / 1000, max_rss_mb=self.options.rss_cap_mb(child.role)
        )
        reason = verdict(child.health, limits, now)
        if reason is None:
            return
        logger.warning("supervisor: %s (pid %s) %s", child.name, child.pid, reason)
        if reason.cause is Cause.MEMORY:
            self.recycle(child, reason)
        else:
            child.terminate(reason, grace_s=_HANG_GRACE_S)

    def _forget(self, child: Child, now: float) -> None:
        """A retired sender that has exited leaves every live view; its counts fold in."""
        self.retired.add(child, self.stats.by_name.get(child.name), now - self.t0)
        self.stats.retire(child.name)
        self.intake.forget(child.name)
        self.children.remove(child)
        del self.by_name[child.name]
        self.run_dir.remove(f"{child.name}.json")

    def recycle(self, child: Child, reason: Reason) -> None:
        """Planned replacement: no backoff, not a crash. Senders overlap old and new.

        Memory recycles count toward the restart intensity all the same: a
        child refilled as fast as it is replaced (a server pushing junk at a
        sender) fails, naming the server, instead of looping for ever.
        """
        if reason.cause is Cause.MEMORY and child.intensity.record(time.monotonic()):
            where = f" (server {self.pipeline.server})" if child.role is Role.SENDER else ""
            self._fail(child, reason + where, EXIT_FAILED)
            return
        if child.role is Role.SENDER and child.alive:
            self._open_record(child, reason)
            self.recycler.retire(child)
            self._restart(child)
        else:
            child.terminate(reason, grace_s=self.options.stop_timeout_ms / 1000)

    def _restart(self, child: Child) -> None:
        child.restarts += 1
        self._spawn(child)
        record = child.open_record
        if record is not None:
            record["new_pid"] = child.pid
            record["spawned_unix"] = time.time()

    def _on_exit(self, child: Child, code: int, now: float) -> None:
        reason = child.pending_reason or Reason(Cause.EXIT, describe_exit(code))
        child.pending_reason = None
        if self.stop_reason or child.removed:
            return
        if code == EXIT_CONFIG and not reason.by_supervisor:
            logger.error("supervisor: %s cannot run as configured, stopping", child.name)
            self._fail(child, reason, EXIT_CONFIG)
            return
        if child.role is Role.CAPTURE and code == 0 and child.health.info.get("ended"):
            child.removed = True
            if all(c.removed for c in self.pipeline.role(Role.CAPTURE)):
                self.stop_reason = "source ended"
            return
        self._open_record(child, reason)
        if reason.planned:
            child.schedule_restart(now, delay=0.0)
        elif child.intensity.record(now):
            self._fail(child, reason, EXIT_FAILED)
        else:
            delay = child.schedule_restart(now)
            logger.warning(
                "supervisor: %s (pid %s) %s, restarting in %.2f s",
                child.name,
                child.last_pid,
                reason,
                delay,
            )

    def _fail(self, child: Child, reason: str, code: int) -> None:
        self.exit_code = code
        self.stop_reason = f"{child.name} failed"
        if code == EXIT_FAILED:
            limit = child.intensity
            print(
                f"supervisor: {child.name} failed: more than {limit.max_restarts} restarts "
                f"in {limit.window_s:g} s; last: {reason}",
                file=sys.stderr,
            )
            for line in list(child.tail)[-5:]:
                print(f"  {child.name} stderr: {line}", file=sys.stderr)

    def _open_record(self, child: Child, reason: str) -> None:
        record = {
            "process": child.name,
            "reason": str(reason),
            "old_pid": child.pid or child.last_pid,
            "at_s": round(time.monotonic() - self.t0, 3),
            "at_unix": time.time(),
            "new_pid": None,
            "recovered_s": None,
            "_t": time.monotonic(),
        }
        child.open_record = record
        self.records.append(record)

    def _on_heartbeat(self, parts: list[bytes]) -> None:
        msg = self.intake.heartbeat(parts)
        if msg is None:
            return
        self.stats.update(msg)
        child = self.by_name.get(msg["name"])
        if child is None or msg["pid"] != child.pid:
            return
        now = time.monotonic()
        child.health.beat(child.role, msg, now)
        if child.role is Role.SENDER:
            self._check_link(child, msg["info"])
        record = child.open_record
        if record is not None and child.health.first_work_at is not None:
            record["recovered_s"] = round(child.health.first_work_at - record.pop("_t"), 3)
            child.open_record = None

    def _check_link(self, child: Child, info: dict[str, Any]) -> None:
        refused = self.links.observe(child.name, info)
        if refused is not None and self.stop_reason is None:
            print(f"supervisor: {refused}", file=sys.stderr)
            self.exit_code, self.stop_reason = EXIT_CONFIG, "server refused the connection"

    def _on_request(self, parts: list[bytes]) -> bytes:
        try:
            request = self.intake.request(parts)
        except BadRequest as exc:
            return json.dumps({"error": f"bad control request: {exc}"}).encode()
        return json.dumps(self._handle(request["cmd"], request)).encode()

    def _handle(self, cmd: str, request: dict[str, Any]) -> dict[str, Any]:
        if cmd == "status":
            return self.status()
        if cmd == "stop":
            self.stop_reason = self.stop_reason or "stop requested"
            return {"ok": True}
        if cmd == "restart":
            child = self.by_name.get(str(request.get("name")))
            if child is None or child.removed:
                return {
                    "error": f"no process named {str(request.get('name'))[:64]!r}; "
                    f"known: {', '.join(self.by_name)}"
                }
            self.recycle(child, Reason(Cause.REQUESTED, "requested by supervisor restart"))
            return {"ok": True, "name": child.name}
        if cmd == "scale":
            return self.scale_senders(request.get("n"))
        return {"error": f"unknown command {cmd!r}: status, stop, restart or scale"}

    def scale_senders(self, n: Any) -> dict[str, Any]:
        """Add senders, or retire the newest ones: each sends what it holds before it exits."""
        if not isinstance(n, int) or not 1 <= n <= MAX_SENDERS:
            return {"error": f"scale senders: expected a number from 1 to {MAX_SENDERS}, got {n!r}"}
        active = [c for c in self.pipeline.role(Role.SENDER) if not c.removed]
        for _ in range(n - len(active)):
            child = self.pipeline.add_sender()
            self.by_name[child.name] = child
            self._spawn(child)
        for child in active[n:]:
            child.removed, child.restart_at = True, None
            child.signal(signal.SIGUSR1)
            child.kill_at = time.monotonic() + self.options.drain_ms / 1000 + 2.0
        logger.info("supervisor: senders %d -> %d", len(active), n)
        return {"ok": True, "senders": n}

    def status(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "supervisor": os.getpid(),
            "uptime_s": round(now - self.t0, 1),
            "stopping": self.stop_reason,
            "processes": [row(c, self.stats, now) for c in self.children],
            "rejected_messages": dict(self.stats.rejected),
        }

    # -- stopping ------------------------------------------------------------

    def _stop_in_order(self) -> None:
        """Capture first, then senders once they drained, the receiver last."""
        grace = self.options.stop_timeout_ms / 1000
        # capture pushes until every frame has a fate (docs/delivery.md): drain_ms
        self._stop(self.pipeline.role(Role.CAPTURE), grace + self.options.drain_ms / 1000)
        self._stop(self.pipeline.role(Role.SENDER), grace + self.options.drain_ms / 1000)
        self._stop(self.pipeline.role(Role.RECEIVER), grace)

    def _stop(self, children: list[Child], grace_s: float) -> None:
        for child in children:
            child.restart_at = None
            child.signal_all(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while any(c.alive or c.retiring for c in children) and time.monotonic() < deadline:
            self._pump(20)
            for child in children:
                child.reap()
        for child in children:
            if child.alive:
                logger.warning(
                    "supervisor: %s ignored SIGTERM for %.1f s, killing", child.name, grace_s
                )
            child.kill_all()
            if child.proc:
                child.proc.wait(timeout=5)
            child.reap()
        self._pump(50)  # final heartbeats sent just before exit
        self._write_status(force=True)

    def _finish(self, duration_s: float) -> None:
        result = report.build(self.stats, self.children, duration_s)
        result["stop_reason"] = self.stop_reason
        result["restarts"] = [{k: v for k, v in r.items() if k != "_t"} for r in self.records]
        result["restarts_dropped"] = self.records.dropped
        result.update(self.retired.report())
        result["rejected_messages"] = dict(self.stats.rejected)
        result["link_errors"] = dict(self.links.errors)
        print(report.summary(result), flush=True)
        undelivered = self.links.undelivered(result["frames"]) if not self.exit_code else None
        if undelivered is not None:
            print(f"supervisor: {undelivered}", file=sys.stderr)
            self.exit_code = EXIT_UNDELIVERED
        if self.options.report:
            report.write(result, self.options.report)

    def _write_status(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.status_at < 2.0:
            return
        self.status_at = now
        write_atomic(self.run_dir.path / "status.json", json.dumps(self.status()).encode())

    def close(self) -> None:
        self.live.close()
        self.channels.close()
        if self.metrics:
            self.metrics.close()


def start(options: Options) -> int:
    """Run the pipeline until the duration, a signal, or the source's end; return the exit code."""
    check_sources(options)
    run_dir = RunDir(options.resolved_run_dir())
    longest = max((stream for stream, _ in options.stream_sources()), key=len)
    run_dir.acquire(longest_socket=f"capture-{longest}-fin.sock")  # uplink_frame/finish.py
    Path(options.recordings).mkdir(parents=True, exist_ok=True)
    ctx: zmq.Context[Any] = zmq.Context()
    supervisor = Supervisor(options, run_dir, ctx)
    fifos = hold_fifos(options)
    try:
        return supervisor.run()
    finally:
        release(fifos)
        supervisor.close()
        ctx.term()
        run_dir.release()
