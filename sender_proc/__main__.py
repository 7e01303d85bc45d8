"""`python -m sender_proc --config FILE`: how the supervisor starts a sender process."""

import argparse
import sys

# python-socketio tries at import every message-queue client it supports
# (socketio/*_manager.py); the sender uses none, and redis alone (installed
# for the receiver's sink) would cost every sender 8 MB and 0.1 s of start-up.
for _unused in ("redis", "valkey", "kombu", "aio_pika", "kafka", "aioredis"):
    sys.modules.setdefault(_unused, None)  # type: ignore[arg-type]  # import -> ImportError

from sender_proc.run import main  # noqa: E402

parser = argparse.ArgumentParser(prog="python -m sender_proc")
parser.add_argument("--config", required=True, help="JSON config written by the supervisor")
main(parser.parse_args().config)
