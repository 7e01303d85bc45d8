"""The end-of-run report: every captured frame acked or counted under a reason."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from supervisor.ops import levels
from supervisor.ops.stats import Stats
from supervisor.process import Child
from uplink_frame.counters import CaptureCounter as C
from uplink_frame.counters import Drop
from uplink_frame.counters import ReceiverCounter as R
from uplink_frame.counters import SenderCounter as S
from uplink_runtime.levels import is_level_counter
from uplink_runtime.roles import Role
from uplink_runtime.safefile import write_atomic

# capture knows each frame's fate (docs/delivery.md): the senders report it
# over the back-channel, so a killed sender's lost heartbeat costs nothing here
_CAPTURE_DROPS = {
    Drop.HWM: C.HWM,
    Drop.QUEUE: C.QUEUE,
    Drop.DISCONNECTED: C.FIN_DISCONNECTED,
    Drop.BACKLOG: C.FIN_BACKLOG,
    Drop.ACK_TIMEOUT: C.FIN_ACK_TIMEOUT,
    Drop.REJECTED: C.FIN_REJECTED,
    Drop.EVICTED: C.EVICTED,
    Drop.SHUTDOWN: C.SHUTDOWN,
}


def build(stats: Stats, children: Iterable[Child], duration_s: float) -> dict[str, Any]:
    capture = stats.role_counters(Role.CAPTURE)
    sender = stats.role_counters(Role.SENDER)
    dropped: dict[str, int] = {key: capture.get(n, 0) for key, n in _CAPTURE_DROPS.items()}
    # stale: aged out in a sender's queue, or in capture's ring waiting for a sender
    dropped[Drop.STALE] = capture.get(C.FIN_STALE, 0) + capture.get(C.STALE, 0)
    captured, acked = capture.get(C.CAPTURED, 0), capture.get(C.FIN_ACKED, 0)
    written = capture.get(C.FIN_WRITTEN, 0)  # acks = false: handed to the link, never confirmed
    report: dict[str, Any] = {
        "duration_s": round(duration_s, 3),
        "frames": {
            "captured": captured,
            "sent": sender.get(S.SENT, 0),
            "acked": acked,
            "retransmitted": capture.get(C.RETRANSMITTED, 0) + sender.get(S.RETRANSMITTED, 0),
            "written": written,
            "stalls": sender.get(S.STALLS, 0),
            # sent as silence runs (docs/silence.md): delivered, so not a drop
            "suppressed": capture.get(C.SUPPRESSED, 0),
            "dropped": dropped,
            "unaccounted": captured - acked - written - sum(dropped.values()),
            "bad": sender.get(S.BAD_FRAME, 0),
        },
        "latency_ms": stats.latency().summary(),
        "processes": {},
    }
    for child in children:
        ps = stats.by_name[child.name]
        report["processes"][child.name] = {
            "restarts": child.restarts,
            "max_rss_mb": round(ps.max_rss_mb, 1),
            "cpu_s": round(ps.cpu_s(), 3),
            "exits": list(child.exits),
        }
    report["capture"] = {k: n for k, n in capture.items() if not is_level_counter(k)}
    report["levels"] = levels.report(stats, children)
    report["sources"] = {
        c.name: _source(stats.by_name[c.name].info) for c in children if c.role is Role.CAPTURE
    }
    report["bad_heartbeats"] = stats.bad_heartbeats
    if stats.heard(Role.RECEIVER):
        report["receiver"] = stats.role_counters(Role.RECEIVER)
    return report


_OPTIONAL_COUNTS = ("written", "stalls", "retransmitted", "suppressed")


def _source(info: dict[str, Any]) -> dict[str, Any]:
    """What the audio came from and whether it was converted (docs/audio.md)."""
    keys = ("device", "input", "converted", "convert_held_ms", "source_ended")
    return {k: info[k] for k in keys if k in info}


def summary(report: dict[str, Any]) -> str:
    f, lat = report["frames"], report["latency_ms"]
    drops = ", ".join(f"{k} {v}" for k, v in f["dropped"].items() if v) or "none"
    lines = [
        f"audio-uplink ran {report['duration_s']:.1f} s",
        f"  frames: captured {f['captured']}, sent {f['sent']}, acked {f['acked']}, "
        + "".join(f"{k} {f[k]}, " for k in _OPTIONAL_COUNTS if f.get(k))
        + f"unaccounted {f['unaccounted']}",
        f"  dropped: {drops}",
        "  latency capture->ack ms: "
        + ", ".join(f"{k} {v if v is not None else '-'}" for k, v in lat.items()),
    ]
    c = report.get("capture", {})
    if c.get(C.DEVICE_REOPEN):
        lines.append(
            f"  device: reopened {c[C.DEVICE_REOPEN]} time(s), gap {c.get(C.GAP_MS, 0)} ms "
            f"({c.get(C.GAP_FRAMES, 0)} frames)"
        )
    for name, source in report.get("sources", {}).items():
        if "converted" in source:
            lines.append(f"  {name}: audio {source['converted']}")
        if source.get("source_ended"):
            lines.append(f"  {name}: the source ended ({source.get('input', 'end of input')})")
    if "receiver" in report:
        r = report["receiver"]
        lines.append(
            f"  receiver: frames {r.get(R.FRAMES, 0)}, missing {r.get(R.MISSING, 0)}, "
            f"duplicates {r.get(R.DUPLICATES, 0)}, out of order {r.get(R.OUT_OF_ORDER, 0)}"
        )
    lines += levels.summary_lines(report.get("levels", {}))
    for name, error in report.get("link_errors", {}).items():
        lines.append(f"  {name}: last connect error: {error['text']}")
    for name, p in report["processes"].items():
        lines.append(
            f"  {name}: restarts {p['restarts']}, max RSS {p['max_rss_mb']} MB, CPU {p['cpu_s']} s"
        )
    return "\n".join(lines)


def write(report: dict[str, Any], path: str) -> None:
    """Atomically, never through a link planted at the path or at a temporary name."""
    write_atomic(path, json.dumps(report, indent=2).encode())
