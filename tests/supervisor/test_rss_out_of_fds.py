"""A child out of file descriptors still reports its RSS (issue 14 item 4: it read 0.0)."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import os, resource
from uplink_runtime.child import rss_mb
resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
first = rss_mb()  # the first heartbeat, at start
held = []
try:
    while True:
        held.append(os.open("/dev/null", os.O_RDONLY))
except OSError:
    pass
print(first, rss_mb())
"""


def test_rss_reads_with_no_file_descriptor_left() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60, check=True
    )
    first, out_of_fds = map(float, out.stdout.split())
    assert first > 0 and out_of_fds > 0
