"""What every bench program needs, checked before it imports any of it.

scripts/bootstrap.sh installs all of it (the ``bench`` extra) into .venv; a
program run by another interpreter says so in one line instead of a traceback.
"""

from __future__ import annotations

import importlib.util
import sys

_NEEDS = {
    "supervisor": "audio-uplink",
    "socketio": "python-socketio",
    "zmq": "pyzmq",
    "numpy": "numpy",
    "websocket": "websocket-client",  # the tutorial's sync client (bench/naive_loop.py)
    "redis": "redis",  # bench/ingest.py (the redis extra)
}


def check() -> None:
    missing = [
        package for module, package in _NEEDS.items() if not importlib.util.find_spec(module)
    ]
    if missing:
        print(
            f"bench: {', '.join(missing)} not installed: run scripts/bootstrap.sh, then "
            f".venv/bin/python {sys.argv[0]} (or pip install -e '.[bench,redis]')",
            file=sys.stderr,
        )
        sys.exit(2)


check()
