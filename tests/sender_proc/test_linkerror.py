"""A failed connect is named by its real cause, found on the exception chain."""

from __future__ import annotations

import asyncio
import socket
import ssl

import pytest

from sender_proc.linkerror import Failure, LinkError, classify, server_reason
from sender_proc.sio_client import Client
from supervisor.outcome import LinkWatch
from uplink_runtime.net import free_port


def wrapped(cause: BaseException) -> BaseException:
    """A cause hidden the way libraries do: another error raised while handling it."""
    try:
        try:
            raise cause
        except Exception:
            raise ConnectionError("Connection error") from None
    except ConnectionError as exc:
        exc.__context__ = cause
        wrapper: BaseException = exc
        return wrapper


def real_failure(url: str) -> BaseException:
    """What the senders' client really raises for ``url``."""

    async def attempt() -> BaseException:
        try:
            await Client(url).connect(10)
        except Exception as exc:
            return exc
        raise AssertionError(f"{url} answered")

    return asyncio.run(attempt())


def test_nothing_listening_is_connection_refused() -> None:
    port = free_port()  # released again: nothing listens
    error = classify(f"http://127.0.0.1:{port}", real_failure(f"http://127.0.0.1:{port}"), None)
    assert error.kind is Failure.CONNECTION_REFUSED
    assert error.describe() == f"server http://127.0.0.1:{port} unreachable: connection refused"


@pytest.mark.parametrize(
    ("cause", "kind", "detail"),
    [
        (socket.gaierror(-2, "Name or service not known"), Failure.DNS, "DNS lookup failed"),
        (TimeoutError(), Failure.TIMEOUT, "timed out"),
        (ssl.SSLError(1, "wrong version number"), Failure.TLS, "TLS handshake failed"),
        (RuntimeError("odd\x1b[2J"), Failure.OTHER, "Connection error"),
    ],
)
def test_each_cause_has_its_own_words(cause: BaseException, kind: Failure, detail: str) -> None:
    error = classify("http://h:1", wrapped(cause), None)
    assert (error.kind, error.detail) == (kind, detail)


def test_openssl_reason_is_kept() -> None:
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cause.verify_message = "self-signed certificate"
    error = classify("https://h:1", wrapped(cause), None)
    assert error.describe() == (
        "server https://h:1 unreachable: TLS verification failed (self-signed certificate)"
    )


def test_a_server_refusal_wins_and_is_cleaned() -> None:
    reason = server_reason({"message": "bad\ntoken" + "x" * 500})
    assert reason is not None and "\n" not in reason and len(reason) == 200
    assert server_reason("Connection error") is None  # transport failures are not refusals
    error = classify("http://h:1", wrapped(TimeoutError()), server_reason({"message": "no"}))
    assert error.describe() == "server http://h:1 refused the connection: no"


def test_only_a_refusal_before_any_link_was_up_stops_the_run() -> None:
    refused = LinkError(Failure.REFUSED, "http://h:1", "unauthorized").to_info()
    watch = LinkWatch()
    assert watch.observe("sender-1", {"link_error": refused}) == (
        "server http://h:1 refused the connection: unauthorized"
    )
    watch = LinkWatch()
    watch.observe("sender-1", {"connected": True, "reconnects": 1, "link_error": None})
    assert watch.observe("sender-1", {"reconnects": 1, "link_error": refused}) is None
    assert watch.observe("sender-1", {"link_error": {"kind": "made-up", "text": 1}}) is None


def test_a_run_that_delivered_nothing_names_why() -> None:
    watch = LinkWatch()
    assert watch.undelivered({"captured": 10, "acked": 0, "written": 0}) == (
        "nothing delivered (10 frames captured, none acked): no sender connected to the server"
    )
    assert watch.undelivered({"captured": 10, "acked": 0, "written": 1}) is None
    assert watch.undelivered({"captured": 0, "acked": 0, "written": 0}) is None
