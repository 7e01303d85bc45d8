"""The capture loop: read a frame, stamp it, PUSH it without ever blocking (publisher.py)."""

from __future__ import annotations

import logging
import math
import sys
import time
from dataclasses import dataclass
from typing import Any

import zmq

from capture_proc.config import CaptureConfig
from capture_proc.encoding import FrameMaker
from capture_proc.gate import Audio, Out
from capture_proc.levels import LevelMeter
from capture_proc.mic import mute_native_stderr
from capture_proc.publisher import Publisher
from capture_proc.sources import DeviceSource, PipeInput, Source, SourceError, open_source
from capture_proc.vad import Suppressor, VadUnavailable
from uplink_frame.codec import CodecUnavailable
from uplink_frame.counters import CaptureCounter
from uplink_runtime.child import (
    EXIT_CONFIG,
    EXIT_CRASH,
    EXIT_OK,
    Heartbeat,
    StopFlag,
    load_config,
    start_child,
)

logger = logging.getLogger(__name__)


def capture(
    config: CaptureConfig,
    source: Source | DeviceSource,
    stop: StopFlag,
    ctx: zmq.Context[Any],
    maker: FrameMaker,
    *,
    suppressor: Suppressor | None = None,
) -> None:
    heartbeat = Heartbeat(ctx, config.child)
    meter = LevelMeter(config.silence_db, config.silence_alarm_s, config.rate * config.channels)
    publisher = Publisher(ctx, config, meter)
    loop = _Loop(config, publisher, heartbeat, stop, config.seq_start, maker, suppressor)
    try:
        if not publisher.wait_for_peer(config.wait_peer_ms / 1000, heartbeat, stop):
            logger.warning("capture: no sender attached after %d ms", config.wait_peer_ms)
        if isinstance(source, DeviceSource):
            loop.device(source)
        else:
            loop.timed(source)
    finally:
        loop.flush()
        extra = source.counters if isinstance(source, DeviceSource) else None
        described = source.info if isinstance(source, DeviceSource) else {}
        info = {"next_seq": loop.next_seq, "ended": not stop.requested, **described}
        publisher.drain(config.drain_ms / 1000, heartbeat, info)
        publisher.beat(heartbeat, info, final=True, extra=extra)
        publisher.close()
        heartbeat.close()


@dataclass
class _Loop:
    config: CaptureConfig
    publisher: Publisher
    heartbeat: Heartbeat
    stop: StopFlag
    next_seq: int
    maker: FrameMaker
    suppressor: Suppressor | None = None  # suppress_silence: capture_proc/gate.py

    def __post_init__(self) -> None:
        if self.suppressor:
            self.publisher.also.append(self.suppressor.counters)

    def timed(self, source: Source) -> None:
        """Tone and file: this loop keeps the time and asks for frame ``seq``."""
        config, stop, seq = self.config, self.stop, self.config.seq_start
        t0_mono, t0_wall = time.monotonic(), time.time()
        while not stop.requested:
            offset = (seq - config.seq_start) * config.frame_s
            if config.pace:
                self.publisher.serve_until(t0_mono + offset + config.frame_s, stop)
                if stop.requested:
                    break
            elif not self.publisher.ready(self.heartbeat.interval_s / 2):
                # unpaced: no device can overflow, so run as fast as the senders
                # take frames rather than make frames only to drop them
                self.publisher.beat(self.heartbeat, {"next_seq": self.next_seq, "waiting": True})
                continue
            audio = source.read(seq)
            if audio is None:
                logger.info("capture: source %s ended after seq %d", config.source, seq - 1)
                break
            t_capture = t0_wall + offset if config.pace else time.time() - config.frame_s
            self._publish(seq, t_capture, audio)
            seq += 1
            # what went out: a restarted capture makes again what the gate still held
            self.publisher.beat(self.heartbeat, {"next_seq": self.next_seq})

    def device(self, source: DeviceSource) -> None:
        """Microphone or pipe: the input keeps the time; never blocks longer than half a beat.

        A pipe is read only when a frame can go out (``flow_controlled``): its
        producer waits on the full pipe instead of frames being dropped here.
        """
        wait_s = self.heartbeat.interval_s / 2
        flow = getattr(source, "flow_controlled", False)
        while not self.stop.requested:
            got = None if flow and not self._room(wait_s) else source.next_frame(wait_s)
            self.publisher.count_dropped(CaptureCounter.QUEUE, source.take_dropped())
            if got is not None:
                self._publish(self.config.seq_start + got.index, got.t_capture, got.audio)
            self.publisher.serve(0, steady=True)
            info = {"next_seq": self.next_seq, **source.info}
            self.publisher.beat(self.heartbeat, info, extra=source.counters)
            if got is None and source.ended:
                logger.info(
                    "capture: source %s ended after seq %d", self.config.source, self.next_seq - 1
                )
                break

    def _room(self, wait_s: float) -> bool:
        """Half the delivery budget in flight at most: a frame read now, however fast the
        producer, goes out well before it is stale (senders report fates every beat)."""
        in_flight = max(2, round(self.config.budget_ms / self.config.frame_ms / 2))
        if self.publisher.retention.unfinished >= in_flight:
            self.publisher.serve(min(wait_s, 0.005))
            return False
        return self.publisher.ready(wait_s)

    def _publish(self, seq: int, t_capture: float, audio: bytes) -> None:
        if self.suppressor is None:
            self._emit([Audio(seq, t_capture, audio)])
        else:
            self._emit(self.suppressor.push(seq, t_capture, audio))
        # every frame, suppressed or not, after it is on its way: a dead microphone is
        # silent whether or not its silence is sent; decided and logged here, where the
        # samples are (the supervisor only exports)
        for change in self.publisher.meter.add(audio):
            logger.warning("capture %s: %s", self.config.stream, change.describe())

    def flush(self) -> None:
        """The source ended or a stop: frames the gate holds go out (as silence)."""
        if self.suppressor:
            self._emit(self.suppressor.flush())

    def _emit(self, out: list[Out]) -> None:
        first = self.publisher.counters[CaptureCounter.CAPTURED] == 0
        for item in out:
            if isinstance(item, Audio):
                frame = self.maker.make(item.seq, item.t_capture, item.pcm)
            else:
                frame = self.maker.silence(item.seq, item.frames, item.t_capture)
            self.publisher.publish(frame)
            self.next_seq = frame.seq + frame.frames
        if first and out:  # the supervisor times recoveries by the first frame
            self.publisher.beat(self.heartbeat, {"next_seq": self.next_seq}, force=True)


def _pipe(config: CaptureConfig) -> PipeInput:
    beat_frames = math.ceil(config.child.heartbeat_ms / config.frame_ms) + 1
    return PipeInput(
        config.input_format,
        config.input_rate,
        config.input_channels,
        start_frame=config.seq_start,
        stdin_gone=config.stdin_gone,
        skip=beat_frames if config.seq_start else 0,
    )


def main(config_path: str) -> None:
    """Entry point of ``python -m capture_proc``: exits 0, 1 (crash) or 2 (bad source)."""
    config = load_config(CaptureConfig, config_path)
    start_child(config.child)
    stop = StopFlag()
    stop.install()
    if config.source.partition(":")[0] == "mic":
        mute_native_stderr()
    try:
        maker = FrameMaker(config)
        suppressor = None
        if config.suppress_silence:
            suppressor = Suppressor(config.rate, config.channels, config.frame_s)
        source = open_source(
            config.source, config.rate, config.channels, config.samples_per_frame, _pipe(config)
        )
    except (SourceError, CodecUnavailable, VadUnavailable) as exc:
        print(f"capture: {exc}", file=sys.stderr)
        sys.exit(EXIT_CONFIG)
    ctx: zmq.Context[Any] = zmq.Context()
    try:
        logger.info("capture %s started: %s", config.child.name, config.source)
        capture(config, source, stop, ctx, maker, suppressor=suppressor)
    except SourceError as exc:  # the input turned out not to be what the config says
        print(f"capture: {exc}", file=sys.stderr)
        sys.exit(EXIT_CONFIG)
    except Exception:
        logger.exception("capture %s crashed", config.child.name)
        sys.exit(EXIT_CRASH)
    finally:
        source.close()
        ctx.term()
    sys.exit(EXIT_OK)
