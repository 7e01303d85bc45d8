"""The package map holds: children and their shared runtime import nothing from supervisor/.

A child (capture_proc, sender_proc, receiver) runs what it needs from
uplink_runtime and uplink_frame; importing supervisor/ would load its option
tables and TOML parser into every child and tie the children to the parent.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHILDREN = ("capture_proc", "sender_proc", "receiver")
# Each package and the top-level packages it must never import.
FORBIDDEN = {
    **{child: ("supervisor",) for child in CHILDREN},
    "uplink_runtime": ("supervisor", *CHILDREN),
    "uplink_frame": ("supervisor", "uplink_runtime", *CHILDREN),
}


def imported_packages(path: Path) -> set[tuple[int, str]]:
    """(line, top-level package) of every import in ``path``, lazy ones included."""
    found: set[tuple[int, str]] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add((node.lineno, node.module.split(".")[0]))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_nothing_it_must_not(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {top}"
        for path in files
        for line, top in sorted(imported_packages(path))
        if top in FORBIDDEN[package]
    ]
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_an_import(tmp_path: Path) -> None:
    """The check is not blind: both import forms and a lazy import are found."""
    module = tmp_path / "m.py"
    module.write_text(
        "import supervisor.run\nfrom supervisor.ops import status\n"
        "def f():\n    from supervisor import cli\n"
    )
    assert imported_packages(module) == {(1, "supervisor"), (2, "supervisor"), (4, "supervisor")}
