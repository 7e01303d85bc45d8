"""A per-run token for the embedded receiver, so it is never open to other local users.

When the user configured no token, the supervisor makes one for the run: a
random secret in a file of mode 0600 inside the private run directory, handed
to the embedded receiver (which then requires it) and to its own senders, and
to nothing else. A user's own token, when there is one, is used as is.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

TOKEN_FILE = "run-token"  # exact name: the run directory's cleaner may remove it by name


def write_run_token(run_dir: Path) -> str:
    """A fresh token in ``run_dir/run-token`` (0600, never through a symlink); its path."""
    path = run_dir / TOKEN_FILE
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a previous run's; unlink removes a planted symlink, not its target
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(32) + "\n")
    return str(path)
