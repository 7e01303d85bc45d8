"""What a user of the package expects: a version, a licence, types, help, and Linux only."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from supervisor.config.options import PARSERS
from tests.support import REPO, supervisor_cmd

PACKAGES = ("uplink_frame", "capture_proc", "sender_proc", "supervisor", "receiver")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        supervisor_cmd(*args), capture_output=True, text=True, timeout=60, check=False, env=env
    )


def test_version_is_the_one_in_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    result = run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"supervisor {project['version']}"


def test_every_start_flag_says_what_it_does_and_its_default() -> None:
    text = run("start", "--help").stdout
    flags = [k for k in PARSERS if k != "streams"]  # streams: [[streams]] tables only
    for key in flags:
        flag = "--no-pace" if key == "pace" else "--" + key.replace("_", "-")
        # the flag's own help: from the flag at the start of a line to the next flag
        match = re.search(rf"^  {flag}\b(.*?)(?=^  -|\Z)", text, re.M | re.S)
        assert match, f"{flag} missing from start --help"
        assert re.search(r"\(.*default: [^)]+\)", " ".join(match.group(1).split())), match.group(0)


def test_another_os_gets_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.platform = 'darwin'\n")
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = run("start", "--duration", "1", env=env)
    assert result.returncode == 2
    assert result.stderr == "supervisor: audio-uplink runs on Linux only, not darwin\n"


def test_the_wheel_carries_licence_types_and_linux_classifier(tmp_path: Path) -> None:
    source = tmp_path / "src"  # setuptools writes build/ into the tree it builds
    shutil.copytree(
        REPO, source, ignore=shutil.ignore_patterns(".*", "tests", "build", "*.egg-info")
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("audio_uplink-*.whl")
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        metadata = next(whl.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    assert {f"{package}/py.typed" for package in PACKAGES} <= names
    assert any(n.endswith("dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: MIT" in metadata.splitlines()
    assert "Classifier: Operating System :: POSIX :: Linux" in metadata.splitlines()
    assert "MIT License" in (REPO / "LICENSE").read_text()
