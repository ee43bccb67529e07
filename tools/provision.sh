#!/usr/bin/env bash
# Installs the system packages Carnot's sensor and report need on Debian/Ubuntu, and prepares the
# kernel build link bcc compiles against. Idempotent: does nothing when everything is present.
# Arguments are more Debian packages to install in the same run (Nox adds the test suite's
# browser and tools). Runs as root; prints what it does. Shipped inside the wheel and run by
# `carnot doctor --fix`, which then makes bcc importable by the Python running Carnot.
set -euo pipefail

# bcc (the sensor), kernel headers for it to compile against, OpenSSL and curl (the embedded
# default's loopback TLS workload), Pango and a font (the PDF report through WeasyPrint).
packages=(python3-bpfcc bpfcc-tools openssl curl libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core "$@")

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# Headers: the running kernel's own package where the distribution has one (Ubuntu), else
# Debian's current headers, which bcc compiles against through the link made below.
kdir="/lib/modules/$(uname -r)"
if [ ! -e "$kdir/build/include" ]; then
  if apt-cache show "linux-headers-$(uname -r)" >/dev/null 2>&1; then
    dpkg -s "linux-headers-$(uname -r)" >/dev/null 2>&1 || missing+=("linux-headers-$(uname -r)")
  else
    dpkg -s "linux-headers-$(dpkg --print-architecture)" >/dev/null 2>&1 \
      || missing+=("linux-headers-$(dpkg --print-architecture)")
  fi
fi
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
if [ "$(id -u)" = 0 ] && [ ! -e "$kdir/build/include" ]; then
  arch_hdr=$(ls -d /usr/src/linux-headers-*-"$(dpkg --print-architecture)" 2>/dev/null | sort -V | tail -n 1 || true)
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
