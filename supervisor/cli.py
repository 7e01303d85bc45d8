"""The ``supervisor`` command line: parses, builds one Options, hands it on."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any, NoReturn

from supervisor.config.check import check_config
from supervisor.config.flaghelp import add_flags
from supervisor.config.options import Options, build, load_toml
from supervisor.ops.control import ControlError, format_status, request
from supervisor.ops.devices import list_devices
from uplink_runtime import logfmt
from uplink_runtime.child import EXIT_CONFIG
from uplink_runtime.curve import make_keys
from uplink_runtime.errors import ConfigError

EXIT_NO_SUPERVISOR = 1


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message} (see --help)", file=sys.stderr)
        sys.exit(EXIT_CONFIG)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="supervisor", description="audio-uplink process supervisor")
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    start = commands.add_parser("start", help="run the pipeline until stopped")
    start.add_argument(
        "--config",
        dest="config_file",
        metavar="FILE",
        help="TOML file with the same keys as the flags (flags win)",
    )
    add_flags(start)
    keys = commands.add_parser("curve-keys", help="make CURVE keys for capture_bind = tcp://")
    keys.add_argument("dir", help="directory to create (mode 0700) and use as curve_dir")
    check = commands.add_parser("check-config", help="validate a TOML file, print the result")
    check.add_argument("file", help="the TOML file supervisor start --config would read")
    commands.add_parser("devices", help="list the audio input devices --source mic can use")
    status = commands.add_parser("status", help="show the running supervisor's processes")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    commands.add_parser("stop", help="stop the running supervisor cleanly")
    restart = commands.add_parser("restart", help="replace one process (senders overlap)")
    restart.add_argument("name", help="capture, sender-N or receiver")
    scale = commands.add_parser("scale", help="change the number of sender processes")
    scale.add_argument("role", choices=["senders"])
    scale.add_argument("n", type=int, help="how many senders to run")
    for sub in (status, commands.choices["stop"], restart, scale):
        sub.add_argument(
            "--run-dir",
            dest="run_dir",
            default=None,
            help="the supervisor's runtime directory (default: as for start)",
        )
    return parser


class _Version(argparse.Action):
    """argparse's --version, but the version is looked up only when asked for."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="show program's version number and exit",
        )

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> NoReturn:
        print(f"{parser.prog} {_version()}")
        parser.exit()


def _version() -> str:
    import importlib.metadata  # 30 ms of imports (email among them) that only --version needs

    try:
        return importlib.metadata.version("audio-uplink")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "(not installed)"


def main(argv: list[str] | None = None) -> None:
    if sys.platform != "linux":  # prctl, /proc, ipc:// paths, PortAudio's ALSA: Linux only
        print(f"supervisor: audio-uplink runs on Linux only, not {sys.platform}", file=sys.stderr)
        sys.exit(EXIT_CONFIG)
    args = vars(_parser().parse_args(argv))
    command = args.pop("command")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s supervisor %(levelname)s: %(message)s"
    )
    try:
        if command == "start":
            sys.exit(_start(args))
        if command == "curve-keys":
            for path in make_keys(args["dir"]):
                print(path)
            sys.exit(0)
        if command == "check-config":
            sys.exit(check_config(args["file"]))
        if command == "devices":
            sys.exit(list_devices())
        sys.exit(_control(command, args))
    except ConfigError as exc:
        print(f"supervisor: {exc}", file=sys.stderr)
        sys.exit(EXIT_CONFIG)
    except ControlError as exc:
        print(f"supervisor: {exc}", file=sys.stderr)
        sys.exit(EXIT_NO_SUPERVISOR)


def _start(args: dict[str, Any]) -> int:
    from supervisor.run import start  # the control commands need none of the pipeline

    config_file = args.pop("config_file", None)
    options = build(load_toml(config_file) if config_file else {}, args)
    logfmt.setup("supervisor", options.log_format)
    os.umask(0o077)  # sockets, child configs, recordings, reports: readable by us only
    return start(options)


def _control(command: str, args: dict[str, Any]) -> int:
    run_dir = Options(run_dir=args.get("run_dir")).resolved_run_dir()
    message: dict[str, Any] = {"cmd": command}
    if command == "restart":
        message["name"] = args["name"]
    if command == "scale":
        message["n"] = args["n"]
    reply = request(run_dir, message)
    if command == "status":
        print(json.dumps(reply, indent=2) if args["json"] else format_status(reply))
    elif command == "restart":
        print(f"supervisor: {reply['name']} is being replaced")
    elif command == "scale":
        print(f"supervisor: scaling to {reply['senders']} senders")
    else:
        print("supervisor: stopping")
    return 0
