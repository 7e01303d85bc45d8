"""``python -m receiver consume``: its flags, then receiver/consume.py."""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys

from receiver.consume import ConsumerConfig, consume
from receiver.sinks import SinkDown, parse_sink
from uplink_runtime.child import EXIT_CONFIG, EXIT_CRASH, EXIT_OK

logger = logging.getLogger(__name__)


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m receiver consume", description=consume.__doc__)
    parser.add_argument("--from", dest="url", required=True, help="redis://HOST:PORT/DB")
    parser.add_argument("--sink", default="wav:recordings", help="wav:DIR (%(default)s)")
    parser.add_argument("--group", default="wav", help="consumer group (%(default)s)")
    parser.add_argument(
        "--consumer",
        default=f"wav-{socket.gethostname()}",
        help="name in the group; keep it across restarts (%(default)s)",
    )
    parser.add_argument("--batch", type=int, default=256, help="entries read at once (%(default)s)")
    args = parser.parse_args(argv)
    try:
        sink = parse_sink(args.sink)
    except ValueError as exc:
        parser.error(str(exc))
    if sink.kind != "wav":
        parser.error("the consumer writes WAV files: --sink wav:DIR")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = ConsumerConfig(args.url, sink.target, args.group, args.consumer, args.batch)
    try:
        asyncio.run(consume(config))
    except (SinkDown, ValueError, OSError) as exc:
        print(f"consumer: {exc}", file=sys.stderr)
        sys.exit(EXIT_CONFIG)
    except Exception:
        logger.exception("consumer crashed")
        sys.exit(EXIT_CRASH)
    sys.exit(EXIT_OK)
