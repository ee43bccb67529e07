"""Static-scan throughput on a generated tree of 50,000 files: files/s and peak memory.

The tree mixes what a real repository or unpacked image holds: source files in five languages
(some calling crypto APIs), TLS and SSH configs, certificates and keys, unrelated text, binary
files, and a vendored `node_modules` the walker must skip. The real CLI scans it in a child
process, whose peak RSS is read from the kernel. A second, 5x smaller tree is scanned in the same
run: the ratio of the two peaks shows whether memory grows with the number of files.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

FILES = 50_000
SMALL_FILES = 10_000
FILES_PER_DIR = 100

_FILLER = "// filler line\n" * 40
_SOURCES = {
    ".py": "import hashlib\n\ndef key_{i}(x):\n    return hashlib.{hash}(x).hexdigest()\n"
           + "# filler line\n" * 40,
    ".go": 'package p{i}\n\nimport "crypto/{hash}"\n\nfunc F{i}(b []byte) {{ {hash}.Sum(b) }}\n' + _FILLER,
    ".java": 'class C{i} {{ Object d = MessageDigest.getInstance("{hash}"); }}\n' + _FILLER,
    ".js": "const crypto = require('crypto');\nexport default () => crypto.createHash('{hash}');\n" + _FILLER,
    ".c": "#include <openssl/rsa.h>\nint f{i}(RSA *r, BIGNUM *e)\n"
          "{{ return RSA_generate_key_ex(r, 2048, e, 0); }}\n",
}
_PLAIN = "# notes {i}\n\nNothing cryptographic here, just text a scanner has to look at and pass by.\n" * 5
_NGINX = "server {{\n  listen 443 ssl;\n  server_name s{i}.test;\n  ssl_protocols TLSv1.2 TLSv1.3;\n}}\n"
_SSHD = "KexAlgorithms curve25519-sha256,diffie-hellman-group14-sha1\nCiphers aes256-ctr\n"


def _pem_material() -> list[bytes]:
    keys = (rsa.generate_private_key(public_exponent=65537, key_size=2048),
            ec.generate_private_key(ec.SECP256R1()))
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return [k.public_key().public_bytes(serialization.Encoding.PEM, spki) for k in keys]


def generate(root: Path, files: int) -> None:
    """A tree of exactly `files` files (plus a vendored folder of 1% more that must be skipped)."""
    pem = _pem_material()
    noise = os.urandom(4096)
    for i in range(files):
        folder = root / f"d{i // FILES_PER_DIR:04d}"
        if i % FILES_PER_DIR == 0:
            folder.mkdir(parents=True)
        kind = i % 20
        if kind < 12:
            suffix = list(_SOURCES)[kind % 5]
            text = _SOURCES[suffix].format(i=i, hash=("md5", "sha1", "sha256")[i % 3])
            (folder / f"f{i}{suffix}").write_text(text)
        elif kind == 12:
            (folder / f"site{i}.conf").write_text(_NGINX.format(i=i))
        elif kind == 13:
            (folder / f"sshd_config{i}.conf").write_text(_SSHD)
        elif kind == 14:
            (folder / f"key{i}.pem").write_bytes(pem[i % 2])
        elif kind < 18:
            (folder / f"readme{i}.md").write_text(_PLAIN.format(i=i))
        else:
            (folder / f"blob{i}.bin").write_bytes(noise)
    vendored = root / "node_modules" / "dep"
    vendored.mkdir(parents=True)
    for i in range(files // 100):
        (vendored / f"v{i}.js").write_text("require('crypto').createHash('md5');\n")


def _scan(tree: Path, out: Path) -> tuple[dict[str, Any], float, int]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tree), str(out)],
        capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}, check=False,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"scan failed: {proc.stderr}")
    lines = proc.stdout.strip().splitlines()
    return json.loads("\n".join(lines[:-1])), seconds, int(lines[-1])


# The child runs the real CLI, then prints its own peak RSS (KiB), so two scans in one benchmark
# run are measured apart (RUSAGE_CHILDREN would report the larger of the two for both).
_CHILD = """
import resource, sys
from assess.cli import main
code = main(["scan", sys.argv[1], "--out", sys.argv[2], "--json"])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(code)
"""


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp, "big"), Path(tmp, "small")
        started = time.perf_counter()
        generate(big, FILES)
        generate(small, SMALL_FILES)
        generated = time.perf_counter() - started
        report, seconds, peak_kib = _scan(big, Path(tmp, "big.cdx.json"))
        _, small_seconds, small_peak_kib = _scan(small, Path(tmp, "small.cdx.json"))
        return {
            "files": report["files_seen"],
            "files_read_by_detectors": report["files_read"],
            "assets": sum(report["assets"].values()),
            "skipped": report["skipped"],
            "generate_seconds": round(generated, 2),
            "scan_seconds": round(seconds, 2),
            "scan_seconds_in_process": report["seconds"],
            "files_per_second": round(report["files_seen"] / report["seconds"], 1),
            "peak_rss_mib": round(peak_kib / 1024, 1),
            "small_tree_files": SMALL_FILES,
            "small_tree_peak_rss_mib": round(small_peak_kib / 1024, 1),
            "peak_rss_ratio_5x_files": round(peak_kib / small_peak_kib, 2),
            "ru_maxrss_children_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
            "small_tree_scan_seconds": round(small_seconds, 2),
        }
