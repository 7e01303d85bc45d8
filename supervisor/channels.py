"""Everything the supervisor listens to, in one poller with one deadline.

Heartbeats (PULL), control requests (ROUTER) and every child's stderr pipe.
Reading stderr promptly matters: a child whose 64 KiB pipe fills blocks in
its next log call and would look hung. Control is a ROUTER, not a REP: a REP
that is handed a malformed message is stuck in the wrong state (EFSM) for
good, while a ROUTER takes whatever arrives as whole messages and answers
each REQ client by its identity. What the messages hold is checked by
supervisor.intake; here only their size is capped, in libzmq.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections import deque
from collections.abc import Callable
from typing import IO, Any, cast

import zmq

from supervisor.intake import MAX_CONTROL_BYTES, MAX_HEARTBEAT_BYTES
from supervisor.rundir import RunDir
from uplink_runtime.logfmt import child_line

logger = logging.getLogger(__name__)
_MAX_LINE = 8192
_BATCH = 256  # messages per socket per poll, so no source can starve the others


class LineReader:
    """Splits a non-blocking pipe into lines; keeps the newest in ``tail``."""

    def __init__(
        self, pipe: IO[bytes], tail: deque[str], name: str = "", pid: int | None = None
    ) -> None:
        self.pipe = pipe
        self.tail = tail
        self.name, self.pid = name, pid
        self._partial = b""
        os.set_blocking(pipe.fileno(), False)

    def read(self) -> tuple[list[str], bool]:
        """(complete lines, whether the pipe reached EOF)."""
        try:
            data = os.read(self.pipe.fileno(), 65536)
        except BlockingIOError:
            return [], False
        *lines, rest = (self._partial + data).split(b"\n")
        if not data and rest:
            lines, rest = [*lines, rest], b""
        if len(rest) > _MAX_LINE:
            lines, rest = [*lines, rest], b""
        self._partial = rest
        text = [line.decode("utf-8", "replace") for line in lines]
        self.tail.extend(text)
        return text, not data


class Channels:
    def __init__(self, ctx: zmq.Context[Any], run_dir: RunDir) -> None:
        self.stats = ctx.socket(zmq.PULL)
        self.stats.linger = 0
        self.stats.maxmsgsize = MAX_HEARTBEAT_BYTES + 1024  # bigger: libzmq drops the peer
        self.stats.bind(run_dir.endpoint("stats.sock"))
        self.control = ctx.socket(zmq.ROUTER)
        self.control.linger = 0
        self.control.maxmsgsize = MAX_CONTROL_BYTES + 1024
        self.control.bind(run_dir.endpoint("control.sock"))
        self.poller = zmq.Poller()
        self.poller.register(self.stats, zmq.POLLIN)
        self.poller.register(self.control, zmq.POLLIN)
        self.readers: dict[int, LineReader] = {}
        self.log_format = "text"

    def watch(
        self, pipe: IO[bytes] | None, tail: deque[str], name: str = "", pid: int | None = None
    ) -> None:
        if pipe is not None:
            self.readers[pipe.fileno()] = LineReader(pipe, tail, name, pid)
            self.poller.register(pipe.fileno(), zmq.POLLIN)

    def poll(
        self,
        timeout_ms: int,
        on_heartbeat: Callable[[list[bytes]], None],
        on_request: Callable[[list[bytes]], bytes],
    ) -> bool:
        """Hand each message's frames on; a request's reply goes back to its sender.

        True if more than heartbeats came: a request, or a child's stderr (its
        last words, or the end of the pipe when it exits).
        """
        more = False
        for item, _ in self.poller.poll(timeout_ms):
            if item is self.stats:
                for parts in self._drain(self.stats):
                    on_heartbeat(parts)
            elif item is self.control:
                more = True
                for identity, *parts in self._drain(self.control):
                    self._reply(identity, on_request(parts))
            elif isinstance(item, int):
                more = True
                self._forward(item)
        return more

    def _reply(self, identity: bytes, reply: bytes) -> None:
        # a client that went away, or does not read, loses its reply; we never wait
        with contextlib.suppress(zmq.Again, zmq.ZMQError):
            self.control.send_multipart([identity, b"", reply], zmq.NOBLOCK)

    def _drain(self, sock: zmq.Socket[Any], limit: int = _BATCH) -> list[list[bytes]]:
        out = []
        for _ in range(limit):
            if not cast(int, sock.get(zmq.EVENTS)) & zmq.POLLIN:  # cheaper than raising Again
                break
            out.append(sock.recv_multipart(zmq.NOBLOCK))
        return out

    def _forward(self, fd: int) -> None:
        reader = self.readers[fd]
        lines, eof = reader.read()
        for line in lines:
            print(child_line(reader.name, reader.pid, line, self.log_format), file=sys.stderr)
        sys.stderr.flush()
        if eof:
            self.poller.unregister(fd)
            del self.readers[fd]
            reader.pipe.close()

    def close(self) -> None:
        for reader in self.readers.values():
            reader.pipe.close()
        self.stats.close()
        self.control.close()
