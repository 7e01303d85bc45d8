"""capture_proc/convert.py: a 48 kHz stereo sine into a 16 kHz mono stream, measured."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from capture_proc.convert import AudioFormat, Converted, Converter, Reframer
from capture_proc.sources import Captured, SourceError
from tests.capture_proc.signals import dominant_hz
from tests.capture_proc.tonecheck import fit, lag_samples, sine, thd_n_db

HZ, FRAME_S = 1000.0, 0.02
SRC, DST = AudioFormat(48000, 2), AudioFormat(16000, 1)
OUT_FRAME = round(DST.rate * FRAME_S)


def convert_in_frames(pcm: bytes, src: AudioFormat, dst: AudioFormat) -> tuple[np.ndarray, int]:
    """Push one input frame time at a time, as a device does; frames out, and the most
    output samples ever held back behind the input."""
    converter = Converter(src, dst)
    reframer = Reframer(OUT_FRAME * dst.block_bytes)
    step = round(src.rate * FRAME_S) * src.block_bytes
    frames, held = [], 0
    for i, at in enumerate(range(0, len(pcm), step)):
        frames += reframer.add(converter.push(pcm[at : at + step]))
        produced = len(frames) * OUT_FRAME
        held = max(held, round((i + 1) * FRAME_S * dst.rate) - produced)
        assert all(len(f) == OUT_FRAME * dst.block_bytes for f in frames)
    return np.frombuffer(b"".join(frames), "<i2").astype(float), held


def test_48k_stereo_sine_to_16k_mono_is_clean_and_click_free(capsys: Any) -> None:
    out, held = convert_in_frames(sine(HZ, 48000, 3.0, 2), SRC, DST)
    x = out[1600:-1600]  # well past the resampler's start and before the end
    hz = dominant_hz(x, DST.rate)
    thd = thd_n_db(x, HZ, DST.rate)
    lag = lag_samples(out, 1600, HZ, DST.rate)
    # a click at a frame boundary is an error there that the middle of frames does not have
    fitted, _ = fit(x, HZ, DST.rate)
    error = np.abs(x - fitted)
    at_edge = (np.arange(len(x)) + 1600) % OUT_FRAME
    edge = error[(at_edge == 0) | (at_edge == OUT_FRAME - 1)].max()
    inside = error[(at_edge > 2) & (at_edge < OUT_FRAME - 3)].max()
    with capsys.disabled():
        print(
            f"\n48k stereo -> 16k mono, soxr HQ: {hz:.3f} Hz, THD+N {thd:.1f} dB, "
            f"signal delay {lag / DST.rate * 1000:.3f} ms, held back at most {held} samples "
            f"({held / DST.rate * 1000:.1f} ms), max error at frame edges {edge:.2f} LSB, "
            f"inside frames {inside:.2f} LSB"
        )
    assert abs(hz - HZ) <= 1
    assert thd <= -60
    assert edge <= max(2.0, 1.5 * inside), (edge, inside)
    assert abs(lag) < 0.5  # soxr's output is time-aligned: only its emission is late
    assert held <= 2 * OUT_FRAME


def test_mixing_down_alone_needs_no_resampler_and_cannot_clip() -> None:
    converter = Converter(AudioFormat(16000, 2), DST)
    assert not converter.resamples
    full = np.array([32767, 32767, -32768, -32768, 32767, -32768], "<i2").tobytes()
    out = np.frombuffer(converter.push(full), "<i2")
    assert out.tolist() == [32767, -32768, 0]  # averages; full scale stays full scale
    assert converter.clipped == 0


def test_float_input_beyond_full_scale_saturates_and_is_counted() -> None:
    converter = Converter(AudioFormat(16000, 1, "f32le"), DST)
    out = np.frombuffer(converter.push(np.array([1.5, -2.0, 0.5], "<f4").tobytes()), "<i2")
    assert out.tolist() == [32767, -32768, 16384]
    assert converter.clipped == 2


def test_mono_is_copied_to_every_channel_and_unmixable_layouts_are_refused() -> None:
    converter = Converter(AudioFormat(16000, 1), AudioFormat(16000, 2))
    out = np.frombuffer(converter.push(np.array([5, -7], "<i2").tobytes()), "<i2")
    assert out.tolist() == [5, 5, -7, -7]
    with pytest.raises(SourceError, match="cannot mix 2 channels into 4"):
        Converter(AudioFormat(16000, 2), AudioFormat(16000, 4))


class _Device:
    """A device source in 48 kHz stereo: frames by index, a gap where asked."""

    def __init__(self, indexes: list[int]) -> None:
        self.input_format = SRC
        self.ended = False
        self.counters: dict[str, int] = {}
        self.info: dict[str, Any] = {}
        pcm = sine(HZ, 48000, FRAME_S * (max(indexes) + 1), 2)
        step = round(48000 * FRAME_S) * 4
        self._frames = [
            Captured(i, 100 + i * FRAME_S, pcm[i * step : (i + 1) * step]) for i in indexes
        ]

    def next_frame(self, timeout_s: float) -> Captured | None:
        if self._frames:
            return self._frames.pop(0)
        self.ended = True
        return None

    def take_dropped(self) -> int:
        return 0

    def close(self) -> None:
        pass


def _drain(source: Converted) -> list[Captured]:
    frames: list[Captured] = []
    for _ in range(1000):
        got = source.next_frame(0)
        if got is None and source.ended:
            return frames
        if got is not None:
            frames.append(got)
    raise AssertionError("never ended")


def test_converted_frames_are_whole_numbered_and_timed_like_the_device() -> None:
    frames = _drain(Converted(_Device(list(range(50))), DST, OUT_FRAME))
    assert [f.index for f in frames] == list(range(50))  # the tail is flushed at the end
    assert {len(f.audio) for f in frames} == {OUT_FRAME * 2}
    assert all(abs(f.t_capture - (100 + f.index * FRAME_S)) < 1e-9 for f in frames)


def test_a_gap_in_the_device_restarts_the_numbering_where_the_device_resumed() -> None:
    source = Converted(_Device([*range(10), *range(30, 40)]), DST, OUT_FRAME)
    indexes = [f.index for f in _drain(source)]
    before = [i for i in indexes if i < 10]  # what soxr still held at the gap is let go
    assert before == list(range(len(before))) and len(before) >= 7, indexes
    assert indexes[len(before) :] == list(range(30, 40)), indexes  # the end is flushed
    assert source.info["converted"] == "converted from 48000 Hz 2 ch s16le (soxr HQ)"


def test_a_device_in_the_stream_format_passes_through_untouched() -> None:
    device = _Device(list(range(3)))
    device.input_format = AudioFormat(48000, 2)
    frames = _drain(Converted(device, AudioFormat(48000, 2), 960))
    assert [len(f.audio) for f in frames] == [3840] * 3
    assert "converted" not in Converted(device, AudioFormat(48000, 2), 960).info
