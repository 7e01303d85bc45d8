import argparse

from receiver.server import main

parser = argparse.ArgumentParser(prog="python -m receiver", description=main.__doc__)
parser.add_argument("--config", help="JSON config written by the supervisor")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
parser.add_argument("--out", default="recordings", help="directory for <stream>.wav")
parser.add_argument("--auth-token-file", help="require clients to present this token")
parser.add_argument("--cert", help="PEM certificate chain: serve https:// (needs --key)")
parser.add_argument("--key", help="PEM private key of --cert")
parser.add_argument("--max-message-bytes", type=int, default=1 << 20, help="largest frame")
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
)
