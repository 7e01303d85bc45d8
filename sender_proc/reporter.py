"""The sender's end of the back-channel: tells each capture what it took and what is finished.

One DEALER per capture (a DEALER connected to several would share the
reports out among them), a report every BEAT_S even when there is nothing
to say: capture reads silence longer than its lease as this sender gone.
Sends never block: a report ZeroMQ cannot take now is counted and dropped,
which costs at most a duplicate (capture pushes those frames again).
"""

from __future__ import annotations

import contextlib
import os
from collections import defaultdict
from typing import Any

import zmq

from sender_proc.config import SenderConfig
from uplink_frame import Frame
from uplink_frame.finish import Fate, Report, encode, finish_endpoint, ranges
from uplink_runtime import curve

_CHUNK = 512  # ranges per message, half the limit capture accepts
_HWM = 1000  # reports are small: a burst of acks while catching up fits
_MAX_HELD = 50_000  # seqs kept for a capture that cannot take reports now


class Reporter:
    def __init__(self, ctx: zmq.Context[Any], config: SenderConfig) -> None:
        self.socks: dict[str, zmq.Socket[Any]] = {}
        self.counters = {"reports_dropped": 0}
        self._took: defaultdict[str, list[int]] = defaultdict(list)
        self._fin: defaultdict[str, list[tuple[Fate, int]]] = defaultdict(list)
        identity = f"{config.child.name}:{os.getpid()}".encode()
        for stream, endpoint in zip(config.streams, config.endpoints, strict=False):
            sock = ctx.socket(zmq.DEALER)
            sock.linger = 0
            sock.sndhwm = _HWM
            sock.immediate = True  # a report queued for a capture not there yet is stale
            sock.routing_id = identity
            if config.curve_dir:
                curve.connect_as_client(sock, config.curve_dir)
            sock.connect(finish_endpoint(endpoint))
            self.socks[stream] = sock

    def took(self, frame: Frame) -> None:
        if frame.stream in self.socks:
            self._took[frame.stream].append(frame.seq)

    def settled(self, fates: list[tuple[Frame, Fate]]) -> None:
        for frame, fate in fates:
            if frame.stream in self.socks:
                self._fin[frame.stream].append((fate, frame.seq))

    def send(self, bye: bool = False) -> None:
        """One report per capture (several if long); ``bye``: capture takes back the rest.

        What ZeroMQ cannot take now (capture busy or away) goes with the next
        report, up to _MAX_HELD seqs: past that it is dropped and counted.
        """
        for stream, sock in self.socks.items():
            try:
                for report in self._reports(stream, bye):
                    sock.send(encode(report), zmq.NOBLOCK)
            except zmq.Again:
                if len(self._took[stream]) + len(self._fin[stream]) <= _MAX_HELD:
                    continue
                self.counters["reports_dropped"] += 1
            self._took.pop(stream, None)
            self._fin.pop(stream, None)

    def _reports(self, stream: str, bye: bool) -> list[Report]:
        took = ranges(self._took.get(stream, ()))
        fin = [
            (fate, lo, hi)
            for fate in Fate
            for lo, hi in ranges(s for f, s in self._fin.get(stream, ()) if f is fate)
        ]
        chunks = max(1, -(-max(len(took), len(fin)) // _CHUNK))
        reports = [
            Report(took[i * _CHUNK : (i + 1) * _CHUNK], fin[i * _CHUNK : (i + 1) * _CHUNK])
            for i in range(chunks)
        ]
        reports[-1].bye = bye  # after every fate, so capture gives back only the rest
        return reports

    def close(self) -> None:
        for sock in self.socks.values():
            with contextlib.suppress(zmq.ZMQError):
                sock.close()
