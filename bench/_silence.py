"""Silence suppression's savings, for bench/audio.py's ``suppression`` section.

suppression(): speech with pauses (espeak-ng sentences with 2 s of silence
around each, over a white noise floor) streamed in real time by
`supervisor start --source file:...` to a `python -m receiver` behind a TCP
proxy that counts the bytes both ways, once with suppression off and once
on. Bytes are what crossed the proxy (WebSocket, Socket.IO, acks and pings
included; TCP/IP headers not). CPU is each process's own, from the report, and so is the latency
(capture to ack, per message: a silence run counts once).
The speech correlation compares the receiver's WAV with the input on the
voiced frames (20 ms frames of the clean speech above -45 dBFS). Then,
offline (detectors()): WebRTC's VAD against an energy gate on the same speech
over louder noise floors (docs/silence.md says why the VAD).
"""

from __future__ import annotations

import json
import os
import re
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import wave
from pathlib import Path
from typing import Any

import numpy as np

from capture_proc.gate import Audio
from capture_proc.vad import Suppressor

REPO = Path(__file__).resolve().parent.parent
RATE, FRAME = 16000, 320  # 16 kHz mono, 20 ms frames: the defaults
SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Silence between sentences is not sent as audio.",
    "Every frame still has its place in the recording.",
    "A microphone in a quiet room hears mostly nothing.",
)
VOICED_DBFS = -45.0


# --- the signal ----------------------------------------------------------------------


def speech(
    tmp: Path, noise_dbfs: float, gap_s: float = 2.0, gain_db: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """(signal, clean speech) at RATE: espeak-ng sentences, gap_s of silence around each."""
    parts = [np.zeros(int(gap_s * RATE), np.int16)]
    for text in SENTENCES:
        raw, out = tmp / "espeak.wav", tmp / "sentence.wav"
        subprocess.run(["espeak-ng", "-w", str(raw), text], check=True, timeout=60)
        subprocess.run(["sox", str(raw), "-r", str(RATE), "-b", "16", "-c", "1", str(out)],
                       check=True, timeout=60)  # fmt: skip
        with wave.open(str(out), "rb") as w:
            parts += [np.frombuffer(w.readframes(w.getnframes()), "<i2"), parts[0]]
    clean = np.round(np.concatenate(parts) * 10 ** (gain_db / 20)).astype(np.int16)
    noise = np.random.default_rng(1).normal(0, 32767 * 10 ** (noise_dbfs / 20), len(clean))
    return np.clip(clean + noise.round(), -32768, 32767).astype(np.int16), clean


def voiced(clean: np.ndarray, dbfs: float = VOICED_DBFS) -> np.ndarray:
    """Frames of the clean speech louder than ``dbfs``."""
    n = len(clean) // FRAME
    rms = np.sqrt((clean[: n * FRAME].astype(float).reshape(n, FRAME) ** 2).mean(axis=1))
    return np.flatnonzero(rms / 32768 > 10 ** (dbfs / 20))


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(float).ravel(), b.astype(float).ravel()
    return float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))


# --- a byte-counting TCP proxy ---------------------------------------------------------


class Proxy:
    """Forwards 127.0.0.1:port to ``target`` and counts the bytes each way."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.up, self.down = target, 0, 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.listener, selectors.EVENT_READ)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.done.is_set():
            for key, _ in self.sel.select(0.1):
                if key.fileobj is self.listener:
                    client, _ = self.listener.accept()
                    server = socket.create_connection(self.target)
                    self.sel.register(client, selectors.EVENT_READ, (server, True))
                    self.sel.register(server, selectors.EVENT_READ, (client, False))
                    continue
                self._pass(key.fileobj, *key.data)  # type: ignore[arg-type]

    def _pass(self, src: socket.socket, dst: socket.socket, upstream: bool) -> None:
        try:
            data = src.recv(65536)
            if data:
                dst.sendall(data)
        except OSError:
            data = b""
        if not data:
            for sock in (src, dst):
                if sock.fileno() >= 0:
                    self.sel.unregister(sock)
                    sock.close()
            return
        if upstream:
            self.up += len(data)
        else:
            self.down += len(data)

    def close(self) -> None:
        self.done.set()
        self.thread.join(5)
        self.listener.close()


# --- one run ---------------------------------------------------------------------------


def run(work: Path, wav: Path, suppress: bool) -> dict[str, Any]:
    out = work / "rec"
    receiver = subprocess.Popen(
        [sys.executable, "-m", "receiver", "--port", "0", "--out", str(out)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    proxy = None
    try:
        assert receiver.stdout is not None
        port = int(re.search(r":(\d+)", receiver.stdout.readline()).group(1))  # type: ignore[union-attr]
        proxy = Proxy(("127.0.0.1", port))
        report = work / "report.json"
        cmd = [sys.executable, "-m", "supervisor", "start", "--source", f"file:{wav}",
               "--server", f"http://127.0.0.1:{proxy.port}", "--run-dir", str(work / "run"),
               "--report", str(report), "--duration", "300"]  # fmt: skip
        if suppress:
            cmd.append("--suppress-silence")
        env = {k: v for k, v in os.environ.items() if k != "AUDIO_UPLINK_TOKEN"}
        subprocess.run(cmd, cwd=REPO, env=env, check=True, timeout=300,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        result: dict[str, Any] = json.loads(report.read_text())
    finally:
        if proxy:
            proxy.close()
        receiver.terminate()
        receiver.wait(10)
    with wave.open(str(out / "main.wav"), "rb") as w:
        result["wav"] = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    result["bytes_up"], result["bytes_down"] = proxy.up, proxy.down
    return result


def cpu_percent(report: dict[str, Any], role: str) -> float:
    cpu = sum(p["cpu_s"] for name, p in report["processes"].items() if name.startswith(role))
    return float(100 * cpu / report["duration_s"])


def latency(report: dict[str, Any]) -> str:
    lat = report["latency_ms"]
    return f"{lat['p50']:.0f} / {lat['p99']:.0f}"


def suppression(noise_dbfs: float = -60.0) -> None:
    """Bytes on the wire, sender CPU and speech correlation, suppression off and on."""
    with tempfile.TemporaryDirectory(prefix="au-bench-") as tmp:
        signal, clean = speech(Path(tmp), noise_dbfs)
        wav = Path(tmp) / "speech.wav"
        with wave.open(str(wav), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(signal.tobytes())
        seconds, frames = len(signal) / RATE, -(-len(signal) // FRAME)
        speech_s = len(voiced(clean)) * FRAME / RATE
        print(f"\n## Silence suppression: {seconds:.1f} s, {len(SENTENCES)} espeak-ng sentences "
              f"({speech_s:.1f} s voiced), 2 s pauses, noise floor {noise_dbfs:g} dBFS; "
              "16 kHz mono 20 ms, real time")  # fmt: skip
        print(f"{'suppress_silence':<17}{'up kB':>8}{'up kbit/s':>11}{'down kB':>9}"
              f"{'sender CPU %':>14}{'capture CPU %':>15}{'suppressed':>12}"
              f"{'WAV s':>8}{'voiced corr':>13}{'latency p50/p99 ms':>20}")  # fmt: skip
        for suppress in (False, True):
            work = Path(tmp) / ("on" if suppress else "off")
            work.mkdir()
            r = run(work, wav, suppress)
            padded = np.zeros(frames * FRAME, np.int16)
            padded[: len(signal)] = signal
            idx = voiced(clean)
            got = r["wav"][: frames * FRAME].reshape(-1, FRAME)
            corr = correlation(got[idx], padded.reshape(-1, FRAME)[idx])
            up, sender, capture = r["bytes_up"], cpu_percent(r, "sender"), cpu_percent(r, "capture")
            print(f"{str(suppress).lower():<17}{up / 1000:>8.1f}{up * 8 / 1000 / seconds:>11.1f}"
                  f"{r['bytes_down'] / 1000:>9.1f}{sender:>14.2f}{capture:>15.2f}"
                  f"{r['frames']['suppressed']:>12}{len(r['wav']) / RATE:>8.2f}"
                  f"{corr:>13.4f}{latency(r):>20}")  # fmt: skip
        print("up/down: bytes through a TCP proxy between sender and receiver; CPU: process time "
              "/ run time, one run each (noisy on a shared machine)")  # fmt: skip


# --- the detector: WebRTC's VAD against an energy gate --------------------------------


def gate_audio(signal: np.ndarray, judge: str, level: float) -> set[int]:
    """Seqs sent as audio through the same gate, judged by the VAD (``level`` its mode)
    or by frame energy (``level`` the threshold, dBFS)."""
    suppressor = Suppressor(RATE, 1, FRAME / RATE, mode=int(level) if judge == "vad" else 2)
    out = []
    for seq in range(len(signal) // FRAME):
        pcm = signal[seq * FRAME : (seq + 1) * FRAME]
        if judge == "vad":
            out += suppressor.push(seq, 1.0, pcm.tobytes())
        else:
            loud = np.sqrt((pcm.astype(float) ** 2).mean()) / 32768 > 10 ** (level / 20)
            out += suppressor.gate.push(Audio(seq, 1.0, pcm.tobytes()), bool(loud))
    out += suppressor.flush()
    return {x.seq for x in out if isinstance(x, Audio)}


JUDGES = (("vad", 2.0), ("vad", 3.0), ("energy", -45.0), ("energy", -35.0))


def detectors(tmp: Path) -> None:
    print("\nDetector, offline through the same gate: voiced frames clipped / other frames sent")
    print(f"{'speech gain dB':<16}{'noise dBFS':<12}{'voiced/other':>14}"
          + "".join(f"{j + (f' {v:g}'):>16}" for j, v in JUDGES))  # fmt: skip
    for gain in (0.0, -20.0):
        for noise in (-70.0, -60.0, -50.0, -40.0):
            signal, clean = speech(tmp, noise, gain_db=gain)
            idx = set(voiced(clean, VOICED_DBFS + gain).tolist())
            other = set(range(len(signal) // FRAME)) - idx
            cells = []
            for judge, level in JUDGES:
                sent = gate_audio(signal, judge, level)
                cells.append(f"{len(idx - sent)} / {len(other & sent)}")
            shown = f"{len(idx)}/{len(other)}"
            print(f"{gain:<16g}{noise:<12g}{shown:>14}" + "".join(f"{c:>16}" for c in cells))
    print("voiced: 20 ms frames of the clean speech above -45 dBFS + gain; other frames include "
          "the pre-roll, hangover and pauses inside sentences, sent by design")  # fmt: skip
