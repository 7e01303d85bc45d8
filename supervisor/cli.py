"""The ``supervisor`` command line: parses, builds one Options, hands it on."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import NoReturn

from supervisor.child import EXIT_CONFIG
from supervisor.config import PARSERS, ConfigError, build, load_toml


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message} (see --help)", file=sys.stderr)
        sys.exit(EXIT_CONFIG)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="supervisor", description="audio-uplink process supervisor")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    start = commands.add_parser("start", help="run the pipeline until stopped")
    start.add_argument(
        "--config",
        dest="config_file",
        metavar="FILE",
        help="TOML file with the same keys as the flags (flags win)",
    )
    for key in PARSERS:
        if key == "pace":
            continue
        flag = "--" + key.replace("_", "-")
        start.add_argument(flag, dest=key, default=argparse.SUPPRESS, metavar="VALUE")
    start.add_argument(
        "--no-pace",
        dest="pace",
        action="store_const",
        const=False,
        default=argparse.SUPPRESS,
        help="run tone/file sources as fast as possible",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = vars(_parser().parse_args(argv))
    command = args.pop("command")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s supervisor %(levelname)s: %(message)s"
    )
    if command == "start":
        from supervisor.run import start

        config_file = args.pop("config_file", None)
        try:
            options = build(load_toml(config_file) if config_file else {}, args)
            sys.exit(start(options))
        except ConfigError as exc:
            print(f"supervisor: {exc}", file=sys.stderr)
            sys.exit(EXIT_CONFIG)
