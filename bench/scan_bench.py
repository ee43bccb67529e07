"""Static-scan throughput on a generated tree of 50,000 files: files/s and peak memory.

The tree mixes what a real repository or unpacked image holds: source files in five languages
(some calling crypto APIs), TLS and SSH configs, certificates and keys, unrelated text, binary
files, and a vendored `node_modules` the walker must skip. The real CLI scans it in a child
process, whose peak RSS is read from the kernel. A second, 5x smaller tree is scanned in the same
run: the ratio of the two peaks shows whether memory grows with the number of files.

Hostile inputs follow, each at two sizes: a C file of nothing but `MD5(x);` lines (a match per
line), the same calls on one single line (a minified file), and `RSA_generate_key_ex(` repeated
without a comma (a regex that could backtrack to the end of the file from every call). The ratios
of time and of peak memory between the two sizes show whether the scan stays linear.
"""

from __future__ import annotations

import json
import os
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
MIB = 1024 * 1024
# name -> (the repeated text, the smaller size, the larger size); all under the 16 MiB file limit.
HOSTILE: dict[str, tuple[str, int, int]] = {
    "md5_lines": ("MD5(x);\n", 2 * MIB, 8 * MIB),
    "md5_one_line": ("MD5(x);", 7 * MIB, 14 * MIB),
    "rsa_keygen_no_comma": ("RSA_generate_key_ex(", 4 * MIB, 14 * MIB),
}

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


def _scan(tree: Path, out: Path) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tree), str(out)],
        capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"scan failed: {proc.stderr}")
    figures: dict[str, Any] = json.loads(proc.stdout)
    figures["end_to_end_seconds"] = time.perf_counter() - started
    return figures


# The child does what `carnot scan` does (the library calls of assess/cli/scan.py) and reads its own
# peak RSS after the scan and again after writing the shard: the scan's memory apart from the CBOM
# writer's (cyclonedx-python-lib and schema validation), and each tree apart from the other.
_CHILD = """
import json, resource, sys, time
from pathlib import Path
from assess.cbom import write_shard
from assess.sources.static import load_rules, scan
started = time.perf_counter()
result = scan([Path(sys.argv[1])], load_rules())
scanned = time.perf_counter()
after_scan = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
write_shard(result.shard, sys.argv[2])
print(json.dumps({
    "files": result.files_seen, "files_read": result.files_read, "assets": len(result.shard.assets),
    "occurrences": sum(len(a.evidence) for a in result.shard.assets), "skipped": len(result.shard.skipped),
    "scan_seconds": scanned - started, "write_seconds": time.perf_counter() - scanned,
    "rss_after_scan_kib": after_scan, "rss_after_write_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
"""


def hostile(tmp: Path) -> dict[str, Any]:
    """Scan seconds and peak RSS of each hostile input at its two sizes, and their ratios."""
    figures: dict[str, Any] = {}
    for name, (unit, small, large) in HOSTILE.items():
        scanned = []
        for size in (small, large):
            source = Path(tmp, f"{name}.c")
            source.write_text(unit * (size // len(unit)))
            scanned.append(_scan(source, Path(tmp, f"{name}.cdx.json")))
        for size, result in zip((small, large), scanned, strict=True):
            figures[f"hostile_{name}_{size // MIB}mib_scan_seconds"] = round(result["scan_seconds"], 2)
            figures[f"hostile_{name}_{size // MIB}mib_peak_rss_after_scan_mib"] = round(
                result["rss_after_scan_kib"] / 1024, 1)
        figures[f"hostile_{name}_size_ratio"] = round(large / small, 2)
        figures[f"hostile_{name}_scan_seconds_ratio"] = round(
            scanned[1]["scan_seconds"] / scanned[0]["scan_seconds"], 2)
        figures[f"hostile_{name}_peak_rss_ratio"] = round(
            scanned[1]["rss_after_scan_kib"] / scanned[0]["rss_after_scan_kib"], 2)
    return figures


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp, "big"), Path(tmp, "small")
        started = time.perf_counter()
        generate(big, FILES)
        generate(small, SMALL_FILES)
        generated = time.perf_counter() - started
        large = _scan(big, Path(tmp, "big.cdx.json"))
        little = _scan(small, Path(tmp, "small.cdx.json"))
        attacks = hostile(Path(tmp))
    mib = 1024.0
    return {
        "files": large["files"],
        "files_read_by_detectors": large["files_read"],
        "assets": large["assets"],
        "evidence_occurrences": large["occurrences"],
        "skipped": large["skipped"],
        "generate_seconds": round(generated, 2),
        "scan_seconds": round(large["scan_seconds"], 2),
        "files_per_second": round(large["files"] / large["scan_seconds"], 1),
        "write_shard_seconds": round(large["write_seconds"], 2),
        "end_to_end_seconds": round(large["end_to_end_seconds"], 2),
        "peak_rss_after_scan_mib": round(large["rss_after_scan_kib"] / mib, 1),
        "peak_rss_after_write_mib": round(large["rss_after_write_kib"] / mib, 1),
        "small_tree_files": little["files"],
        "small_tree_files_per_second": round(little["files"] / little["scan_seconds"], 1),
        "small_tree_peak_rss_after_scan_mib": round(little["rss_after_scan_kib"] / mib, 1),
        "scan_peak_rss_ratio_5x_files": round(large["rss_after_scan_kib"] / little["rss_after_scan_kib"], 2),
        **attacks,
    }
