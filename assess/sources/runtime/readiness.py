"""Can the eBPF sensor run here, and if not, exactly why; and how to make Debian's bcc importable.

`sensor_readiness()` is what the sensor, the pipeline and `carnot doctor` ask before the runtime
stage: each missing requirement is one reason, which ends up in the assessment as a gap.
`expose_system_bcc()` is the one way Carnot makes the OS's bcc module importable by whichever
interpreter runs it (a pipx or pip venv, Nox's): a `bcc` link in that interpreter's site-packages
to Debian/Ubuntu's python3-bpfcc, and nothing else of the system's packages.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import platform
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from assess.errors import CarnotError
from assess.resources import ResourceError, bpf_dir, resource
from assess.sources.runtime.cgrouplink import loopback_view_problem
from assess.sources.runtime.libraries import find_libssl

TRACEFS = (Path("/sys/kernel/tracing"), Path("/sys/kernel/debug/tracing"))
CAP_PERFMON, CAP_BPF, CAP_SYS_ADMIN, CAP_NET_RAW = 38, 39, 21, 13
BPF_PROGRAMS = ("tls_probes.c", "tls_wire.c")
# Where Debian's and Ubuntu's python3-bpfcc put the module (any Python 3 can import it: it is pure
# Python over libbcc.so through ctypes).
SYSTEM_BCC = Path("/usr/lib/python3/dist-packages/bcc")


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


def socket_io_tracepoints() -> bool:
    """Whether the kernel has sock:sock_recv_length (Linux 6.3 and later), which lets the sensor watch
    socket receives without tracing any system call."""
    return any((p / "events" / "sock" / "sock_recv_length").is_dir() for p in TRACEFS)


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
    sock_io = socket_io_tracepoints()
    checks.append(
        Check(
            "socket I/O tracepoints",
            sock_io,
            "sock:sock_recv_length: no system call is traced" if sock_io
            else "no sock:sock_recv_length (Linux before 6.3): socket I/O is watched at every "
                 "system call's entry, which puts every system call on the host on the kernel's slow path",
            None if sock_io else "run a Linux 6.3 or later kernel for the cheaper sensor",
            required=False,
        )
    )
    cgroup, problem = loopback_view_problem()
    checks.append(
        Check(
            "loopback view",
            cgroup is not None,
            f"a cgroup program on the sockets (cgroup v2 at {cgroup})" if cgroup is not None
            else f"{problem}: loopback is watched by a packet socket, which costs each loopback packet more",
            None if cgroup is not None else "a Linux 6.15 or later kernel with cgroup v2 mounted, for the cheaper view",
            required=False,
        )
    )
    try:
        programs, where = True, str(bpf_dir())
        for name in BPF_PROGRAMS:
            resource(f"bpf/{name}")
    except ResourceError as e:
        programs, where = False, e.one_line()
    checks.append(Check("eBPF programs", programs, where, None if programs else "reinstall Carnot"))
    libs = find_libssl()
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


class BccExposureError(CarnotError):
    """Debian's bcc module could not be made importable by this interpreter."""


def expose_system_bcc(site_packages: Path | None = None, system_bcc: Path = SYSTEM_BCC) -> str:
    """Link the OS's bcc module into this interpreter's site-packages, if it cannot import it yet.

    Returns what was done, in a line. Refuses to touch a `bcc` that is not a link to the OS's
    module (PyPI's unrelated `bcc` package, say): the user has to remove it.
    """
    if _has_bcc():
        return "bcc: importable already"
    if not (system_bcc / "__init__.py").is_file():
        raise BccExposureError("the OS's bcc module is not installed (apt-get install python3-bpfcc)",
                               path=system_bcc)
    target = (site_packages or Path(sysconfig.get_paths()["purelib"])) / "bcc"
    if target.is_symlink() and target.resolve() == system_bcc.resolve():
        raise BccExposureError(f"links to {system_bcc}, yet this interpreter cannot import bcc from it", path=target)
    if target.exists() or target.is_symlink():
        raise BccExposureError("another `bcc` is installed here (PyPI's `bcc` is an unrelated project): "
                               "remove it (pip uninstall bcc) and run carnot doctor --fix again", path=target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(system_bcc, target_is_directory=True)
    except OSError as e:
        raise BccExposureError(f"cannot link the OS's bcc module here: {e.strerror}", path=target) from e
    importlib.invalidate_caches()
    return f"bcc: linked {target} -> {system_bcc}"
