"""``supervisor start``'s flags and their help, made from the declarations in keys.py.

A key's help line is written once, in its declaration; the default is
never repeated: it is read from the declaration too, or, where there is no
default value, what its absence means.
"""

from __future__ import annotations

import argparse

from supervisor.config.keys import KEYS, Flag, Key, default_text


def flag_help(k: Key) -> str:
    # argparse %-formats help text: a literal % must be doubled
    said = k.help if "default:" in k.help else f"{k.help} (default: {default_text(k)})"
    return said.replace("%", "%%")  # a switch's help may say its default its own way


def add_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per key that has one; an unset flag leaves the key to the file or default."""
    for k in KEYS:
        if k.flag_name is None:
            continue
        if k.flag is Flag.VALUE:
            parser.add_argument(
                k.flag_name,
                dest=k.name,
                default=argparse.SUPPRESS,
                metavar="VALUE",
                help=flag_help(k),
            )
        else:
            parser.add_argument(
                k.flag_name,
                dest=k.name,
                action="store_const",
                const=k.flag is Flag.SET_TRUE,
                default=argparse.SUPPRESS,
                help=flag_help(k),
            )
