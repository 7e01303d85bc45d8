"""The senders' Socket.IO codec writes and reads what python-socketio does, and refuses the rest."""

from __future__ import annotations

from typing import Any

import pytest
from socketio import packet as sio_packet

from sender_proc import sio_wire
from sender_proc.sio_wire import Closed, Malformed, Opened, Packet, Ping, Reader, RefusedPacket
from uplink_frame import Frame
from uplink_frame.attachments import AttachmentLimits, PendingAttachments, Refusal
from uplink_frame.batch import to_batch


def frame(seq: int, silent: int = 0) -> Frame:
    audio = b"" if silent else bytes(range(256)) * 2
    return Frame("mic", seq, 1.5, 16000, 1, audio, silent=silent, frame_samples=320)


def reference(event: str, data: Any, ack_id: int | None) -> list[str | bytes]:
    """python-socketio's own encoding, with the Engine.IO message prefix."""
    pkt = sio_packet.Packet(sio_packet.EVENT, data=[event, data], id=ack_id)
    encoded = pkt.encode()
    messages = encoded if isinstance(encoded, list) else [encoded]
    return ["4" + m if isinstance(m, str) else m for m in messages]


@pytest.mark.parametrize(
    "data",
    [frame(7).to_dict(), frame(8, silent=5).to_dict(), to_batch([frame(1), frame(2)]), {"a": 1}],
)
@pytest.mark.parametrize("ack_id", [None, 1, 12345])
def test_an_event_is_encoded_as_python_socketio_encodes_it(data: Any, ack_id: int | None) -> None:
    text, attachments = sio_wire.event_packet("audio_data", data, ack_id)
    expected = reference("audio_data", data, ack_id)
    assert [text, *attachments] == expected


def test_the_connect_and_disconnect_packets() -> None:
    assert sio_wire.connect_packet(None) == "40"
    assert sio_wire.connect_packet({"token": "t"}) == '40{"token":"t"}'
    assert sio_wire.disconnect_packet() == "41"


def test_the_websocket_url_is_engine_io_s() -> None:
    assert sio_wire.engineio_url("http://h:5000/ignored?x=1") == (
        "ws://h:5000/socket.io/?x=1&transport=websocket&EIO=4"
    )
    assert sio_wire.engineio_url("https://h") == "wss://h/socket.io/?transport=websocket&EIO=4"


def reader() -> Reader:
    return Reader(PendingAttachments(AttachmentLimits()))


def test_engine_io_messages() -> None:
    r = reader()
    assert r.feed('0{"sid":"x","pingInterval":25000,"pingTimeout":20000}') == Opened(25.0, 20.0)
    assert r.feed("2") == Ping()
    assert r.feed("1") == Closed()
    assert r.feed("6") is None
    with pytest.raises(Malformed):
        r.feed('0{"pingInterval":"soon","pingTimeout":1}')
    with pytest.raises(Malformed):
        r.feed("x")


@pytest.mark.parametrize(
    ("message", "packet"),
    [
        ('40{"sid":"abc"}', Packet(0, "/", None, {"sid": "abc"})),
        ('44{"message":"no"}', Packet(4, "/", None, {"message": "no"})),
        ("41", Packet(1, "/", None, None)),
        ('4312[{"ok":true}]', Packet(3, "/", 12, [{"ok": True}])),
        ('42/other,["ev",1]', Packet(2, "/other", None, ["ev", 1])),
        ('42["ev",{"k":[1,2]}]', Packet(2, "/", None, ["ev", {"k": [1, 2]}])),
    ],
)
def test_packets_are_read_as_python_socketio_reads_them(message: str, packet: Packet) -> None:
    assert reader().feed(message) == packet
    ref = sio_packet.Packet(encoded_packet=message[1:])
    assert (ref.packet_type, ref.namespace or "/", ref.id, ref.data) == (
        packet.type,
        packet.namespace,
        packet.id,
        packet.data,
    )


def test_a_binary_ack_gets_its_attachments_back() -> None:
    r = reader()
    assert r.feed('461-7[{"ok":true,"b":{"_placeholder":true,"num":0}}]') is None
    assert r.feed(b"\x01\x02") == Packet(6, "/", 7, [{"ok": True, "b": b"\x01\x02"}])
    assert len(r.pending) == 0


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("4x", "undecodable"),
        ("42[", "undecodable"),
        ("45x-[]", "undecodable"),
        ("42" + "9" * 16 + "[]", "undecodable"),
        ("49[]", "packet_type"),
        ('42{"a":1}', "event_shape"),
        ("42[1]", "event_name"),
        ('43{"ok":true}', "ack_shape"),
        ('450-["e"]', "attachment_count"),
        ('451-["e",{"_placeholder":true,"num":3}]', "placeholder"),
        ("42" + "[" * 100 + "]" * 100, "event_name"),
    ],
)
def test_malformed_packets_are_named(message: str, kind: str) -> None:
    with pytest.raises(Malformed) as caught:
        reader().feed(message)
    assert caught.value.kind == kind


def test_messages_out_of_step_are_named() -> None:
    r = reader()
    with pytest.raises(Malformed, match="unexpected_attachment"):
        r.feed(b"\x00")
    r.feed('451-["e",{"_placeholder":true,"num":0}]')
    with pytest.raises(Malformed, match="unexpected_text"):
        r.feed('42["e"]')
    assert len(r.pending) == 0  # the unfinished packet is gone


def test_attachments_past_their_bounds_are_refused() -> None:
    r = Reader(PendingAttachments(AttachmentLimits(max_count=4, max_bytes=10)))
    with pytest.raises(RefusedPacket) as caught:
        r.feed('455-["e"]')
    assert caught.value.refusal is Refusal.COUNT
    r.feed('452-["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
    r.feed(b"x" * 8)
    with pytest.raises(RefusedPacket) as caught:
        r.feed(b"x" * 8)
    assert caught.value.refusal is Refusal.BYTES
    assert len(r.pending) == 0 and r.pending.total == 0


def test_an_unfinished_packet_expires() -> None:
    r = Reader(PendingAttachments(AttachmentLimits(timeout_s=0.0)))
    r.feed('451-["e",{"_placeholder":true,"num":0}]')
    with pytest.raises(RefusedPacket) as caught:
        r.feed("2")
    assert caught.value.refusal is Refusal.TIMEOUT
