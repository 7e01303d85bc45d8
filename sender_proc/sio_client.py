"""One Socket.IO connection: a websocket on an asyncio transport, speaking sio_wire.py.

Why not python-socketio's AsyncClient: it needs aiohttp, 11 MB of every
sender's RSS, and a sender on a small device spends its CPU in the layers
between an emit and the socket. The websocket is python-websockets' Sans-I/O
protocol (``websockets.client.ClientProtocol``, the layer its docs offer for
one's own I/O) driven by an ``asyncio.Protocol``: a frame's header and audio
leave in one write, an ack is handled in the callback that read it, and no
task or future stands between them.

A connection is used once: when it ends, for whatever reason, ``on_down``
runs once and link.py makes a new one. ``emit`` never raises: an emit on a
connection that is gone is never acked, and flow control puts the frame back
when the link reports down (the transport reports it, never an emit, so the
caller has filed its frames in flight first). Acks are a dict of callbacks by
id that link.py prunes (``forget_ack``); every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import ssl
import struct
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

try:
    from websockets.speedups import apply_mask
except ImportError:  # built without its C extension
    from websockets.utils import apply_mask

from sender_proc import sio_wire
from sender_proc.sio_wire import Closed, Malformed, Opened, Packet, Ping, Reader, RefusedPacket
from uplink_frame.attachments import AttachmentLimits, PendingAttachments, Refusal
from uplink_frame.ratelog import RateLog
from uplink_frame.sio_packets import ACK, BINARY_ACK, CONNECT, CONNECT_ERROR, DISCONNECT

logger = logging.getLogger(__name__)
COUNTERS = ("malformed_packets", *(r.counter for r in Refusal))
_USER_AGENT = f"audio-uplink Python/{sys.version_info[0]}.{sys.version_info[1]}"
_WRITE_HIGH = 64 * 1024  # bytes the kernel did not take yet: past it, emits wait
# a text message where an attachment must come, or the reverse: the stream is
# out of step and every packet after it suspect; socket.io-client closes too
_OUT_OF_STEP = ("unexpected_text", "unexpected_attachment")
# the server's ack of one frame, alone in what one read brought: one unmasked,
# unfragmented text frame of 16-30 bytes, Engine.IO message "4" + sio_wire's plain ack
_ACK_FRAME = re.compile(rb"\x81[\x10-\x1e]4" + sio_wire.PLAIN_ACK.pattern.encode())
_MASKS = 4096  # bytes of os.urandom read at once: 1024 frames' masking keys
_HEADS = (struct.Struct("!BB"), struct.Struct("!BBH"), struct.Struct("!BBQ"))


class Refused(Exception):
    """The server answered CONNECT_ERROR; ``data`` is what it said."""

    def __init__(self, data: Any) -> None:
        super().__init__("the server refused the connection")
        self.data = data


class Client(asyncio.Protocol):
    def __init__(
        self,
        url: str,
        *,
        auth: dict[str, Any] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        limits: AttachmentLimits | None = None,
        on_down: Callable[[str], None] | None = None,
    ) -> None:
        self.url = url
        self.auth = auth
        self.ssl_context = ssl_context
        self.limits = limits or AttachmentLimits()
        self.callbacks: dict[int, Callable[..., Any]] = {}
        self.refusals: Counter[str] = Counter(dict.fromkeys(COUNTERS, 0))
        self.connected = False
        self.last_ack_id = 0
        self.on_down = on_down
        self._ws = ClientProtocol(
            parse_uri(sio_wire.engineio_url(url)), max_size=self.limits.max_bytes
        )
        self._reader = Reader(PendingAttachments(self.limits))
        self._transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        self._fragments: list[bytes] = []
        self._fragment_text = False
        self.writable = asyncio.Event()
        self.writable.set()
        self._opened: asyncio.Future[Opened] = self._loop.create_future()
        self._joined: asyncio.Future[None] = self._loop.create_future()
        self._gone = asyncio.Event()
        self._silence_s = 0.0
        self._last_rx = 0.0
        self._watch: asyncio.TimerHandle | None = None
        self._rate = RateLog(logger)
        self._why = "transport close"
        self._ended = False
        self._masks = b""
        self._mask_at = 0

    # -- connecting -------------------------------------------------------

    async def connect(self, timeout_s: float) -> None:
        """Open the websocket and the namespace within ``timeout_s``, or raise.

        Raises Refused (the server said no), TimeoutError, OSError (refused,
        DNS, TLS), a websockets error (an HTTP answer that is no upgrade) or
        ConnectionError (the server ended it half-way).
        """
        try:
            async with asyncio.timeout(timeout_s):
                await self._open()
        except BaseException:
            self.abort()
            raise

    async def _open(self) -> None:
        parts = urlsplit(self.url)
        secure = self.ssl_context is not None or parts.scheme == "https"
        await self._loop.create_connection(
            lambda: self,
            parts.hostname or "",
            parts.port or (443 if secure else 80),
            ssl=(self.ssl_context or True) if secure else None,
        )
        request = self._ws.connect()
        request.headers["User-Agent"] = _USER_AGENT
        self._ws.send_request(request)
        self._flush()
        opened = await self._until(self._opened)
        self._write(sio_wire.connect_packet(self.auth))
        await self._until(self._joined)
        self.connected = True
        self._silence_s = opened.ping_interval_s + opened.ping_timeout_s
        self._watch = self._loop.call_later(self._silence_s, self._check_silence)

    async def _until(self, step: asyncio.Future[Any]) -> Any:
        """A handshake step, or the reason the connection ended first.

        A step may be done on a connection that has ended since: the server's
        answer and a packet that ends the connection (a refused attachment)
        came in one read. That connection must not be reported up.
        """
        gone = asyncio.ensure_future(self._gone.wait())
        try:
            await asyncio.wait((step, gone), return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if step.done() and (step.exception() is not None or not self._ended):
            return step.result()
        raise self._ws.handshake_exc or ConnectionError(f"connection ended: {self._why}")

    # -- asyncio.Protocol -------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.set_write_buffer_limits(high=_WRITE_HIGH)

    def data_received(self, data: bytes) -> None:
        self._last_rx = self._loop.time()
        if self._plain_ack(data):
            return
        self._ws.receive_data(data)
        self._events()
        self._flush()

    def _plain_ack(self, data: bytes) -> bool:
        """An ack read without the websocket parser and sio_wire's Reader; False if not one.

        Nearly every read is one: the parser would cost ~60 us of a sender's
        ~600 us per frame in this VM. Only when both parsers are between
        messages: websockets holds no partial frame and is mid no fragmented
        message (no state of its own changes on a whole data frame read), and no
        packet waits for its attachments. One case is not seen: a read that ended
        just after a frame's header leaves websockets' buffer empty too; only a
        payload that is itself, to the byte, a whole ack frame would then be taken
        for one, and a server sending that could as well ack.
        """
        ack = _ACK_FRAME.fullmatch(data)
        if (
            ack is None
            or data[1] != len(data) - 2
            or self._fragments
            or not self._reader.idle
            or self._ws.state is not State.OPEN
            or self._ws.reader.buffer
        ):
            return False
        self._packet(Packet(ACK, "/", int(ack.group(1)), [{"ok": True}]))
        return True

    def eof_received(self) -> bool | None:
        self._ws.receive_eof()
        self._events()
        self._flush()
        return None  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._gone.set()
        self.writable.set()  # an emit waiting for room returns
        self._end(self._why)

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def _events(self) -> None:
        for event in self._ws.events_received():
            if isinstance(event, Frame):
                self._frame(event)
            elif isinstance(event, Response) and self._ws.handshake_exc is not None:
                self._why = "websocket handshake refused"
                self._abort_transport()

    def _frame(self, frame: Frame) -> None:
        """Whole messages to sio_wire; pings and closes are the protocol's own business."""
        if frame.opcode is Opcode.TEXT or frame.opcode is Opcode.BINARY:
            self._fragment_text = frame.opcode is Opcode.TEXT
            self._fragments = []
        elif frame.opcode is not Opcode.CONT:
            return
        if not frame.fin:  # websockets bounds a fragmented message by max_size too
            self._fragments.append(bytes(frame.data))
            return
        data = b"".join([*self._fragments, frame.data]) if self._fragments else bytes(frame.data)
        self._fragments = []
        try:
            self._message(data.decode() if self._fragment_text else data)
        except UnicodeDecodeError:
            self._hit("malformed_packets", "undecodable")

    def _flush(self) -> None:
        """Write what the protocol has to send; its empty bytestring means: end the TCP stream."""
        data = self._ws.data_to_send()
        if not data or self._transport is None:
            return
        if data[-1] == b"":
            self._transport.writelines(data[:-1])
            self._transport.close()
        else:
            self._transport.writelines(data)

    # -- Socket.IO --------------------------------------------------------

    def _message(self, message: str | bytes) -> None:
        try:
            event = self._reader.feed(message)
        except RefusedPacket as exc:
            self._hit(exc.refusal.counter, exc.refusal.value)
            self._fail("refused")
            return
        except Malformed as exc:
            self._hit("malformed_packets", exc.kind)
            if exc.kind in _OUT_OF_STEP:
                self._fail("parse error")
            return
        if isinstance(event, Ping):
            self._write(sio_wire.EIO_PONG)
        elif isinstance(event, Packet) and event.namespace == "/":
            self._packet(event)
        elif isinstance(event, Opened) and not self._opened.done():
            self._opened.set_result(event)
        elif isinstance(event, Closed):
            self._fail("io server disconnect")

    def _packet(self, packet: Packet) -> None:
        if packet.type in (ACK, BINARY_ACK) and packet.id is not None:
            callback = self.callbacks.pop(packet.id, None)
            if callback is not None:
                try:
                    callback(*packet.data)
                except Exception:
                    logger.exception("sender %d: ack callback failed", os.getpid())
        elif packet.type == CONNECT and not self._joined.done():
            self._joined.set_result(None)
        elif packet.type == CONNECT_ERROR and not self._joined.done():
            self._joined.set_exception(Refused(packet.data))
        elif packet.type == DISCONNECT:
            self._fail("io server disconnect")
        # events from the server: a sender has no handler for any

    def _write(self, *messages: str | bytes) -> None:
        """Messages into the transport, in one write; nothing once the connection ends.

        While the websocket is open, its frames are made here: websockets'
        ``send_text``/``send_binary`` cost ~35 us of a sender's ~650 us per
        frame in this VM (a frame object, checks, and a getrandom call per
        masking key). The protocol keeps no state about data frames sent, so
        this is the same byte stream (tests/sender_proc/test_sio_client.py
        parses it back with websockets).
        """
        if self._ended or self._transport is None or self._transport.is_closing():
            return
        if self._ws.state is not State.OPEN:
            for message in messages:
                if isinstance(message, str):
                    self._ws.send_text(message.encode())
                else:
                    self._ws.send_binary(message)
            self._flush()
            return
        self._flush()  # what the protocol has queued (a pong) goes first
        self._transport.write(b"".join([self.frame(message) for message in messages]))

    def frame(self, message: str | bytes) -> bytes:
        """One unfragmented, masked websocket frame (RFC 6455 5.2) carrying ``message``."""
        if isinstance(message, str):
            payload, head1 = message.encode(), 0x80 | Opcode.TEXT
        else:
            payload, head1 = message, 0x80 | Opcode.BINARY
        n = len(payload)
        if n < 126:
            head = _HEADS[0].pack(head1, 0x80 | n)
        elif n < 65536:
            head = _HEADS[1].pack(head1, 0x80 | 126, n)
        else:
            head = _HEADS[2].pack(head1, 0x80 | 127, n)
        if self._mask_at >= len(self._masks):
            self._masks, self._mask_at = os.urandom(_MASKS), 0
        mask = self._masks[self._mask_at : self._mask_at + 4]
        self._mask_at += 4
        return head + mask + apply_mask(payload, mask)

    def expect_ack(self, callback: Callable[..., Any]) -> int:
        """File ``callback`` under a new ack id, for the next ``emit`` to ask for."""
        self.last_ack_id += 1
        self.callbacks[self.last_ack_id] = callback
        return self.last_ack_id

    def emit(self, event: str, data: Any, ack_id: int | None = None) -> None:
        """Send one event, asking for ack ``ack_id``. Never raises.

        The caller checks ``writable`` first: it is cleared while the transport
        holds more than 64 KiB the kernel did not take (the link's backpressure).
        """
        if self.connected:
            text, attachments = sio_wire.event_packet(event, data, ack_id)
            self._write(text, *attachments)

    def forget_ack(self, ack_id: int) -> None:
        self.callbacks.pop(ack_id, None)

    def _check_silence(self) -> None:
        """Engine.IO's server pings every interval: silence past interval + timeout is death."""
        quiet = self._loop.time() - self._last_rx
        if quiet >= self._silence_s:
            self._fail("ping timeout")
        elif not self._ended:
            self._watch = self._loop.call_later(self._silence_s - quiet, self._check_silence)

    def _hit(self, counter: str, kind: str) -> None:
        self.refusals[counter] += 1
        self._rate.hit(f"{counter}:{kind}", "sender %d: refused from server: %s", os.getpid(), kind)

    # -- ending -----------------------------------------------------------

    def _fail(self, why: str) -> None:
        self._why = why
        self._abort_transport()
        self._end(why)

    def _abort_transport(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _end(self, why: str) -> None:
        """The connection is over: tell link.py once."""
        self.connected = False
        if self._watch is not None:
            self._watch.cancel()
        if not self._ended:
            self._ended = True
            if self.on_down is not None:
                self.on_down(why)

    def abort(self) -> None:
        """Give the connection up now, without a word to the server and without on_down."""
        self._ended = True
        self._end("abandoned")
        self._abort_transport()

    async def close(self, goodbye_s: float) -> None:
        """A clean stop: DISCONNECT, so the server sees "client disconnect", then close."""
        transport = self._transport
        if self.connected and transport is not None and not transport.is_closing():
            self._write(sio_wire.disconnect_packet())
            self._ended = True  # no on_down: this end was asked for
            self.connected = False
            self._ws.send_close()
            self._flush()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(goodbye_s):
                    await self._gone.wait()
        self.abort()
