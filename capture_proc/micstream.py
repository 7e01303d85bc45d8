"""``mic[:DEVICE]``: a device thread owns PortAudio, the capture loop only waits on a queue.

Every PortAudio call can block for as long as the audio server does (frozen
server: forever), so all of them run on one daemon thread. The capture loop
keeps heartbeating whatever that thread is stuck in, and its ``captured``
counter simply stops: the supervisor's watchdog decides what a hang is.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from typing import Any

from capture_proc.convert import AudioFormat
from capture_proc.framer import Framer
from capture_proc.mic import Device, choose_format, find_device, new_pyaudio, open_stream
from capture_proc.sources import Captured, SourceError
from uplink_frame.counters import CaptureCounter
from uplink_runtime.backoff import Backoff

logger = logging.getLogger(__name__)

SILENCE_S = 1.0  # no callback for this long on a running stream: the device is gone
FIRST_AUDIO_S = 5.0  # a freshly started PulseAudio takes ~2 s to deliver the first buffer
OPEN_WAIT_S = 2.0  # how long the constructor waits to report "no such device" itself
CLOSE_WAIT_S = 1.0  # how long close() waits for a device that may be frozen
CALL_HANG_S = 1.0  # a PortAudio open or close still running after this long is stuck
WATCH_S = 0.05


class MicSource:
    """Frames numbered by real time; a lost device is reopened with backoff until it is back."""

    def __init__(self, spec: str | None, rate: int, channels: int, samples: int) -> None:
        self.framer = Framer(samples / rate)
        self._taken_at = 0.0  # monotonic time the capture loop last got a frame
        self._worker = _DeviceThread(spec, rate, channels, samples, self.framer)
        self._worker.start()
        if not self._worker.first_open.wait(OPEN_WAIT_S):
            logger.warning(
                "capture %d: the audio system has not answered in %.0f s; capturing "
                "starts when it does",
                os.getpid(),
                OPEN_WAIT_S,
            )
        elif self._worker.failure is not None:
            self._worker.join(CLOSE_WAIT_S)
            raise self._worker.failure

    @property
    def counters(self) -> dict[str, int]:
        return self.framer.counters

    @property
    def info(self) -> dict[str, Any]:
        state, _ = self._worker.status
        return {"device": self._worker.device_name, "device_state": state, "waiting": self.waiting}

    @property
    def waiting(self) -> bool:
        """Not capturing for a good reason, so the supervisor's watchdog must not call it a hang.

        Good reasons: backing off until the device is back, a new stream that
        has not delivered yet (bounded by FIRST_AUDIO_S), a PortAudio open or
        close younger than CALL_HANG_S. A call older than that is stuck.
        """
        state, since = self._worker.status
        if state in ("opening", "closing"):
            return time.monotonic() - since < CALL_HANG_S
        if state in ("starting", "open"):
            return self._taken_at < since
        return state == "waiting for the device"

    @property
    def input_format(self) -> AudioFormat:
        """The format the device is open at (the stream's, unless it cannot do that)."""
        return self._worker.input_format

    @property
    def ended(self) -> bool:
        return False  # a device is reopened until stopped

    @property
    def released(self) -> bool:
        """True once the device thread has closed the stream, terminated PortAudio and ended."""
        return not self._worker.is_alive()

    def next_frame(self, timeout_s: float) -> Captured | None:
        frame = self.framer.next_frame(timeout_s)
        if frame is not None:
            self._taken_at = time.monotonic()
        return frame

    def take_dropped(self) -> int:
        return self.framer.take_dropped()

    def close(self) -> None:
        """Ask the device thread to release PortAudio; wait at most CLOSE_WAIT_S, and not at
        all if it is already stuck in PortAudio (the watchdog's SIGKILL follows in 0.5 s)."""
        self._worker.stop.set()
        state, since = self._worker.status
        stuck = state in ("opening", "closing") and time.monotonic() - since >= CALL_HANG_S
        self._worker.join(0 if stuck else CLOSE_WAIT_S)
        if self._worker.is_alive():
            logger.warning(
                "capture %d: device %s stuck %s for %.1f s (audio server frozen?): "
                "exiting without closing it",
                os.getpid(),
                self._worker.device_name,
                state,
                time.monotonic() - since,
            )


class _DeviceThread(threading.Thread):
    """Open, watch, close, back off, reopen; PyAudio objects never leave this thread.

    Holding them only in this thread's frames matters on a frozen server: the
    interpreter then exits without deallocating them (which would close them
    and hang).
    """

    def __init__(self, spec: str | None, rate: int, ch: int, samples: int, framer: Framer) -> None:
        super().__init__(name="mic-device", daemon=True)
        self.spec, self.rate, self.channels, self.samples = spec, rate, ch, samples
        self.framer = framer
        self.stop = threading.Event()
        self.first_open = threading.Event()
        self.failure: SourceError | None = None
        self.device_name = spec or "default"
        self.status = ("opening", time.monotonic())  # (state, since): one assignment, read whole
        self.input_format = AudioFormat(rate, ch)

    def run(self) -> None:
        backoff = Backoff(initial_s=0.2, cap_s=2.0, healthy_after_s=10.0)
        while not self.stop.is_set():
            opened_at = time.monotonic()
            try:
                pa, stream = self._open()
            except SourceError as exc:
                if not self._retry_after(exc):
                    return
                self._set("waiting for the device")
                self.stop.wait(backoff.delay(time.monotonic() - opened_at))
                continue
            self._watch_and_close(pa, stream)

    def _retry_after(self, exc: SourceError) -> bool:
        """The first open's failure is the user's to fix; any later one is device loss."""
        if not self.first_open.is_set():
            self.failure = exc
            self.first_open.set()
            return False
        logger.debug("capture %d: device not back yet: %s", os.getpid(), exc)
        return True

    def _set(self, state: str) -> None:
        self.status = (state, time.monotonic())

    def _open(self) -> tuple[Any, Any]:
        self._set("opening")
        try:
            pa = new_pyaudio()
        except OSError as exc:
            raise SourceError(f"PortAudio cannot start: {exc}") from None
        try:
            device = find_device(pa, self._wanted())
            fmt = choose_format(pa, device, self.rate, self.channels, self.framer.frame_s)
            self.input_format = fmt  # set before the first callback can run
            stream = open_stream(
                pa,
                device,
                rate=fmt.rate,
                channels=fmt.channels,
                samples=round(fmt.rate * self.framer.frame_s),
                callback=self.framer,
            )
        except BaseException:
            pa.terminate()
            raise
        self._on_opened(device)
        return pa, stream

    def _wanted(self) -> str | None:
        """After the first open, the same device by name: indexes move when devices come and go."""
        return self.device_name if self.first_open.is_set() else self.spec

    def _on_opened(self, device: Device) -> None:
        if self.first_open.is_set():
            self.framer.counters[CaptureCounter.DEVICE_REOPEN] += 1
            logger.info("capture %d: device %s is back, capturing again", os.getpid(), device)
        else:
            logger.info("capture %d: capturing from input device %s", os.getpid(), device)
        self.device_name = device.name
        self._set("starting")
        self.first_open.set()

    def _watch_and_close(self, pa: Any, stream: Any) -> None:
        reason = self._watch(stream)
        if reason:
            logger.warning(
                "capture %d: device %r lost (%s): reopening", os.getpid(), self.device_name, reason
            )
        self._set("closing")
        with contextlib.suppress(OSError):
            stream.stop_stream()
        with contextlib.suppress(OSError):
            stream.close()
        pa.terminate()
        self.framer.resume()  # the next frame, whenever it comes, measures the gap
        self._set("closed")
        if not reason:
            logger.info("capture %d: stream closed, PortAudio terminated", os.getpid())

    def _watch(self, stream: Any) -> str | None:
        """Why the device is lost, or None once a stop is asked."""
        opened = time.monotonic()
        while not self.stop.wait(WATCH_S):
            try:
                if not stream.is_active():
                    return "the stream stopped"
            except OSError as exc:
                return f"PortAudio error {exc}"
            last = self.framer.last_arrival
            since = last if last is not None and last > opened else None
            if since and self.status[0] == "starting":
                self.status = ("open", self.status[1])  # "since" stays the stream's opening
            limit = SILENCE_S if since else FIRST_AUDIO_S
            silent_s = time.monotonic() - (since or opened)
            if silent_s > limit:
                return f"no audio for {silent_s:.1f} s"
        return None
