#!/usr/bin/env bash
# Installs the system packages Carnot's sensor and tests need on Debian/Ubuntu, and prepares the
# kernel build link bcc compiles against. Idempotent: does nothing when everything is present.
# Runs as root (CI and the development machines are root); prints what it does.
set -euo pipefail

packages=(python3-bpfcc bpfcc-tools linux-headers-amd64 chromium chromium-driver tcpdump poppler-utils openssl curl iproute2 libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "provision: missing ${missing[*]}; run as root to install them" >&2
    exit 1
  fi
  echo "provision: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Kernels without a header package of their own (Firecracker, some clouds): bcc compiles against
# the distribution's headers when /lib/modules/$(uname -r)/build points at them.
kdir="/lib/modules/$(uname -r)"
if [ "$(id -u)" = 0 ] && [ ! -e "$kdir/build/include" ]; then
  arch_hdr=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1 || true)
  common_hdr=$(ls -d /usr/src/linux-headers-*-common 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$arch_hdr" ] && [ -n "$common_hdr" ]; then
    mkdir -p "$kdir"
    ln -sfn "$arch_hdr" "$kdir/build"
    ln -sfn "$common_hdr" "$kdir/source"
    echo "provision: linked $kdir/build -> $arch_hdr"
  fi
fi

if [ "$(id -u)" = 0 ] && [ -d /sys/kernel/tracing ] && [ ! -e /sys/kernel/tracing/events ]; then
  mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
fi
exit 0
