"""Receive from a ZeroMQ socket in the event loop: watch its FD, then receive without blocking.

zmq.asyncio wraps every receive in a future and replays ZeroMQ's event flags
through enums: at 50 frames a second that was a third of a sender's CPU
(py-spy; issue 17's small device). Here a frame is handed over in the very
callback that saw the FD ready. ZeroMQ's FD only says its events may have
changed, so each wake receives until nothing is left; and the FD is watched
only while there is room (level-triggered, it would otherwise wake the loop
for messages nobody will take).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import zmq

# plain ints: the IntFlag's ``&`` and the socket's attribute lookup cost more than a receive
_POLLIN, _EVENTS = int(zmq.POLLIN), int(zmq.EVENTS)


class Inbox:
    def __init__(self, socket: zmq.Socket[Any]) -> None:
        self.socket = socket
        self._fd: int = socket.FD
        self._getsockopt: Callable[[int], int] = socket.getsockopt  # type: ignore[assignment]
        self._loop = asyncio.get_running_loop()
        self._take: Callable[[bytes], object] | None = None
        self._has_room: Callable[[], bool] = lambda: True
        self._watching = False

    def take(self) -> bytes | None:
        """The next message if one is there, else None."""
        if not self._getsockopt(_EVENTS) & _POLLIN:
            return None
        try:
            return self.socket.recv(zmq.DONTWAIT)
        except zmq.Again:
            return None

    def stream(self, take: Callable[[bytes], object], has_room: Callable[[], bool]) -> None:
        """From now on hand every message to ``take`` as it comes, while ``has_room()``."""
        self._take, self._has_room = take, has_room
        self.resume()

    def resume(self) -> None:
        """There may be room again: take what waits, and watch the FD while room lasts."""
        if self._take is not None and not self._watching:
            self._watching = True
            self._loop.add_reader(self._fd, self._ready)
            self._ready()

    def pause(self) -> None:
        """Stop handing messages over (``resume`` or ``stream`` starts again)."""
        if self._watching:
            self._loop.remove_reader(self._fd)
            self._watching = False

    def stop(self) -> None:
        self.pause()
        self._take = None

    def _ready(self) -> None:
        while self._take is not None and self._has_room():
            message = self.take()
            if message is None:
                return
            self._take(message)
        self.pause()

    async def recv(self) -> bytes:
        """The next message, when it comes; for a reader that is not streaming.

        Cancel it, or wrap it in a timeout, to bound it.
        """
        while (message := self.take()) is None:
            ready: asyncio.Future[None] = self._loop.create_future()
            self._loop.add_reader(self._fd, _wake, ready)
            try:
                await ready
            finally:
                self._loop.remove_reader(self._fd)
        return message


def _wake(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)
