"""The configuration table in the documentation is the one the key declarations generate."""

from __future__ import annotations

from supervisor.config import table
from supervisor.config.keys import KEYS


def test_the_committed_table_is_the_generated_one() -> None:
    committed = table.committed(table.TABLE_FILE.read_text())
    assert committed == table.table(), (
        f"{table.TABLE_FILE.name}'s configuration table is stale; "
        "run: python -m supervisor.config.table --write"
    )


def test_every_key_has_a_row_that_says_what_it_means() -> None:
    rows = table.table().splitlines()[2:]
    assert len(rows) == len(KEYS)
    for key, row in zip(KEYS, rows, strict=True):
        assert row.startswith(f"| `{key.name}`") and key.doc in row, row


def test_rewriting_replaces_only_what_is_between_the_markers() -> None:
    text = f"before\n{table.BEGIN}\n| old |\n{table.END}\nafter\n"
    new = table.rewritten(text)
    assert new.startswith("before\n") and new.endswith("after\n")
    assert table.committed(new) == table.table()
