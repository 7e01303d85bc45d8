"""Fixtures: a real redis-server per test, in the test's own temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.redis.services import RedisServer
from tests.support import Procs


@pytest.fixture
def redis_server(procs: Procs, tmp_path: Path) -> RedisServer:
    server = RedisServer(procs, tmp_path / "redis")
    server.start()
    return server
