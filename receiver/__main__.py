import argparse

from receiver.server import main

parser = argparse.ArgumentParser(prog="python -m receiver", description=main.__doc__)
parser.add_argument("--config", help="JSON config written by the supervisor")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
parser.add_argument("--out", default="recordings", help="directory for <stream>.wav")
args = parser.parse_args()
main(args.config, args.host, args.port, args.out)
