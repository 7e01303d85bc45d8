"""Print a pip constraints file pinning every runtime dependency to its floor.

pip has no "lowest versions" resolution: pinning each ``name>=X`` of
pyproject.toml's [project] dependencies, and of the optional features in
FLOORED_EXTRAS, to ``name==X`` gets the same.
A dependency without a floor is an error: its lowest version is unknown.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

FLOORED_EXTRAS = ("redis",)  # optional features whose code the floor run tests too
_FLOOR = re.compile(r"^\s*([A-Za-z0-9._-]+)\s*(?:\[[^\]]*\])?\s*[^;]*?>=\s*([0-9][^,;\s]*)")


def pins(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    dependencies = list(project["dependencies"])
    for extra in FLOORED_EXTRAS:
        dependencies += project["optional-dependencies"][extra]
    lines = []
    for requirement in dependencies:
        match = _FLOOR.match(requirement)
        if match is None:
            raise SystemExit(f"floor_pins: {requirement!r} has no >= floor")
        lines.append(f"{match.group(1)}=={match.group(2)}")
    return lines


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    print("\n".join(pins(Path(sys.argv[1]) if len(sys.argv) > 1 else root / "pyproject.toml")))
