"""`carnot doctor`: what this machine needs for each stage, what is missing, and how to fix it.

The sensor's own readiness is the sensor package's (`assess.sources.runtime.readiness`); the
doctor gathers it with the tools other stages and the tests use. `fix()` runs the provisioning
script Carnot ships with (the one implementation of "install and prepare the sensor's system
parts" that CI, Nox and users share), then makes the OS's bcc module importable by the
interpreter running Carnot.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from assess.errors import CarnotError
from assess.resources import provision_script
from assess.sources.runtime.readiness import Check, expose_system_bcc


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
    """Install and prepare what the sensor needs (Debian/Ubuntu, as root), and expose bcc to this Python."""
    if os.geteuid() != 0:
        raise FixError("carnot doctor --fix installs system packages: run it as root")
    if shutil.which("apt-get") is None:
        raise FixError("carnot doctor --fix knows Debian/Ubuntu (apt-get); install bcc and kernel headers by hand")
    script = provision_script()
    try:
        done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=1800,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as e:
        raise FixError(f"could not run the provisioning script: {e}", path=script) from e
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise FixError(f"provisioning failed (exit {done.returncode}): {last}", path=script)
    return "\n".join(part for part in (done.stdout.rstrip(), expose_system_bcc()) if part)
