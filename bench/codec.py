"""Bytes on the wire and CPU per frame, PCM versus Opus.

Encodes --seconds of each signal frame by frame exactly as capture_proc does
(FrameMaker), then measures per frame: the Opus packet, the msgpack frame on
the ZeroMQ pipe, and the uplink bytes of the Socket.IO event on the
WebSocket (Engine.IO text header + binary attachment, each in a masked
WebSocket frame; TCP/IP headers and the ack not counted). CPU is process
time: encoding in capture, decoding in the receiver (uplink_frame.codec).

    python bench/codec.py --seconds 20 [--frame-ms 60]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import _requires  # noqa: F401  (one line, not a traceback, when something is missing)
import numpy as np
from _children import machine
from socketio import packet as sio_packet

from capture_proc.config import CaptureConfig
from capture_proc.encoding import FrameMaker
from uplink_frame import Frame, encode
from uplink_frame.codec import decoder_for
from uplink_runtime.child import ChildSpec
from uplink_runtime.roles import Role

AMPLITUDE = 32767 * 10 ** (-6 / 20)


def tone(rate: int, samples: int) -> np.ndarray:
    """The test tone, 440 Hz at -6 dBFS."""
    return AMPLITUDE * np.sin(2 * np.pi * 440 * np.arange(samples) / rate)


def noise(rate: int, samples: int) -> np.ndarray:
    """White noise at -20 dBFS RMS: the hardest thing to compress."""
    return np.random.default_rng(1).normal(0, 3277, samples)


def ws_frame_bytes(payload: int) -> int:
    """A client's WebSocket frame: 2-byte header, 4-byte mask, longer length fields."""
    return payload + 6 + (2 if payload >= 126 else 0) + (6 if payload >= 65536 else 0)


def wire_bytes(frame: Frame) -> int:
    parts = sio_packet.Packet(sio_packet.EVENT, ["audio_data", frame.to_dict()], id=1).encode()
    text, binary = parts[0], parts[1:]
    total = ws_frame_bytes(1 + len(text.encode()))  # "4" = Engine.IO message
    return total + sum(ws_frame_bytes(len(b)) for b in binary)


Signal = Callable[[int, int], np.ndarray]


def measure(
    rate: int, codec: str, bitrate: int, signal: Signal, args: argparse.Namespace
) -> dict[str, float]:
    spec = ChildSpec("bench", Role.CAPTURE, "ipc:///dev/null", os.getpid())
    config = CaptureConfig(
        spec, "main", "bench", "ipc:///dev/null", rate, frame_ms=args.frame_ms,
        codec=codec, bitrate=bitrate,
    )  # fmt: skip
    n = config.samples_per_frame
    frames_n = int(args.seconds * 1000 / args.frame_ms)
    pcm = np.round(signal(rate, n * frames_n)).astype("<i2").tobytes()
    maker = FrameMaker(config)
    t0 = time.process_time()
    frames = [maker.make(i, 1.7e9 + i, pcm[i * 2 * n : (i + 1) * 2 * n]) for i in range(frames_n)]
    encode_s = time.process_time() - t0
    decoder = decoder_for(frames[0], {})
    t0 = time.process_time()
    for frame in frames:
        decoder.pcm(frame)
    decode_s = time.process_time() - t0
    wire = float(np.mean([wire_bytes(f) for f in frames]))
    return {
        "audio B": float(np.mean([len(f.audio) for f in frames])),
        "zmq B": float(np.mean([len(encode(f)) for f in frames])),
        "wire B": wire,
        "wire kbit/s": wire * (1000 / args.frame_ms) * 8 / 1000,
        "enc ms": 1000 * encode_s / frames_n,
        "dec ms": 1000 * decode_s / frames_n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--frame-ms", type=float, default=20.0)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"{args.seconds:g} s of audio per row, mono, {args.frame_ms:g} ms frames; mean per frame")
    cols = ("audio B", "zmq B", "wire B", "wire kbit/s", "enc ms", "dec ms")
    print(f"{'rate':>6} {'signal':<6} {'codec':<10}" + "".join(f"{c:>12}" for c in cols))
    for rate in (16000, 48000):
        for name, signal in (("tone", tone), ("noise", noise)):
            for codec, bitrate in (("pcm", 0), ("opus", 16000), ("opus", 24000), ("opus", 32000)):
                row = measure(rate, codec, bitrate or 24000, signal, args)
                label = f"opus {bitrate // 1000}k" if bitrate else codec
                values = "".join(
                    f"{row[c]:>12.3f}" if c.endswith("ms") else f"{row[c]:>12.1f}" for c in cols
                )
                print(f"{rate:>6} {name:<6} {label:<10}{values}")
    print("enc/dec ms: process time per frame (capture encodes, the receiver decodes)")


if __name__ == "__main__":
    main()
