"""The Socket.IO server: validate, write, ack; counters out by heartbeat and stats.json."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

import socketio
import zmq
from aiohttp import web

from receiver.budget import DiskBudget
from receiver.config import ReceiverConfig
from receiver.events import EventServer
from receiver.guard import Guard, Rejected
from receiver.hardened import attachment_limits
from receiver.limits import ACCEPT_BACKLOG
from receiver.sink import SinkLimits
from receiver.sinks import Sink, SinkDown, WavSink, parse_sink
from receiver.tls import server_context
from receiver.wire import cap_connections, guard_accept_errors
from uplink_frame import FrameError
from uplink_frame.counters import STREAM_COUNTS, ReceiverCounter
from uplink_runtime.auth import load_token
from uplink_runtime.child import (
    EXIT_CONFIG,
    EXIT_CRASH,
    EXIT_OK,
    Heartbeat,
    load_config,
    setup_logging,
    start_child,
)
from uplink_runtime.errors import ConfigError

logger = logging.getLogger(__name__)
_FLUSH_S = 0.05


class Receiver:
    def __init__(self, config: ReceiverConfig) -> None:
        self.config = config
        self.out_dir = Path(config.out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.sink = make_sink(config, self.out_dir)
        own = (
            ReceiverCounter.FRAMES,
            ReceiverCounter.BAD_FRAME,
            ReceiverCounter.CLIENTS,
            ReceiverCounter.REFUSED_SINK_DOWN,
        )
        self.counters: dict[str, int] = dict.fromkeys(own, 0)
        self._closing: set[asyncio.Task[None]] = set()
        token = load_token(config.auth_token_file) if config.require_auth else None
        if config.require_auth and token is None:
            raise ConfigError("auth required but no token file and no $AUDIO_UPLINK_TOKEN")
        self.guard = Guard(config.max_message_bytes, token)
        self.sio = EventServer(
            config.event,
            self.guard,
            config,
            attachment_limits(config, self.guard.transport_cap),
            async_mode="aiohttp",
            # one event per connection at a time, in arrival order (other connections go
            # on): a frame is written before its ack, and a slow disk slows the acks
            async_handlers=False,
            max_http_buffer_size=self.guard.transport_cap,
            transports=["websocket"],
        )
        self.sio.on(config.event, self.on_frame)
        self.sio.on("connect", self.on_connect)
        self.sio.on("disconnect", self.on_disconnect)

    async def on_connect(self, sid: str, environ: Any, auth: Any = None) -> None:
        if not self.guard.admit(sid, auth):
            raise socketio.exceptions.ConnectionRefusedError("unauthorized")
        if not await self.sink.healthy():  # the sender retries; Redis may be back by then
            self.counters[ReceiverCounter.REFUSED_SINK_DOWN] += 1
            raise socketio.exceptions.ConnectionRefusedError("sink unavailable")
        self.counters[ReceiverCounter.CLIENTS] += 1

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        self.guard.disconnected(reason)

    async def on_frame(self, sid: str, data: Any = None) -> Any:
        try:
            frames = self.guard.frames(data)
            await self.sink.write(frames)  # stored when write returns: only then the ack
        except (Rejected, FrameError) as exc:
            self.counters[ReceiverCounter.BAD_FRAME] += 1
            return {"ok": False, "error": str(exc)[:200]}
        except SinkDown:
            # no ack: the connection closes, so the sender puts these frames back at
            # the front of its queue at once and sends them again when it is let in
            self._disconnect(sid)
            return self.sio.not_handled
        self.counters[ReceiverCounter.FRAMES] += sum(
            f.frames for f in frames
        )  # a silence run: its seqs
        return {"ok": True}

    def _disconnect(self, sid: str) -> None:
        task = asyncio.create_task(self.sio.disconnect(sid))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def flush(self) -> None:
        self.sink.age_out(time.monotonic())

    def stats(self) -> dict[str, Any]:
        counts = {**self.counters, **self.guard.counts, **self.sink.counts, **self.sio.counts}
        return {**counts, "streams": self.sink.stats()}

    async def close(self) -> None:
        await self.sink.close()
        stats_path = self.out_dir / "stats.json"
        stats_path.write_text(json.dumps(self.stats(), indent=2))


async def serve(config: ReceiverConfig) -> None:
    """Serve until SIGTERM/SIGINT, then close every WAV and write stats.json."""
    receiver = Receiver(config)
    try:
        await receiver.sink.start()
    except SinkDown as exc:
        raise ConfigError(str(exc)) from None
    app = web.Application()
    receiver.sio.attach(app)
    # client connections are closed first (close_all): nothing is left to wait for
    # idle TCP connections that never send a request go after keepalive_timeout
    runner = web.AppRunner(
        app, handle_signals=False, access_log=None, shutdown_timeout=0.5, keepalive_timeout=5
    )
    await runner.setup()
    cap_connections(runner, receiver.sio.max_connections, receiver.sio.counts)
    tls = server_context(config.cert_file, config.key_file)
    site = web.TCPSite(
        runner,
        config.host,
        config.port,
        reuse_address=True,
        ssl_context=tls,
        backlog=ACCEPT_BACKLOG,
    )
    await site.start()
    port = runner.addresses[0][1]
    scheme = "https" if tls else "http"
    print(f"receiver listening on {scheme}://{config.host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    guard_accept_errors(loop, receiver.sio.counts)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    ctx: zmq.Context[Any] = zmq.Context()
    heartbeat = Heartbeat(ctx, config.child) if config.child else None
    try:
        while not stop.is_set():
            receiver.flush()  # idle streams close
            if heartbeat and heartbeat.due(time.monotonic()):
                heartbeat.send(_flat(receiver.stats()), info={"port": port})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), _FLUSH_S)
    finally:
        await receiver.sio.close_all(config.close_clients_ms / 1000)
        await runner.cleanup()
        await receiver.close()
        if heartbeat:
            heartbeat.send(_flat(receiver.stats()), info={"port": port}, final=True)
            heartbeat.close()
        ctx.term()


def make_sink(config: ReceiverConfig, out_dir: Path) -> Sink:
    """The configured sink: WAV files in ``out_dir`` unless ``sink`` names another."""
    c = config
    try:
        where = parse_sink(c.sink or f"wav:{out_dir}")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if where.kind == "redis":
        try:  # an optional extra: a receiver writing WAV files neither needs nor loads it
            from receiver.redis_sink import RedisSink
        except ImportError as exc:
            raise ConfigError(
                f"--sink {where.kind}: {exc.name} is not installed: "
                "pip install 'audio-uplink[redis]'"
            ) from None
        try:
            return RedisSink(where.target, c.retain_s, c.max_streams, c.idle_stream_s)
        except ValueError as exc:  # redis-py's word on a URL it cannot parse
            raise ConfigError(f"--sink: {exc}") from None
    limits = SinkLimits(c.max_gap_fill_s, c.max_gap_fill_bytes, c.max_segment_bytes)
    budget = DiskBudget(c.max_stream_bytes, c.max_disk_bytes)
    wav_dir = Path(where.target)
    wav_dir.mkdir(parents=True, exist_ok=True)
    return WavSink(wav_dir, limits, budget, c.max_streams, c.idle_stream_s)


def _flat(stats: dict[str, Any]) -> dict[str, int]:
    totals = {k: v for k, v in stats.items() if isinstance(v, int)}
    for counts in stats["streams"].values():
        for key in STREAM_COUNTS:
            totals[key] = totals.get(key, 0) + counts.get(key, 0)
    return totals


def main(config_path: str | None, host: str, port: int, out_dir: str, **own: Any) -> None:
    """Run the reference receiver (supervised with --config, or on its own with ``own``)."""
    if config_path:
        config = load_config(ReceiverConfig, config_path)
        assert config.child is not None
        start_child(config.child)
    else:
        config = ReceiverConfig(child=None, out_dir=out_dir, host=host, port=port, **own)
        setup_logging("receiver")
    try:
        asyncio.run(serve(config))
    except (ConfigError, OSError) as exc:  # bad token, cert or key: one line, no traceback
        print(f"receiver: {exc}", file=sys.stderr)
        sys.exit(EXIT_CONFIG)
    except Exception:
        logger.exception("receiver crashed")
        sys.exit(EXIT_CRASH)
    sys.exit(EXIT_OK)
