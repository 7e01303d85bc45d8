"""The package map holds: children and their shared runtime import nothing from supervisor/.

A child (capture_proc, sender_proc, receiver) runs what it needs from
uplink_runtime and uplink_frame; importing supervisor/ would load its option
tables and TOML parser into every child and tie the children to the parent.
bench/ and testkit/ run without the test suite: neither imports tests/, nor
starts one of its modules with ``python -m``.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHILDREN = ("capture_proc", "sender_proc", "receiver")
# Each package and the top-level packages it must never import.
FORBIDDEN = {
    **{child: ("supervisor",) for child in CHILDREN},
    "uplink_runtime": ("supervisor", *CHILDREN),
    "uplink_frame": ("supervisor", "uplink_runtime", *CHILDREN),
    "bench": ("tests",),
    "testkit": ("tests", "bench"),
}


def imported_packages(path: Path) -> set[tuple[int, str]]:
    """(line, top-level package) of every import in ``path``, lazy ones included.

    A module started as ``[..., "-m", "package.module", ...]`` counts as imported.
    """
    found: set[tuple[int, str]] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.List | ast.Tuple):
            found.update(
                (arg.lineno, arg.value.split(".")[0])
                for flag, arg in itertools.pairwise(node.elts)
                if isinstance(flag, ast.Constant) and flag.value == "-m"
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            )
        elif isinstance(node, ast.Import):
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
        "cmd = [sys.executable, '-m', 'supervisor.x']\n"
    )
    assert imported_packages(module) == {
        (1, "supervisor"),
        (2, "supervisor"),
        (4, "supervisor"),
        (5, "supervisor"),
    }
