"""The one error a bad configuration raises, shared by the supervisor and its children."""

from __future__ import annotations


class ConfigError(ValueError):
    """A bad key or value; the message is the one line the user sees."""
