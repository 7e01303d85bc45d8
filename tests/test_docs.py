"""The README stays a short guide, and every link in it and in docs/ leads somewhere.

Anchors are checked the way GitHub makes them from headings: lower case,
punctuation dropped, spaces to dashes, a repeated heading suffixed -1, -2.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from tests.support import REPO

README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
MAX_README_LINES = 200

FENCE = re.compile(r"^(```|~~~)")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
INLINE_CODE = re.compile(r"`[^`]*`")


def prose_lines(path: Path) -> list[str]:
    """The lines outside fenced code blocks, inline code removed."""
    lines: list[str] = []
    fenced = False
    for line in path.read_text().splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: Counter[str] = Counter()
    found: set[str] = set()
    for line in prose_lines(path):
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*$", line)
        if not match:
            continue
        base = slug(match.group(1))
        found.add(f"{base}-{seen[base]}" if seen[base] else base)
        seen[base] += 1
    return found


def links() -> list[tuple[str, str]]:
    """(file, target) for every relative link in README.md and docs/*.md."""
    out: list[tuple[str, str]] = []
    for path in [README, *DOCS]:
        for line in prose_lines(path):
            for target in LINK.findall(INLINE_CODE.sub("", line)):
                if not re.match(r"^[a-z][a-z+.-]*:", target):  # http:, https:, mailto:
                    out.append((str(path.relative_to(REPO)), target))
    return out


def test_readme_is_a_short_guide() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md: {len(lines)} lines, over {MAX_README_LINES}"
    headings = [line for line in prose_lines(README) if line.startswith("## ")]
    for section in ("## Quick start", "## The processes", "## Layout"):
        assert section in headings, f"README.md has no {section!r} section"


def test_quick_start_is_two_commands() -> None:
    text = README.read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block, "Quick start has no sh block"
    lines = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    commands = [line for line in lines if line]
    assert commands == ["scripts/demo.sh", "scripts/test.sh"]


def test_there_are_links_to_check() -> None:
    assert len(links()) > 30  # the parser found the links, so the test below is not vacuous


@pytest.mark.parametrize(("source", "target"), links())
def test_link_leads_somewhere(source: str, target: str) -> None:
    path_part, _, anchor = target.partition("#")
    page = (REPO / source).parent / path_part if path_part else REPO / source
    assert page.exists(), f"{source}: link to {target!r}: no file {page.relative_to(REPO)}"
    if anchor and page.suffix == ".md":
        assert anchor in anchors(page), f"{source}: link to {target!r}: no heading makes #{anchor}"


def test_every_benchmark_names_its_command_and_machine() -> None:
    text = (REPO / "docs" / "benchmarks.md").read_text()
    sections = text.split("\n## ")[1:]
    assert len(sections) >= 9
    for section in sections:
        title = section.splitlines()[0]
        assert "Machine:" in section, f"benchmarks.md, {title}: no machine"
        command = re.search(r"Command:\s+`python bench/\w+\.py", section)
        assert command, f"benchmarks.md, {title}: no command"
    for bench in sorted((REPO / "bench").glob("[a-z]*.py")):
        named = f"bench/{bench.name}"
        helper = bench.stem == "hostile_attacks"  # the attacks bench/hostile.py runs, no table
        assert named in text or helper, f"docs/benchmarks.md does not show what {named} prints"


def layout_rows() -> dict[str, str]:
    """The README's Layout table: path -> its job cell."""
    table = README.read_text().split("## Layout", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([\w/]+/)` \| (.*) \|$", table, re.M)
    return dict(rows)


def test_layout_is_the_map() -> None:
    """Every package has a row, and a package's row names exactly its modules."""
    rows = layout_rows()
    packages = {f"{p.parent.relative_to(REPO)}/" for p in REPO.glob("*/__init__.py")}
    packages |= {f"{p.parent.relative_to(REPO)}/" for p in REPO.glob("supervisor/*/__init__.py")}
    packages.discard("tests/")
    assert packages, "no packages found"
    for folder in sorted(packages | {"bench/", "scripts/", "docs/", "tests/"}):
        assert folder in rows, f"README's Layout table has no row for {folder}"
    for folder in sorted(packages | {"scripts/"}):
        named = set(re.findall(r"`(\w+\.(?:py|sh))`", rows[folder]))
        files = {f.name for f in (REPO / folder).iterdir() if f.suffix in (".py", ".sh")}
        files -= {"__init__.py", "__main__.py"}
        assert named == files, (
            f"README's Layout row for {folder}: not there {sorted(named - files)}, "
            f"not named {sorted(files - named)}"
        )
