#!/usr/bin/env bash
# Prove the dependency floors: install the lowest version pyproject.toml allows
# of every runtime dependency into .venv-floor, then run the fast tests there.
# Run by scripts/test.sh; needs scripts/bootstrap.sh to have run (system packages).
# Reinstalls only when pyproject.toml changed. Extra arguments go to pytest.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FLOOR="$REPO/.venv-floor"
LOGS="$REPO/.venv-logs"
mkdir -p "$LOGS"
PY="${PYTHON:-$REPO/.venv/bin/python}"
# the tests that exercise each dependency's API: frames (msgpack, numpy), the
# sender's link (websockets), the receiver (aiohttp's server),
# metrics (prometheus-client), a whole pipeline refused and one delivered (pyzmq),
# the Redis sink (redis, the optional feature floor_pins.py pins too) and the format converter (soxr)
TESTS=(
    tests/frame/test_format.py
    tests/frame/test_batch.py
    tests/sender_proc
    tests/receiver/test_receiver.py
    tests/receiver/test_auth_tls.py
    tests/supervisor/test_metrics.py
    tests/e2e/test_refusal.py
    tests/redis/test_sink.py
    tests/capture_proc/test_convert.py
)

hash="$(sha256sum "$REPO/pyproject.toml" | cut -d' ' -f1)"
if [ ! -e "$FLOOR/.installed-$hash" ]; then
    rm -rf "$FLOOR"
    "$("$PY" -c 'import sys; print(sys._base_executable)')" -m venv "$FLOOR"
    "$PY" "$REPO/scripts/floor_pins.py" >"$FLOOR/constraints.txt"
    echo "floors: installing $(tr '\n' ' ' <"$FLOOR/constraints.txt")(log: $LOGS/floor-pip.log)"
    (cd "$REPO" && "$FLOOR/bin/python" -m pip install -q -c "$FLOOR/constraints.txt" -e ".[test,redis]") \
        >"$LOGS/floor-pip.log" 2>&1 || { cat "$LOGS/floor-pip.log" >&2; exit 1; }
    touch "$FLOOR/.installed-$hash"
fi
# show what was really installed, so a floor that pip could not honour is visible
"$FLOOR/bin/python" -m pip freeze 2>/dev/null \
    | grep -i -E '^(pyaudio|numpy|python-socketio|aiohttp|websockets|pyzmq|msgpack|prometheus.client|redis|soxr)==' \
    | tr '\n' ' ' || true
echo
cd "$REPO"
"$FLOOR/bin/python" -m pytest -n 2 -p no:cacheprovider "${TESTS[@]}" "$@"
