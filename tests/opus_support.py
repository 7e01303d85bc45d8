"""Take the codec away from one child interpreter, as on a machine without it.

A ``sitecustomize`` on the child's PYTHONPATH runs before its main module:
it removes what a machine without the opus extra (or without libopus) lacks,
and nothing else. The test process itself keeps its codec.
"""

from __future__ import annotations

from pathlib import Path

NO_OPUSLIB = """
import importlib.abc, sys
class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("opuslib", "opuslib_next"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _NotInstalled())
"""
# the real opuslib(-next) then fails the way it does without libopus: it asks ctypes for it
NO_LIBOPUS = """
import ctypes.util
_find = ctypes.util.find_library
ctypes.util.find_library = lambda name: None if name == "opus" else _find(name)
import os.path  # opuslib-next then looks in a few fixed paths: none of them is there
_exists = os.path.exists
os.path.exists = lambda path: "libopus" not in str(path) and _exists(path)
"""
OPUSLIB_HINT = "needs the Python package opuslib-next: pip install 'audio-uplink[opus]'"
LIBOPUS_HINT = "needs the system library libopus: apt-get install libopus0"


def env_without(code: str, directory: Path) -> dict[str, str]:
    """Environment additions for a child that must run without the codec."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sitecustomize.py").write_text(code)
    return {"PYTHONPATH": str(directory)}
