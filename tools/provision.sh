#!/usr/bin/env bash
# Installs the system packages Carnot's sensor and report need on Debian/Ubuntu, and prepares the
# kernel build link bcc compiles against. Idempotent: does nothing when everything is present.
# Arguments are more Debian packages to install in the same run (Nox adds the test suite's
# browser and tools); one written `?NAME` is optional: installed if the archive has it, else
# named and left out. `?perf` is perf for the running kernel: Debian's linux-perf, or Ubuntu's
# tools for the kernel (a runner's kernel may be newer than the archive). Runs as root; prints what it does. Shipped inside the wheel and run by
# `carnot doctor --fix`, which then makes bcc importable by the Python running Carnot.
set -euo pipefail

# bcc (the sensor), kernel headers for it to compile against, OpenSSL and curl (the embedded
# default's loopback TLS workload), Pango and a font (the PDF report through WeasyPrint).
packages=(python3-bpfcc bpfcc-tools openssl curl libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core "$@")

missing=()
optional=()
for p in "${packages[@]}"; do
  if [[ $p == \?* ]]; then
    p=${p#\?}
    if [ "$p" = perf ]; then
      command -v perf >/dev/null 2>&1 && perf --version >/dev/null 2>&1 || optional+=("$p")
    else
      dpkg -s "$p" >/dev/null 2>&1 || optional+=("$p")
    fi
  else
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  fi
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
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" != 0 ]; then
  echo "provision: missing ${missing[*]}; run as root to install them" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ] && { [ ${#missing[@]} -gt 0 ] || [ ${#optional[@]} -gt 0 ]; }; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if [ ${#missing[@]} -gt 0 ]; then
    echo "provision: installing ${missing[*]}"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  for p in "${optional[@]}"; do
    names=("$p")
    if [ "$p" = perf ]; then
      if apt-cache show linux-perf >/dev/null 2>&1; then
        names=(linux-perf)
      else
        names=(linux-tools-common "linux-tools-$(uname -r)")
      fi
    fi
    if apt-get install -y -qq --no-install-recommends "${names[@]}" >/dev/null 2>&1; then
      echo "provision: installed ${names[*]}"
    else
      echo "provision: ${names[*]} not in the archive here: left out (optional)"
    fi
  done
elif [ ${#optional[@]} -gt 0 ]; then
  echo "provision: optional ${optional[*]} not installed (not root)"
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
