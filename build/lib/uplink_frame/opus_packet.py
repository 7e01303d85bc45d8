"""What every process can check of an Opus packet without libopus: its TOC header.

RFC 6716 section 3.1: the first byte names the mode and the length of each
frame in the packet, its two low bits how many frames follow. That is enough
to know how much audio a packet carries (so latency budgets work as for PCM)
and to refuse a packet whose size no encoder produces, before a decoder runs.
"""

from __future__ import annotations

RATES = (8000, 12000, 16000, 24000, 48000)
FRAME_MS = (2.5, 5.0, 10.0, 20.0, 40.0, 60.0)
MAX_CHANNELS = 2
MAX_PACKET_MS = 120.0
MAX_FRAME_BYTES = 1275
_HEADER_BYTES = 7  # TOC, frame count and the longest padding length
_SILK_MS = (10.0, 20.0, 40.0, 60.0)  # TOC configs 0-11
_HYBRID_MS = (10.0, 20.0)  # configs 12-15
_CELT_MS = (2.5, 5.0, 10.0, 20.0)  # configs 16-31


def duration_ms(packet: bytes) -> float:
    """Milliseconds of audio in one Opus packet; ValueError if the header is not Opus."""
    if not packet:
        raise ValueError("an Opus packet is at least one byte")
    config, code = packet[0] >> 3, packet[0] & 3
    if config < 12:
        frame_ms = _SILK_MS[config % 4]
    elif config < 16:
        frame_ms = _HYBRID_MS[config % 2]
    else:
        frame_ms = _CELT_MS[config % 4]
    count = _frame_count(packet, code)
    if frame_ms * count > MAX_PACKET_MS:
        raise ValueError(f"Opus packet of {frame_ms * count:g} ms exceeds {MAX_PACKET_MS:g} ms")
    if len(packet) > count * MAX_FRAME_BYTES + _HEADER_BYTES:
        raise ValueError(f"Opus packet of {len(packet)} bytes is larger than {count} frame(s)")
    return frame_ms * count


def samples(packet: bytes, rate: int) -> int:
    """Samples per channel the packet decodes to at ``rate`` (whole at every Opus rate)."""
    return round(duration_ms(packet) * rate / 1000)


def check(packet: bytes, rate: int, channels: int) -> None:
    """ValueError unless ``packet`` can be one Opus frame of a stream at rate/channels."""
    if rate not in RATES:
        raise ValueError(f"Opus takes rates {', '.join(map(str, RATES))} Hz, not {rate}")
    if not 1 <= channels <= MAX_CHANNELS:
        raise ValueError(f"Opus takes 1 or 2 channels, not {channels}")
    duration_ms(packet)


def _frame_count(packet: bytes, code: int) -> int:
    if code == 0:
        return 1
    if code in (1, 2):
        return 2
    if len(packet) < 2 or not packet[1] & 0x3F:
        raise ValueError("Opus code-3 packet without a frame count")
    return packet[1] & 0x3F
