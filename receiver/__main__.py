import argparse
from dataclasses import fields

from receiver.config import ReceiverConfig
from receiver.server import main

DEFAULT = {f.name: f.default for f in fields(ReceiverConfig)}  # the limits' one home

parser = argparse.ArgumentParser(prog="python -m receiver", description=main.__doc__)
parser.add_argument("--config", help="JSON config written by the supervisor")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
parser.add_argument("--out", default="recordings", help="directory for <stream>.wav")
parser.add_argument("--auth-token-file", help="require clients to present this token")
parser.add_argument("--cert", help="PEM certificate chain: serve https:// (needs --key)")
parser.add_argument("--key", help="PEM private key of --cert")
parser.add_argument("--max-message-bytes", type=int, default=1 << 20, help="largest frame")
# limits of receiver/sink.py, budget.py and streams.py (defaults in receiver/config.py)
parser.add_argument(
    "--max-streams", type=int, default=DEFAULT["max_streams"], help="stream epochs open at once"
)
parser.add_argument(
    "--idle-stream-s", type=float, default=DEFAULT["idle_stream_s"], help="idle stream closes"
)
parser.add_argument(
    "--max-segment-bytes", type=int, default=DEFAULT["max_segment_bytes"], help="WAV roll size"
)
parser.add_argument(
    "--max-stream-bytes", type=int, default=DEFAULT["max_stream_bytes"], help="disk per stream"
)
args = parser.parse_args()
if bool(args.cert) != bool(args.key):
    parser.error("--cert and --key go together")
main(
    args.config,
    args.host,
    args.port,
    args.out,
    require_auth=bool(args.auth_token_file),
    auth_token_file=args.auth_token_file,
    cert_file=args.cert,
    key_file=args.key,
    max_message_bytes=args.max_message_bytes,
    max_streams=args.max_streams,
    idle_stream_s=args.idle_stream_s,
    max_segment_bytes=args.max_segment_bytes,
    max_stream_bytes=args.max_stream_bytes,
)
