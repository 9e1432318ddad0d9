#!/usr/bin/env bash
# Runs the dotnet test command given as arguments (adding a TRX logger to it), keeps its output,
# and ends with the skipped tests grouped by their reason, then one plain line
# "N passed, N failed, N skipped" summed over every test assembly; exits with the command's status.
# The console logger at its default verbosity names skipped tests but not why; the TRX has why.
set -uo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$@" --logger "trx;LogFileName=test-summary.trx" --results-directory "$work" 2>&1 | tee "$work/log"
status=${PIPESTATUS[0]}

if [[ -f $work/test-summary.trx ]]; then
  # Each skipped test is a <UnitTestResult testName="…" outcome="NotExecuted"> whose reason is
  # the <Message> of its <ErrorInfo> (possibly several lines). Prints "reason<TAB>name" lines.
  awk '
    function unescape(s) {
      gsub(/&quot;/, "\"", s); gsub(/&apos;/, "\047", s); gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s)
      gsub(/&#xA;/, " ", s); gsub(/&#xD;/, "", s); gsub(/&amp;/, "\\&", s)
      return s
    }
    /<UnitTestResult / {
      skipped = ($0 ~ /outcome="NotExecuted"/)
      name = $0; sub(/.* testName="/, "", name); sub(/".*/, "", name)
      reason = ""; inmessage = 0
    }
    skipped && /<Message>/ { inmessage = 1; line = $0; sub(/.*<Message>/, "", line); reason = line }
    skipped && inmessage && !/<Message>/ { reason = reason " " $0 }
    skipped && inmessage && /<\/Message>/ {
      sub(/<\/Message>.*/, "", reason); gsub(/[ \t]+/, " ", reason); sub(/^ /, "", reason)
      printf "%s\t%s\n", unescape(reason), unescape(name)
      inmessage = 0; skipped = 0
    }
    skipped && /<\/UnitTestResult>/ { printf "%s\t%s\n", "(no reason given)", unescape(name); skipped = 0 }
  ' "$work/test-summary.trx" | LC_ALL=C sort >"$work/skipped"
  if [[ -s $work/skipped ]]; then
    echo
    echo "Skipped tests, by reason:"
    awk -F '\t' '
      $1 != last { printf "  %s\n", $1; last = $1 }
      { printf "    %s\n", $2 }
    ' "$work/skipped"
  fi
fi

awk '
  /(Passed|Failed|Skipped)! +- Failed:/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:")  { failed  += $(i+1) + 0 }
      if ($i == "Passed:")  { passed  += $(i+1) + 0 }
      if ($i == "Skipped:") { skipped += $(i+1) + 0 }
    }
    found = 1
  }
  END { if (found) printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped }
' "$work/log"
exit "$status"
