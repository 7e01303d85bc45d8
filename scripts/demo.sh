#!/usr/bin/env bash
# Demo: stream a 10 s test tone through the whole pipeline, then show the outputs.
# Extra arguments are passed to `supervisor start` (e.g. --duration 30).
set -euo pipefail
# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

report="$REPO/demo-report.json"
recordings="$REPO/recordings"
supervisor start --source tone --duration 10 \
    --report "$report" --recordings "$recordings" "$@"

# The WAV name is chosen by the receiver, so show the newest one.
wav="$(find "$recordings" -name '*.wav' -printf '%T@ %p\n' 2>/dev/null | sort -n | tail -n 1 | cut -d' ' -f2-)"
echo "WAV:    ${wav:-none found in $recordings}"
echo "Report: $report"
