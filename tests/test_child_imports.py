"""Each child loads only what it uses, checked in a fresh interpreter as the supervisor starts it.

test_layout.py reads the import statements; this test looks at what an
import really loads, dependencies' own imports and package ``__init__``
side effects included. Every module listed here costs a restart its import
time and every child its memory (docs/lean.md has the figures).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVERY_CHILD = ("supervisor", "tomllib", "tomli")
# Each child as the supervisor starts it (``python -m PACKAGE``, here with --help so it
# stops after its imports), then code its start-up runs; and what it must not load.
CHILDREN = {
    "capture": (
        "capture_proc",
        """
from capture_proc.config import CaptureConfig
from capture_proc.encoding import FrameMaker
from capture_proc.sources import open_source
from uplink_frame import encode
from uplink_runtime.child import ChildSpec

spec = ChildSpec("capture", "capture", "ipc:///nowhere", 1)
config = CaptureConfig(spec, "main", "tone", "ipc:///nowhere-either")
source = open_source(config.source, config.rate, config.channels, config.samples_per_frame)
encode(FrameMaker(config).make(0, 0.0, source.read(0)))
""",
        # asyncio: the sender's; _hashlib: 5 MB of OpenSSL (secrets, hmac, hashlib load it).
        # numpy: the tone needs none, and the level meter loads it only for large frames
        ("aiohttp", "socketio", "engineio", "asyncio", "_hashlib", "numpy"),
    ),
    # aiohttp, python-socketio: the receiver's; the sender speaks sender_proc/sio_wire.py
    "sender": ("sender_proc", "", ("numpy", "redis", "aiohttp", "socketio", "engineio")),
    "receiver": ("receiver", "", ("numpy",)),
}
_AS_STARTED = """
import runpy, sys
sys.argv = ["{0}", "--help"]
try:
    runpy.run_module("{0}", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
"""


def loaded_by(code: str) -> set[str]:
    """Top-level names of the modules loaded after ``code`` ran in a fresh interpreter.

    A name mapped to None is a module kept out on purpose.
    """
    probe = (
        f"{code}\nimport json as _json, sys as _sys\n"
        "print(_json.dumps(sorted(k for k, v in _sys.modules.items() if v is not None)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return {name.split(".")[0] for name in json.loads(done.stdout.splitlines()[-1])}


@pytest.mark.parametrize("child", sorted(CHILDREN))
def test_child_loads_nothing_it_does_not_use(child: str) -> None:
    package, code, forbidden = CHILDREN[child]
    wrong = sorted(loaded_by(_AS_STARTED.format(package) + code) & {*EVERY_CHILD, *forbidden})
    assert not wrong, f"starting the {child} loads {', '.join(wrong)}"


def test_the_check_sees_a_module_loaded_by_a_dependency() -> None:
    """Not blind: a module that only a dependency imports (socketio -> engineio) is seen."""
    assert {"socketio", "engineio"} <= loaded_by("import socketio")
