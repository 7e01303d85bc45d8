"""ZeroMQ CURVE for the capture -> sender link when it leaves the machine (tcp://).

ipc:// sockets live in the 0700 run directory and need nothing more. Over
tcp:// anyone who can reach the port could pull the audio, so tcp:// is only
accepted with keys: capture (the binding side) is the CURVE server and admits
only the sender public keys in ``curve_dir``; senders are CURVE clients that
check the capture's public key. ``supervisor curve-keys DIR`` makes the files.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import zmq

from uplink_runtime.errors import ConfigError

if TYPE_CHECKING:
    from zmq.auth.thread import ThreadAuthenticator

# zmq.auth (and its thread, which loads asyncio) is imported only where keys are used:
# every child imports this module, few use CURVE.

logger = logging.getLogger(__name__)
SERVER, CLIENT = "capture", "sender"
CLIENTS_DIR = "senders"  # public keys of the senders the capture admits


def make_keys(directory: str) -> list[Path]:
    """capture.key(_secret), sender.key(_secret), and senders/sender.key; mode 0700/0600."""
    from zmq.auth import create_certificates

    root = Path(directory)
    _fresh_directory(root)
    made = []
    for name in (SERVER, CLIENT):
        public, secret = create_certificates(str(root), name)
        os.chmod(secret, 0o600)
        made += [Path(public), Path(secret)]
    clients = root / CLIENTS_DIR
    clients.mkdir(mode=0o700, exist_ok=True)
    admitted = clients / f"{CLIENT}.key"
    admitted.write_bytes((root / f"{CLIENT}.key").read_bytes())
    return [*made, admitted]


def _fresh_directory(root: Path) -> None:
    """Keys are written only into a directory of our own that holds nothing else.

    pyzmq writes the key files with a plain open(), which would follow a link
    planted in a directory someone else can write to.
    """
    try:
        root.mkdir(mode=0o700, parents=True)
        return
    except FileExistsError:
        pass
    info = root.lstat()
    if not root.is_dir() or root.is_symlink() or info.st_uid != os.getuid() or any(root.iterdir()):
        raise ConfigError(f"curve-keys: {root} exists; give a new or empty directory of your own")
    root.chmod(0o700)


def missing_files(directory: str) -> list[str]:
    root = Path(directory)
    wanted = [f"{SERVER}.key_secret", f"{SERVER}.key", f"{CLIENT}.key_secret", CLIENTS_DIR]
    return [name for name in wanted if not (root / name).exists()]


def serve(ctx: zmq.Context[Any], sock: zmq.Socket[Any], directory: str) -> ThreadAuthenticator:
    """Make ``sock`` a CURVE server admitting only known senders; stop() the result at exit."""
    from zmq.auth.thread import ThreadAuthenticator

    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_curve(domain="*", location=str(Path(directory) / CLIENTS_DIR))
    serve_also(sock, directory)
    logger.info("capture %d: CURVE on, admitting keys in %s", os.getpid(), directory)
    return auth


def serve_also(sock: zmq.Socket[Any], directory: str) -> None:
    """Another CURVE server socket on a context whose authenticator ``serve`` started."""
    from zmq.auth import load_certificate

    public, secret = load_certificate(str(Path(directory) / f"{SERVER}.key_secret"))
    sock.curve_secretkey = secret
    sock.curve_publickey = public
    sock.curve_server = True


def connect_as_client(sock: zmq.Socket[Any], directory: str) -> None:
    """Before connect: authenticate as a sender and insist on the capture's key."""
    from zmq.auth import load_certificate

    public, secret = load_certificate(str(Path(directory) / f"{CLIENT}.key_secret"))
    server_public, _ = load_certificate(str(Path(directory) / f"{SERVER}.key"))
    sock.curve_secretkey = secret
    sock.curve_publickey = public
    sock.curve_serverkey = server_public
