"""Counter and drop-reason names have one home (uplink_frame/counters.py), and it is used."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from uplink_frame.counters import (
    ALARM,
    CONNECT_FAILED,
    FINISHED,
    LEVEL,
    LOSSES,
    REJECTED,
    SENDER_FATES,
    SENDER_PROGRESS,
    CaptureCounter,
    Drop,
    ReceiverCounter,
    SenderCounter,
)
from uplink_frame.finish import Fate

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = (
    "capture_proc",
    "sender_proc",
    "receiver",
    "supervisor",
    "uplink_runtime",
    "uplink_frame",
)
HOME = ROOT / "uplink_frame" / "counters.py"
# names no one could mistake for a plain word: typed anywhere else, they are a second home
DISTINCT = {name for enum in (SenderCounter, CaptureCounter) for name in enum if "." in name} | {
    CONNECT_FAILED,
    REJECTED,
    ALARM,
    LEVEL,
}


def test_every_fate_is_counted_by_a_sender_and_by_capture() -> None:
    assert set(SENDER_FATES.values()) == set(Fate) == set(FINISHED)
    assert set(SENDER_PROGRESS) <= set(SenderCounter)
    assert {"stale", "hwm", "queue", "evicted", "shutdown"} <= set(Drop)
    assert set(SenderCounter) | set(CaptureCounter) >= LOSSES
    assert ReceiverCounter.FRAMES.value == "frames"  # the wire name: never renamed


def string_literals(path: Path) -> list[tuple[int, str]]:
    return [
        (node.lineno, node.value)
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


@pytest.mark.parametrize("package", PRODUCT)
def test_no_counter_name_is_typed_outside_its_home(package: str) -> None:
    typed = [
        f"{path.relative_to(ROOT)}:{line} {value!r}"
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != HOME
        for line, value in string_literals(path)
        if value in DISTINCT
    ]
    assert not typed, "use uplink_frame/counters.py:\n" + "\n".join(typed)


def test_the_check_sees_a_typed_name(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('counters = {"dropped.stale": 0}\n')
    assert (1, "dropped.stale") in string_literals(module) and "dropped.stale" in DISTINCT
