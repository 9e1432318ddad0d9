#!/usr/bin/env bash
# Runs the test command given as arguments, keeps its output, and ends with one plain line
# "N passed, N failed, N skipped" summed over every test assembly; exits with the command's status.
set -uo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
awk '
  /(Passed|Failed)!  - Failed:/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:")  { failed  += $(i+1) + 0 }
      if ($i == "Passed:")  { passed  += $(i+1) + 0 }
      if ($i == "Skipped:") { skipped += $(i+1) + 0 }
    }
    found = 1
  }
  END { if (found) printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped }
' "$log"
exit "$status"
