#!/usr/bin/env bash
# Installs the Debian packages the test suite uses when they are missing and we are root, as in
# CI; otherwise names what is missing. skopeo is the real consumer of what node-agent writes;
# diff and patch check the dry-run diffs; docker-registry (distribution v2) serves the TLS mirror of
# the CA trust end-to-end test, and openssl inspects its throw-away certificates when debugging.
# rpmbuild (Debian's rpm) builds the RPM that rpm and rpmlint check, and systemd-analyze verifies
# the unit (tests/Packaging). containerd (with its client ctr) reads the rendered hosts.toml files in
# tests/Consumer/ContainerdClientTests, from a private daemon the tests start and stop.
# systemd-nspawn (systemd-container) boots the Debian root that debootstrap builds, with systemd
# as PID 1, for tests/Packaging/RealSystemdTests; nsenter gets into it.
set -euo pipefail
declare -A package_of=([skopeo]=skopeo [diff]=diffutils [patch]=patch [unshare]=util-linux [docker-registry]=docker-registry [openssl]=openssl [rpmbuild]=rpm [rpmlint]=rpmlint [systemd-analyze]=systemd [containerd]=containerd [ctr]=containerd [systemd-nspawn]=systemd-container [debootstrap]=debootstrap [nsenter]=util-linux)
missing=()
for tool in "${!package_of[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || [[ " ${missing[*]} " == *" ${package_of[$tool]} "* ]] || missing+=("${package_of[$tool]}")
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
  echo "warning: missing Debian packages: ${missing[*]}; the tests that use them will fail and say which tool is missing." >&2
  echo "         install them with: sudo apt-get install ${missing[*]}" >&2
fi
