"""`carnot doctor`: what this machine needs for each stage, what is missing, and how to fix it.

`sensor_readiness()` is what the pipeline asks before the runtime stage: can the eBPF sensor run
here, and if not, exactly why (the reasons end up in the assessment as a gap, never hidden).
`fix()` runs tools/provision.sh, the one implementation of "install and prepare the sensor's
system parts" that CI and development machines use too.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from assess.errors import CarnotError

ROOT = Path(__file__).resolve().parents[1]
PROVISION = ROOT / "tools" / "provision.sh"
BPF_DIR = ROOT / "bpf"
TRACEFS = (Path("/sys/kernel/tracing"), Path("/sys/kernel/debug/tracing"))
CAP_PERFMON, CAP_BPF, CAP_SYS_ADMIN, CAP_NET_RAW = 38, 39, 21, 13


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None
    required: bool = True  # False: the sensor runs without it, with less to say


@dataclass(frozen=True)
class Readiness:
    ok: bool
    reasons: tuple[str, ...]  # why it cannot run (empty when ok)
    checks: tuple[Check, ...]


def _effective_caps() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return 0


def _has_bcc() -> bool:
    try:
        return importlib.util.find_spec("bcc") is not None and _is_system_bcc()
    except (ImportError, ValueError):
        return False


def _is_system_bcc() -> bool:
    """Debian's bcc has bcc.BPF; PyPI's unrelated `bcc` package does not."""
    spec = importlib.util.find_spec("bcc")
    if spec is None or spec.origin is None:
        return False
    try:
        return "class BPF" in Path(spec.origin).read_text(errors="replace")
    except OSError:
        return False


def _kernel_headers() -> Path:
    return Path("/lib/modules") / platform.release() / "build"


def _tracefs_ready() -> bool:
    return any((p / "events").is_dir() for p in TRACEFS)


def _libssl() -> list[str]:
    from assess.sources.runtime.sensor import find_libssl

    return find_libssl()


def sensor_checks() -> tuple[Check, ...]:
    checks: list[Check] = []
    linux = platform.system() == "Linux"
    checks.append(Check("linux", linux, f"running on {platform.system()}", None if linux else "run on Linux"))
    if not linux:
        return tuple(checks)
    # Effective capabilities, not the uid: root in a container or under setpriv may hold none.
    caps = _effective_caps()
    admin = bool(caps & (1 << CAP_SYS_ADMIN))
    raw = bool(caps & (1 << CAP_NET_RAW))  # the wire view's AF_PACKET sockets
    privileged = raw and (admin or (bool(caps & (1 << CAP_BPF)) and bool(caps & (1 << CAP_PERFMON))))
    who = "root" if os.geteuid() == 0 else f"uid {os.geteuid()}"
    checks.append(
        Check(
            "privileges",
            privileged,
            f"{who} with {'CAP_SYS_ADMIN' if admin else 'CAP_BPF and CAP_PERFMON'} and CAP_NET_RAW" if privileged
            else f"{who} without CAP_BPF+CAP_PERFMON (or CAP_SYS_ADMIN) and CAP_NET_RAW",
            None if privileged else "run as root (or grant CAP_BPF, CAP_PERFMON and CAP_NET_RAW)",
        )
    )
    bcc = _has_bcc()
    checks.append(
        Check(
            "bcc",
            bcc,
            "Debian/Ubuntu python3-bpfcc importable" if bcc else "the bcc module (python3-bpfcc) is not importable",
            None if bcc else "carnot doctor --fix (apt-get install python3-bpfcc; never `pip install bcc`)",
        )
    )
    headers = _kernel_headers()
    has_headers = (headers / "include").is_dir()
    checks.append(
        Check(
            "kernel headers",
            has_headers,
            f"{headers} -> {os.path.realpath(headers)}" if has_headers else f"{headers} is missing",
            None if has_headers else "carnot doctor --fix (installs linux-headers and links them for this kernel)",
        )
    )
    tracefs = _tracefs_ready()
    checks.append(
        Check(
            "tracefs",
            tracefs,
            "mounted" if tracefs else "tracefs is not mounted",
            None if tracefs else "carnot doctor --fix (mount -t tracefs nodev /sys/kernel/tracing)",
        )
    )
    programs = (BPF_DIR / "tls_probes.c").is_file() and (BPF_DIR / "tls_wire.c").is_file()
    checks.append(
        Check("eBPF programs", programs, str(BPF_DIR), None if programs else "reinstall Carnot from its source tree")
    )
    libs = _libssl()
    checks.append(
        Check(
            "libssl",
            bool(libs),
            ", ".join(libs) if libs else "no libssl found: only the wire view (no process attribution via OpenSSL)",
            None if libs else "apt-get install libssl3",
            required=False,
        )
    )
    return tuple(checks)


def sensor_readiness() -> Readiness:
    """Can the runtime sensor run here, and if not, why (one reason per missing requirement)."""
    checks = sensor_checks()
    reasons = tuple(f"{c.name}: {c.detail}" for c in checks if c.required and not c.ok)
    return Readiness(ok=not reasons, reasons=reasons, checks=checks)


def tool_checks() -> tuple[Check, ...]:
    """Programs other stages and tests use; missing ones are reported, not required by the sensor."""
    out = []
    for tool, why in (("openssl", "TLS test peers"), ("curl", "TLS test client"), ("tcpdump", "pcap captures")):
        path = shutil.which(tool)
        out.append(Check(tool, path is not None, path or f"not found ({why})", f"apt-get install {tool}", False))
    return tuple(out)


class FixError(CarnotError):
    """`carnot doctor --fix` could not prepare the machine."""


def fix() -> str:
    """Install and prepare what the sensor needs (Debian/Ubuntu, as root): tools/provision.sh."""
    if os.geteuid() != 0:
        raise FixError("carnot doctor --fix installs system packages: run it as root")
    if shutil.which("apt-get") is None:
        raise FixError("carnot doctor --fix knows Debian/Ubuntu (apt-get); install bcc and kernel headers by hand")
    try:
        done = subprocess.run(["bash", str(PROVISION)], capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.SubprocessError) as e:
        raise FixError(f"could not run {PROVISION}: {e}") from e
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise FixError(f"{PROVISION} failed (exit {done.returncode}): {last}")
    return done.stdout
