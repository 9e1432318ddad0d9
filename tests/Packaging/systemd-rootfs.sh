#!/usr/bin/env bash
# The root file system RealSystemdTests boots with systemd-nspawn: Debian bookworm minbase from
# the Debian mirror this machine's apt already uses, with systemd (PID 1), journald, D-Bus,
# polkitd, rpm, curl and podman + runc (the stand-in crio.service).
# Usage: systemd-rootfs.sh [CACHE_DIR]   (default /var/tmp). Prints the root's path as its last line.
# The root is cached as CACHE_DIR/node-agent-systemd-root-<hash of this script>: a later run
# reuses it in a second, and editing the package list below builds a new one. The test boots it
# with --volatile=overlay, so it is never changed. Needs debootstrap; ~1-3 min cold, ~500 MB.
set -euo pipefail
cache=${1:-/var/tmp}
hash=$(sha256sum "$0" | cut -c1-16)
root=$cache/node-agent-systemd-root-$hash
if [ -f "$root/.complete" ]; then
  echo "$root"; exit 0
fi
# deb822 .sources first, then sources.list: the first URI that ends in /debian
mirror=${DEBIAN_MIRROR:-$( { sed -n 's/^URIs: *\([^ ]*\/debian\)\/\?$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null
  sed -n 's/^deb \(\[[^]]*\] \)\?\([^ ]*\/debian\)\/\? .*/\2/p' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
  true; } | head -1)}
[ -n "$mirror" ] || { echo "no Debian mirror in /etc/apt/sources.list*: set DEBIAN_MIRROR" >&2; exit 1; }
build=$(mktemp -d "$cache/node-agent-systemd-root-$hash.build.XXXXXX")
trap 'rm -rf "$build"' EXIT
log=$build.log
# debootstrap's resolver does not follow virtual packages (podman needs a container network
# stack, polkitd a logind), so those come from apt-get inside the new root.
timeout 900 debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,rpm,ca-certificates,procps,curl,jq \
  bookworm "$build" "$mirror" > "$log" 2>&1 || { tail -20 "$log" >&2; exit 1; }
cp /etc/resolv.conf "$build/etc/resolv.conf"
timeout 600 chroot "$build" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends podman runc polkitd >> "$log" 2>&1 || { tail -20 "$log" >&2; exit 1; }
chroot "$build" apt-get clean
# podman's own units would start at boot (and fail: no storage driver); the test brings its own.
chroot "$build" systemctl mask podman.service podman.socket podman-auto-update.service \
  podman-auto-update.timer podman-restart.service >/dev/null 2>&1
echo node-agent-test > "$build/etc/hostname"
touch "$build/.complete"
rm -rf "$root"
mv "$build" "$root"
rm -f "$log"
trap - EXIT
echo "$root"
