"""The TLS libraries the sensor probes: where libssl is on this host, and which OpenSSL it is."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

_OPENSSL_VERSION = re.compile(rb"OpenSSL (\d+\.\d+\.\d+[a-z]*)(?:-[\w.]+)? +\d{1,2} \w{3} \d{4}")


@dataclass(frozen=True)
class Library:
    path: str
    name: str
    version: str | None


def find_libssl(pid: int | None = None) -> list[str]:
    """libssl files to probe: the linker cache's, and those mapped by running processes."""
    found: dict[tuple[int, int], str] = {}

    def add(path: str) -> None:
        try:
            st = os.stat(path)
        except OSError:
            return
        found.setdefault((st.st_dev, st.st_ino), os.path.realpath(path))

    if pid is None:
        try:
            cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            cache = ""
        for line in cache.splitlines():
            if line.strip().startswith("libssl.so.") and "=>" in line:
                add(line.split("=>")[-1].strip())
    maps = [Path(f"/proc/{pid}/maps")] if pid is not None else Path("/proc").glob("[0-9]*/maps")
    for m in maps:
        try:
            text = m.read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            parts = line.split(maxsplit=5)
            if len(parts) == 6 and "/libssl.so" in parts[5]:
                add(parts[5].strip())
    return sorted(set(found.values()))


def describe_library(path: str) -> Library:
    """OpenSSL's version string lives in libcrypto next to libssl; read it from the file."""
    p = Path(path)
    candidates = [p.with_name(p.name.replace("libssl", "libcrypto")), p]
    for cand in candidates:
        try:
            blob = cand.read_bytes()
        except OSError:
            continue
        match = _OPENSSL_VERSION.search(blob)
        if match:
            return Library(path, "OpenSSL", match.group(1).decode())
    return Library(path, p.name, None)
