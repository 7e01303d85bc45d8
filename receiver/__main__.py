"""`python -m receiver`: the reference receiver on its own (flags), or `consume` from Redis."""

import argparse
import dataclasses
import sys

from receiver.config import ReceiverConfig

if sys.argv[1:2] == ["consume"]:
    from receiver.consume_cli import run

    run(sys.argv[2:])
from receiver.server import main

# hostile-peer limits: flags named after their ReceiverConfig field, defaults from there
_LIMITS = {
    "max_sessions": "Engine.IO sessions at once (also capped by the fd limit)",
    "max_sessions_per_peer": "sessions at once from one address",
    "session_rate": "new sessions a second from one address",
    "auth_timeout_ms": "close a session not authenticated within this",
    "max_attachments": "binary attachments per Socket.IO packet",
    "max_pending_attachment_bytes": "incomplete attachments held, all connections",
    "attachment_timeout_ms": "close a connection whose attachments do not all come within this",
    # receiver/sink.py, budget.py and streams.py
    "max_streams": "stream epochs open at once",
    "idle_stream_s": "a stream idle this long is closed",
    "max_segment_bytes": "a WAV segment rolls at this size",
    "max_stream_bytes": "disk one stream may fill",
}
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(ReceiverConfig)}

parser = argparse.ArgumentParser(
    prog="python -m receiver", description=main.__doc__, epilog="python -m receiver consume --help"
)
parser.add_argument("--config", help="JSON config written by the supervisor")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
parser.add_argument(
    "--out", default="recordings", help="directory for stats.json (and <stream>.wav: wav sink)"
)
parser.add_argument(
    "--sink",
    default="",
    help="wav:DIR (default: wav:OUT) or redis://HOST:PORT/DB; "
    "`python -m receiver consume --help` reads Redis back into WAV files",
)
parser.add_argument(
    "--retain-s",
    type=float,
    default=_DEFAULTS["retain_s"],
    help="seconds of audio each Redis stream key keeps (%(default)s)",
)
parser.add_argument("--auth-token-file", help="require clients to present this token")
parser.add_argument("--cert", help="PEM certificate chain: serve https:// (needs --key)")
parser.add_argument("--key", help="PEM private key of --cert")
parser.add_argument("--max-message-bytes", type=int, default=1 << 20, help="largest frame")
for name, help_text in _LIMITS.items():
    flag = "--" + name.replace("_", "-")
    kind = type(_DEFAULTS[name])
    parser.add_argument(flag, type=kind, default=_DEFAULTS[name], help=f"{help_text} (%(default)s)")
args = parser.parse_args()
if bool(args.cert) != bool(args.key):
    parser.error("--cert and --key go together")
main(
    args.config,
    args.host,
    args.port,
    args.sink[4:] if args.sink.startswith("wav:") else args.out,  # stats.json beside the WAVs
    require_auth=bool(args.auth_token_file),
    auth_token_file=args.auth_token_file,
    cert_file=args.cert,
    key_file=args.key,
    max_message_bytes=args.max_message_bytes,
    sink=args.sink,
    retain_s=args.retain_s,
    **{name: getattr(args, name) for name in _LIMITS},
)
