#!/usr/bin/env bash
# Lint, type-check and test the project. Runs every step even if an earlier one
# fails (to show all problems at once); exits non-zero if any step failed.
# Extra arguments go to pytest (e.g. scripts/test.sh -k frame).
set -euo pipefail
# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$REPO"

failed=()
step() {
    echo "== $*"
    # Any non-zero status fails, including pytest's 5 ("no tests collected"):
    # a suite that collects nothing must not pass.
    "$@" || failed+=("$1 (exit $?)")
}

step ruff check .
step mypy            # files and strictness come from pyproject.toml
step pytest -n 2 "$@"  # pytest-xdist; per-test timeouts come from pyproject.toml
step bash scripts/floors.sh -q  # the fast tests again, on the lowest allowed dependencies

if [ "${#failed[@]}" -gt 0 ]; then
    echo "FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "all checks passed"
