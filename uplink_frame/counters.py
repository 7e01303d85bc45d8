"""Every counter name a process reports and every reason a frame is dropped for, declared once.

Each process sends its counters in its heartbeats; the supervisor sums
them into the report, the status and the metrics. The values are the names
on the wire and in JSON, so they never change; add a member here, never a
string literal elsewhere.
"""

from __future__ import annotations

from enum import StrEnum

from uplink_frame.finish import Fate


class Drop(StrEnum):
    """Why a captured frame was never acked: the report's ``frames.dropped`` keys."""

    HWM = "hwm"
    QUEUE = "queue"
    DISCONNECTED = "disconnected"
    BACKLOG = "backlog"
    ACK_TIMEOUT = "ack_timeout"
    REJECTED = "rejected"
    EVICTED = "evicted"
    SHUTDOWN = "shutdown"
    STALE = "stale"


class SenderCounter(StrEnum):
    """A sender's counters; sender_proc/flow.py says when each one counts."""

    RECEIVED = "received"
    SENT = "sent"
    ACKED = "acked"
    WRITTEN = "written"
    BAD_FRAME = "bad_frame"
    REJECTED = "rejected"
    STALE = "dropped.stale"
    DISCONNECTED = "dropped.disconnected"
    BACKLOG = "dropped.backlog"
    ACK_TIMEOUT = "ack_timeout"
    LOST_IN_FLIGHT = "lost_in_flight"
    SHUTDOWN = "dropped.shutdown"
    STALLS = "stalls"
    RETRANSMITTED = "retransmitted"


CONNECT_FAILED = "connect_failed."  # + the kind: a sender's failed connects, by kind
# a capture's levels (uplink_runtime/levels.py): raises by alarm, and seconds by level
ALARM = "alarm."  # + the alarm
LEVEL = "level."  # + the kind and the level rounded to an even dB: level.rms_db.-20


class CaptureCounter(StrEnum):
    """A capture's counters: its socket, its retention ring, the back-channel, the device."""

    CAPTURED = "captured"
    SENT = "sent"
    HWM = "dropped.hwm"
    QUEUE = "dropped.queue"
    RETRANSMITTED = "retransmitted"
    STALE = "stale"  # aged out in the ring, waiting for a sender
    EVICTED = "evicted"
    SHUTDOWN = "shutdown"  # without a fate when it stopped
    BAD_FINISH = "bad_finish"
    SENDERS_GONE = "senders_gone"
    FIN_ACKED = "fin.acked"  # fin.*: the fates senders reported, by fate
    FIN_WRITTEN = "fin.written"
    FIN_REJECTED = "fin.rejected"
    FIN_STALE = "fin.stale"
    FIN_DISCONNECTED = "fin.disconnected"
    FIN_BACKLOG = "fin.backlog"
    FIN_ACK_TIMEOUT = "fin.ack_timeout"
    DEVICE_REOPEN = "device_reopen"
    GAP_FRAMES = "gap_frames"
    GAP_MS = "gap_ms"
    OVERFLOW = "overflow"
    SUPPRESSED = "suppressed"  # silent frames sent as silence runs (capture_proc/gate.py)


class ReceiverCounter(StrEnum):
    """The receiver's own totals, and what each stream counts (receiver/sink.py)."""

    FRAMES = "frames"
    BAD_FRAME = "bad_frame"
    CLIENTS = "clients"
    REFUSED_SINK_DOWN = "refused_sink_down"  # a connect while the sink (Redis) is down
    MISSING = "missing"
    DUPLICATES = "duplicates"
    OUT_OF_ORDER = "out_of_order"
    GAP_FILLED = "gap_filled"
    SEGMENTS = "segments"
    AUDIO_BYTES = "audio_bytes"
    CONCEALED = "concealed"  # Opus only (uplink_frame/codec.py)
    DECODE_ERRORS = "decode_errors"


REJECTED = "rejected_"  # + the reason: what the receiver refused, by reason
# what each stream counts besides its frames, summed over streams into the receiver's totals
STREAM_COUNTS = (
    ReceiverCounter.MISSING,
    ReceiverCounter.DUPLICATES,
    ReceiverCounter.OUT_OF_ORDER,
    ReceiverCounter.GAP_FILLED,
    ReceiverCounter.SEGMENTS,
    ReceiverCounter.AUDIO_BYTES,
    ReceiverCounter.CONCEALED,
    ReceiverCounter.DECODE_ERRORS,
)

# how a sender counts each fate it reports to capture, and how capture counts it
SENDER_FATES = {
    SenderCounter.ACKED: Fate.ACKED,
    SenderCounter.WRITTEN: Fate.WRITTEN,
    SenderCounter.REJECTED: Fate.REJECTED,
    SenderCounter.STALE: Fate.STALE,
    SenderCounter.DISCONNECTED: Fate.DISCONNECTED,
    SenderCounter.BACKLOG: Fate.BACKLOG,
    SenderCounter.ACK_TIMEOUT: Fate.ACK_TIMEOUT,
}
FINISHED = {
    Fate.ACKED: CaptureCounter.FIN_ACKED,
    Fate.WRITTEN: CaptureCounter.FIN_WRITTEN,
    Fate.REJECTED: CaptureCounter.FIN_REJECTED,
    Fate.STALE: CaptureCounter.FIN_STALE,
    Fate.DISCONNECTED: CaptureCounter.FIN_DISCONNECTED,
    Fate.BACKLOG: CaptureCounter.FIN_BACKLOG,
    Fate.ACK_TIMEOUT: CaptureCounter.FIN_ACK_TIMEOUT,
}
# the counters whose movement proves a sender still works through what it holds
SENDER_PROGRESS = (*SENDER_FATES, SenderCounter.LOST_IN_FLIGHT)
# counters of frames a process lost (the status's ``drops``)
LOSSES = frozenset(
    {
        SenderCounter.STALE,
        SenderCounter.DISCONNECTED,
        SenderCounter.BACKLOG,
        SenderCounter.SHUTDOWN,
        SenderCounter.ACK_TIMEOUT,
        SenderCounter.LOST_IN_FLIGHT,
        SenderCounter.REJECTED,
        CaptureCounter.HWM,
        CaptureCounter.QUEUE,
    }
)
