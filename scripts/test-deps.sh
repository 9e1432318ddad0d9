#!/usr/bin/env bash
# Installs the Debian packages the test suite uses (skopeo for the real-consumer check) when they
# are missing and we are root, as in CI; otherwise names what is missing. Tests that need a
# missing tool say so and are skipped, never silently passed.
set -euo pipefail
packages=(skopeo)
missing=()
for p in "${packages[@]}"; do
  command -v "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing test dependencies: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "warning: missing ${missing[*]}; the real-consumer tests that need them will be reported as skipped." >&2
  echo "         install them with: sudo apt-get install ${missing[*]}" >&2
fi
