"""The capture loop: read a frame, stamp it, PUSH it without ever blocking (publisher.py)."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from typing import Any

import zmq

from capture_proc.config import CaptureConfig
from capture_proc.encoding import FrameMaker
from capture_proc.levels import LevelMeter
from capture_proc.mic import mute_native_stderr
from capture_proc.publisher import Publisher
from capture_proc.sources import DeviceSource, Source, SourceError, open_source
from uplink_frame.codec import CodecUnavailable
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
) -> None:
    heartbeat = Heartbeat(ctx, config.child)
    meter = LevelMeter(config.silence_db, config.silence_alarm_s, config.rate * config.channels)
    publisher = Publisher(ctx, config, meter)
    loop = _Loop(config, publisher, heartbeat, stop, config.seq_start, maker)
    try:
        if not publisher.wait_for_peer(config.wait_peer_ms / 1000, heartbeat, stop):
            logger.warning("capture: no sender attached after %d ms", config.wait_peer_ms)
        if isinstance(source, DeviceSource):
            loop.device(source)
        else:
            loop.timed(source)
    finally:
        extra = source.counters if isinstance(source, DeviceSource) else None
        info = {"next_seq": loop.next_seq, "ended": not stop.requested}
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
                self.publisher.beat(self.heartbeat, {"next_seq": seq, "waiting": True})
                continue
            audio = source.read(seq)
            if audio is None:
                logger.info("capture: source %s ended after seq %d", config.source, seq - 1)
                break
            t_capture = t0_wall + offset if config.pace else time.time() - config.frame_s
            self._publish(seq, t_capture, audio)
            seq += 1
            self.publisher.beat(self.heartbeat, {"next_seq": seq})

    def device(self, source: DeviceSource) -> None:
        """Microphone: the device keeps the time; never blocks longer than half a heartbeat."""
        while not self.stop.requested:
            got = source.next_frame(self.heartbeat.interval_s / 2)
            self.publisher.count_dropped("dropped.queue", source.take_dropped())
            if got is not None:
                self._publish(self.config.seq_start + got.index, got.t_capture, got.audio)
            self.publisher.serve(0)
            info = {"next_seq": self.next_seq, **source.info}
            self.publisher.beat(self.heartbeat, info, extra=source.counters)

    def _publish(self, seq: int, t_capture: float, audio: bytes) -> None:
        self.publisher.publish(self.maker.make(seq, t_capture, audio))
        for change in self.publisher.meter.add(audio):  # after the frame is on its way
            # decided and logged here, where the samples are: the supervisor only exports
            logger.warning("capture %s: %s", self.config.stream, change.describe())
        self.next_seq = seq + 1
        if self.publisher.counters["captured"] == 1:  # the supervisor times recoveries by this
            self.publisher.beat(self.heartbeat, {"next_seq": self.next_seq}, force=True)


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
        source = open_source(config.source, config.rate, config.channels, config.samples_per_frame)
    except (SourceError, CodecUnavailable) as exc:
        print(f"capture: {exc}", file=sys.stderr)
        sys.exit(EXIT_CONFIG)
    ctx: zmq.Context[Any] = zmq.Context()
    try:
        logger.info("capture %s started: %s", config.child.name, config.source)
        capture(config, source, stop, ctx, maker)
    except Exception:
        logger.exception("capture %s crashed", config.child.name)
        sys.exit(EXIT_CRASH)
    finally:
        source.close()
        ctx.term()
    sys.exit(EXIT_OK)
