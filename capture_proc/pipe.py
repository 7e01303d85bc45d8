"""``pipe:-`` and ``pipe:PATH``: raw PCM that another program writes, paced by its arrival.

The input is read only while the capture loop can publish (``flow_controlled``):
a producer faster than real time (ffmpeg decoding a file) then simply waits
on the full pipe, and nothing is dropped here. End of file ends the stream.

A FIFO is opened without blocking; before its first writer comes, poll()
reports nothing, and it reports a hang-up only once a writer that came has
gone, so "no data yet" and "ended" never mix. The supervisor holds a read
end of the FIFO for the whole run, so a writer never gets a broken pipe
while a restarted capture reopens it.
"""

from __future__ import annotations

import os
import select
import stat
import time
from typing import Any

from capture_proc.convert import AudioFormat, SampleFormat
from capture_proc.sources import Captured, SourceError

HEADER_S = 5.0  # a WAV header not complete by then is not one
_RIFF_BYTES = 12  # "RIFF", size, "WAVE"
_FMT_FIELDS = ((0, 2), (2, 4), (4, 8))  # format tag, channels, sample rate
_EXTENSIBLE = 0xFFFE
_WAV_SAMPLES: dict[tuple[int, int], SampleFormat] = {(1, 16): "s16le", (3, 32): "f32le"}
STDIN_GONE = (
    "the input on stdin went with the capture process that read it: "
    "start the producer and the supervisor again (a FIFO, pipe:PATH, survives a capture restart)"
)


class PipeSource:
    """One input frame time of raw PCM per ``next_frame``; the last partial frame is padded."""

    flow_controlled = True

    def __init__(
        self, path: str, fmt: AudioFormat, frame_s: float, start_frame: int = 0, skip: int = 0
    ) -> None:
        """``start_frame``: where a restarted capture resumes a regular file. ``skip``: the
        sequence numbers a restarted capture leaves out on a FIFO, as the killed one may
        have used them since its last heartbeat (new audio under a used number would be
        dropped by the receiver as a duplicate; a gap is counted as missing instead)."""
        self.input_format = fmt
        self.path = path
        self.frame_bytes = round(fmt.rate * frame_s) * fmt.block_bytes
        self.frame_s = frame_s
        self.fd = _open(path)
        self.kind = "stdin" if path == "-" else _kind(self.fd)
        if self.kind == "file" and start_frame:  # a restarted capture goes on where it was
            os.lseek(self.fd, start_frame * self.frame_bytes, os.SEEK_SET)
        self._held = b""
        self._index = skip if self.kind == "fifo" else 0
        self._sniffed = False  # a WAV header at the start (arecord writes one) is skipped
        self.ended = False
        self.counters = {"pipe_bytes": 0}

    @property
    def info(self) -> dict[str, Any]:
        """``waiting``: frames come when the producer writes, and no call here can hang
        (select has a timeout), so a pause is the producer's, never a hung capture."""
        return {
            "input": f"{self.kind} {self.path}",
            "input_format": str(self.input_format),
            "source_ended": self.ended,
            "waiting": True,
        }

    def next_frame(self, timeout_s: float) -> Captured | None:
        """A frame once a whole one has arrived, or at the end the padded rest."""
        deadline = time.monotonic() + timeout_s
        while not self.ended and len(self._held) < self.frame_bytes:
            left = deadline - time.monotonic()
            if left <= 0 or not self._readable(left):
                return None
            chunk = os.read(self.fd, self.frame_bytes - len(self._held))
            if not chunk:
                self.ended = True
                break
            self.counters["pipe_bytes"] += len(chunk)
            self._held += chunk
            if not self._sniffed and len(self._held) >= _RIFF_BYTES:
                self._sniffed = True
                self._skip_wav_header()
        if not self._held:
            return None
        audio = self._held.ljust(self.frame_bytes, b"\0")
        self._held = b""
        frame = Captured(self._index, time.time() - self.frame_s, audio)
        self._index += 1
        return frame

    def _skip_wav_header(self) -> None:
        """``arecord`` and ``sox -t wav -`` start with a WAV header: skip it, after checking
        that it says what the input keys say (a mismatch would be noise at full scale)."""
        if self._held[:4] != b"RIFF" or self._held[8:12] != b"WAVE":
            return
        self._held = self._held[_RIFF_BYTES:]
        while True:
            chunk_id, size = self._take(8)[:4], int.from_bytes(self._held[4:8], "little")
            self._held = self._held[8:]
            if chunk_id == b"data":
                return
            body = self._take(size + size % 2)
            self._held = self._held[size + size % 2 :]
            if chunk_id == b"fmt ":
                self._check_wav_format(body)

    def _take(self, n: int) -> bytes:
        """The first ``n`` bytes held, reading more for up to HEADER_S (a header comes whole)."""
        deadline = time.monotonic() + HEADER_S
        while len(self._held) < n:
            left = deadline - time.monotonic()
            chunk = os.read(self.fd, n - len(self._held)) if self._readable(left) else b""
            if not chunk:
                raise SourceError(f"pipe:{self.path}: its WAV header is cut short")
            self._held += chunk
        return self._held[:n]

    def _check_wav_format(self, fmt: bytes) -> None:
        tag, channels, rate = (int.from_bytes(fmt[a:b], "little") for a, b in _FMT_FIELDS)
        bits = int.from_bytes(fmt[14:16], "little")
        if tag == _EXTENSIBLE and len(fmt) >= 26:  # the real tag starts the sub-format GUID
            tag = int.from_bytes(fmt[24:26], "little")
        sample = _WAV_SAMPLES.get((tag, bits))
        said = AudioFormat(rate, channels, sample) if sample else None
        if said != self.input_format:
            raise SourceError(
                f"pipe:{self.path} starts with a WAV header of {rate} Hz {channels} ch "
                f"{bits}-bit (format {tag}), but the input keys say {self.input_format}: set "
                "--input-rate, --input-channels and --input-format to match (s16le or f32le)"
            )

    def _readable(self, timeout_s: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout_s)
        return bool(ready)

    def take_dropped(self) -> int:
        return 0  # flow-controlled: the producer waits instead

    def close(self) -> None:
        if self.fd != 0:
            os.close(self.fd)


def _open(path: str) -> int:
    if path == "-":
        if os.isatty(0):
            raise SourceError(
                "pipe:- reads raw PCM on stdin, but stdin is a terminal: pipe "
                "a program into it (docs/audio.md)"
            )
        return 0
    try:
        return os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise SourceError(f"pipe:{path}: {exc.strerror}") from None


def _kind(fd: int) -> str:
    mode = os.fstat(fd).st_mode
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISREG(mode):
        return "file"
    os.close(fd)
    raise SourceError("pipe:PATH must be a FIFO (mkfifo) or a regular file of raw PCM")
