"""capture_proc/pipe.py on its own: frames of one input frame time, end of file, a FIFO
before its writer comes, a WAV header (arecord writes one) skipped or refused."""

from __future__ import annotations

import io
import os
import wave
from pathlib import Path

import pytest

from capture_proc.convert import AudioFormat
from capture_proc.pipe import PipeSource
from capture_proc.sources import PipeInput, SourceError, open_source

FMT = AudioFormat(48000, 2)
FRAME = 960 * 4  # 20 ms of 48 kHz stereo s16le


def frames(source: PipeSource) -> list[bytes]:
    out = []
    while not source.ended:
        got = source.next_frame(1.0)
        if got is not None:
            out.append(got.audio)
    return out


def test_a_file_comes_in_frames_and_the_last_is_padded(tmp_path: Path) -> None:
    path = tmp_path / "in.pcm"
    data = os.urandom(FRAME * 2 + 100)
    path.write_bytes(data)
    source = PipeSource(str(path), FMT, 0.02)
    try:
        got = frames(source)
    finally:
        source.close()
    assert got == [data[:FRAME], data[FRAME : 2 * FRAME], data[2 * FRAME :].ljust(FRAME, b"\0")]
    assert source.info["source_ended"] is True


def test_a_fifo_without_a_writer_yet_is_waited_for_not_ended(tmp_path: Path) -> None:
    fifo = tmp_path / "in.pcm"
    os.mkfifo(fifo)
    source = PipeSource(str(fifo), FMT, 0.02)
    try:
        assert source.next_frame(0.2) is None and not source.ended
        with open(fifo, "wb") as writer:
            writer.write(b"\1" * FRAME)
        assert frames(source) == [b"\1" * FRAME]  # then the writer left: the end
    finally:
        source.close()


def wav_bytes(rate: int, channels: int, pcm: bytes) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return buffer.getvalue()


def test_a_wav_header_that_agrees_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "in.wav"
    pcm = os.urandom(FRAME)
    path.write_bytes(wav_bytes(48000, 2, pcm))
    source = PipeSource(str(path), FMT, 0.02)
    try:
        assert frames(source) == [pcm]
    finally:
        source.close()


def test_a_wav_header_that_disagrees_is_refused_naming_both(tmp_path: Path) -> None:
    path = tmp_path / "in.wav"
    path.write_bytes(wav_bytes(44100, 2, os.urandom(FRAME)))
    source = PipeSource(str(path), FMT, 0.02)
    try:
        with pytest.raises(SourceError, match=r"WAV header of 44100 Hz 2 ch 16-bit.*48000 Hz 2 ch"):
            frames(source)
    finally:
        source.close()


def test_stdin_after_a_restart_is_gone() -> None:
    with pytest.raises(SourceError, match="went with the capture process"):
        open_source("pipe:-", 16000, 1, 320, PipeInput(stdin_gone=True))


def test_a_device_that_is_no_fifo_nor_file_is_refused() -> None:
    with pytest.raises(SourceError, match="must be a FIFO"):
        open_source("pipe:/dev/null", 16000, 1, 320)
