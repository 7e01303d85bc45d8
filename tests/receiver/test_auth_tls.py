"""Token auth and TLS between the senders' Socket.IO client and the receiver."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from sender_proc import connect_opts
from sender_proc.connect_opts import ConnectOpts, tls_context
from sender_proc.sio_client import Client
from testkit.certs import make_ca, make_pki
from tests.receiver.test_receiver import tone_frame
from tests.receivers import start_receiver, stop_receiver
from tests.support import Procs
from uplink_runtime.auth import load_token
from uplink_runtime.errors import ConfigError

TOKEN = "s3cret-token-0123456789"


async def try_connect(url: str, opts: ConnectOpts) -> dict[str, Any] | str:
    """The receiver's ack of one good frame, or the connection error's text."""
    client = Client(url, auth=opts.auth(), ssl_context=opts.ssl_context)
    try:
        await client.connect(10)
    except Exception as exc:
        return f"refused: {exc!r}"
    replies: list[Any] = []
    acked = asyncio.Event()

    def on_ack(*reply: Any) -> None:
        replies.extend(reply)
        acked.set()

    ack_id = client.expect_ack(on_ack)
    try:
        client.emit("audio_data", tone_frame(0), ack_id)
        await asyncio.wait_for(acked.wait(), 10)
        reply: dict[str, Any] = replies[0]
        return reply
    finally:
        await client.close(1.0)


def test_only_clients_with_the_token_get_in(procs: Procs, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    out = tmp_path / "rec"
    url, proc = start_receiver(procs, out, "--auth-token-file", str(token_file))

    for opts in (ConnectOpts(), ConnectOpts(token="wrong"), ConnectOpts(token=TOKEN[:-1])):
        assert "refused" in str(asyncio.run(try_connect(url, opts)))
    assert asyncio.run(try_connect(url, ConnectOpts(token=TOKEN))) == {"ok": True}

    stats = stop_receiver(proc, out)
    assert stats["rejected_auth"] == 3
    assert stats["clients"] == 1 and stats["frames"] == 1


def test_receiver_without_the_token_file_exits_2(procs: Procs, tmp_path: Path) -> None:
    proc = procs.start(
        [sys.executable, "-m", "receiver", "--auth-token-file", str(tmp_path / "missing")],
        stderr=-1,
    )
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.fixture
def tls_receiver(procs: Procs, tmp_path: Path) -> tuple[str, Path, Path]:
    pki = make_pki(tmp_path)
    url, _ = start_receiver(procs, tmp_path / "rec", "--cert", str(pki.cert), "--key", str(pki.key))
    assert url.startswith("https://")
    return url, pki.ca, tmp_path


def test_tls_with_the_right_ca_is_accepted(tls_receiver: tuple[str, Path, Path]) -> None:
    url, ca, _ = tls_receiver
    opts = ConnectOpts(ssl_context=tls_context(url, str(ca), insecure=False))
    assert asyncio.run(try_connect(url, opts)) == {"ok": True}
    localhost = url.replace("127.0.0.1", "localhost")  # the name in the certificate works too
    assert asyncio.run(try_connect(localhost, opts)) == {"ok": True}


def test_tls_with_a_wrong_ca_or_no_ca_is_refused(tls_receiver: tuple[str, Path, Path]) -> None:
    url, _, tmp_path = tls_receiver
    wrong_ca, _, _ = make_ca(tmp_path, "wrong")
    for ca in (str(wrong_ca), None):  # None: the system's CAs, which never signed it
        opts = ConnectOpts(ssl_context=tls_context(url, ca, insecure=False))
        assert "refused" in str(asyncio.run(try_connect(url, opts)))


def test_tls_insecure_connects_and_says_so_loudly(
    tls_receiver: tuple[str, Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    url, _, _ = tls_receiver
    opts = ConnectOpts(ssl_context=tls_context(url, None, insecure=True))
    assert asyncio.run(try_connect(url, opts)) == {"ok": True}
    assert "TLS VERIFICATION IS OFF" in caplog.text


def test_plain_http_urls_get_no_tls_context() -> None:
    assert tls_context("http://127.0.0.1:1", None, insecure=False) is None


def test_a_token_over_plain_http_to_another_host_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token = tmp_path / "token"
    token.write_text(TOKEN)
    token.chmod(0o600)
    opts = connect_opts.build("http://127.0.0.1:9", str(token), None, insecure=False)
    assert opts.token == TOKEN and "clear text" not in caplog.text
    connect_opts.build("http://example.invalid:9", str(token), None, insecure=False)
    assert "auth token goes to example.invalid in clear text" in caplog.text
    assert TOKEN not in caplog.text and TOKEN not in repr(opts)


def test_a_token_file_others_can_read_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token = tmp_path / "token"
    token.write_text(TOKEN)
    token.chmod(0o644)
    assert load_token(str(token)) == TOKEN
    assert "readable by other users (mode 644): chmod 600 it" in caplog.text
    empty = tmp_path / "empty"
    empty.write_text(" \n")
    with pytest.raises(ConfigError, match="expected one token"):
        load_token(str(empty))
