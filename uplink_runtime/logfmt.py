"""Log formats: ``text`` for people, ``json`` (one object per line) for machines.

Every process logs to stderr with its name and pid; the supervisor forwards
its children's stderr into its own, and gives each forwarded line the
child's name: a log line already carries it, anything else (a traceback, a
library's print) is stamped here. Imported by children: standard library only.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time

FORMATS = ("text", "json")
_TEXT_STAMP = re.compile(r"\d{4}-\d\d-\d\d ")  # a line from a text-format logger


class JsonFormatter(logging.Formatter):
    def __init__(self, process_name: str) -> None:
        super().__init__()
        self.process_name = process_name

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": _iso(record.created),
            "level": record.levelname,
            "process": self.process_name,
            "pid": record.process,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def setup(process_name: str, fmt: str = "text") -> None:
    """Configure the root logger on stderr; replaces any earlier configuration."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter(process_name))
    else:
        handler.setFormatter(
            logging.Formatter(
                f"%(asctime)s {process_name}[%(process)d] %(levelname)s %(name)s: %(message)s"
            )
        )
    level = os.environ.get("UPLINK_LOG_LEVEL", "INFO")
    logging.basicConfig(level=level, handlers=[handler], force=True)


def child_line(name: str, pid: int | None, line: str, fmt: str) -> str:
    """A line from a child's stderr as the supervisor writes it: always naming the child."""
    if fmt == "json":
        if line.startswith("{"):
            return line
        entry = {
            "ts": _iso(time.time()),
            "level": "STDERR",
            "process": name,
            "pid": pid,
            "msg": line,
        }
        return json.dumps(entry, ensure_ascii=False)
    return line if _TEXT_STAMP.match(line) else f"{name}[{pid}]: {line}"
