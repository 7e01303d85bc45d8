"""Waiting for a condition, always with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def poll_for(condition: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    """Wait until condition() is truthy; fail the test (not hang) after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s: {condition}")
