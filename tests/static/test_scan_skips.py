"""Files the scan cannot or should not read are reported as skipped, with a reason; the scan completes.

We run as root, for whom chmod 000 changes nothing. The unreadable-file case therefore runs the real
CLI in a child whose capability sets lack CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (util-linux
`setpriv`), so the kernel enforces the file mode on it as on any user. The other unreadable cases
are real too: a FIFO, a dangling symlink, and a file deleted between the walk and the read.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from scan_testing import cert_pem, make_cert

from assess.sources.static import scan

TWO_GIB = 2 * 1024**3


def _bytes_read_by_this_process() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


@pytest.fixture
def hostile_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    good = make_cert("good.test", ec.generate_private_key(ec.SECP256R1()))
    (tree / "good.pem").write_bytes(cert_pem(good))
    body = cert_pem(good).decode().splitlines()
    (tree / "broken.pem").write_text("\n".join([body[0], "this is not base64 at all!", body[-1]]) + "\n")
    (tree / "truncated.crt").write_text("\n".join(body[:4]) + "\n")
    (tree / "binary.pem").write_bytes(b"\x7fELF\x02\x01\x01\x00" + os.urandom(2048) + b"\x00" * 64)
    os.symlink("loop.pem", tree / "loop.pem")
    os.symlink("..", tree / "sub" / "back")
    os.symlink("nowhere.pem", tree / "dangling.pem")
    os.symlink("/etc/hostname", tree / "outside.conf")
    with open(tree / "huge.pem", "wb") as fh:
        fh.truncate(TWO_GIB)  # sparse: no blocks on disk
    (tree / "bad-utf8.py").write_bytes(b"import hashlib\nx = 'caf\xe9'\nhashlib.md5(x)\n")
    (tree / "bad-utf8.conf").write_bytes(b"ssl_protocols TLSv1.2;\n# \xff\xfe\n")
    os.mkfifo(tree / "pipe.pem")
    (tree / "node_modules" / "pkg").mkdir(parents=True)
    (tree / "node_modules" / "pkg" / "bundled.pem").write_bytes(cert_pem(good))
    (tree / ".git").mkdir()
    (tree / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return tree


def test_every_unusable_file_is_skipped_with_its_reason_and_the_scan_completes(
    hostile_tree: Path, scan_tree
) -> None:
    (hostile_tree / "aaa-vanishes.pem").write_bytes((hostile_tree / "good.pem").read_bytes())

    def delete_after_walk() -> None:
        # Called for each walked entry before it is read: the first entry (sorted) is this file,
        # already stat-ed by the walker, so its read meets a file that is gone.
        (hostile_tree / "aaa-vanishes.pem").unlink(missing_ok=True)

    before = _bytes_read_by_this_process()
    result = scan([hostile_tree], on_file=delete_after_walk)
    read = _bytes_read_by_this_process() - before
    assert read < 64 * 1024**2, f"the scan read {read} bytes: the 2 GiB file was read"

    reasons = {s.location: s.reason for s in result.shard.skipped}
    assert reasons["aaa-vanishes.pem"] == "vanished or broken symlink: no such file"
    assert reasons["broken.pem:1"].startswith("broken PEM certificate")
    assert reasons["truncated.crt:1"] == "broken PEM: PEM block 'CERTIFICATE' has no END line"
    assert reasons["binary.pem"] == "binary file with a certificate or key name: not PEM, DER or PKCS#12"
    assert reasons["loop.pem"] == "symlink loop"
    assert reasons["sub/back"] == "symlink loop: links to a directory that contains it"
    assert reasons["dangling.pem"] == "vanished or broken symlink: no such file"
    assert reasons["outside.conf"] == "symlink points outside the scanned root(s); not followed"
    assert reasons["huge.pem"] == f"too large: {TWO_GIB} bytes, over the {16 * 1024**2} byte limit; not read"
    assert reasons["bad-utf8.py"] == "not UTF-8 text (invalid byte at line 2, offset 23)"
    assert reasons["bad-utf8.conf"].startswith("not UTF-8 text (invalid byte at line 2")
    assert reasons["pipe.pem"] == "not a regular file: a FIFO"
    assert reasons["node_modules"] == "skipped directory: vendored dependencies"
    assert reasons[".git"] == "skipped directory: version-control metadata"
    # The scan went on: the good certificate is there, once, from the one readable place.
    [cert] = [a for a in result.shard.assets if a.name == "good.test"]
    assert [e.location for e in cert.evidence] == ["good.pem"]


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs util-linux setpriv")
def test_unreadable_file_is_skipped_when_permissions_are_enforced(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    good = make_cert("visible.test", ec.generate_private_key(ec.SECP256R1()))
    (tree / "visible.pem").write_bytes(cert_pem(good))
    locked = tree / "locked.pem"
    locked.write_bytes(cert_pem(good))
    locked.chmod(0)
    out = tmp_path / "static.cdx.json"
    command = [
        "setpriv", "--inh-caps=-all", "--ambient-caps=-all",
        "--bounding-set=-dac_override,-dac_read_search", "--",
        sys.executable, "-m", "assess", "scan", str(tree), "--out", str(out), "--json",
    ]

    proc = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    skipped = [json.loads(p["value"]) for p in doc["metadata"]["properties"] if p["name"] == "carnot:skipped"]
    assert {"location": "locked.pem", "reason": "unreadable: permission denied"} in skipped
    assert [c["name"] for c in doc["components"]] == ["visible.test"]
    assert json.loads(proc.stdout)["skipped"] == 1


def test_scan_cli_exits_zero_with_skips_and_lists_them_in_the_shard(hostile_tree: Path, tmp_path: Path,
                                                                    carnot) -> None:
    out = tmp_path / "static.cdx.json"

    result = carnot("scan", str(hostile_tree), "--out", str(out), "--json")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    doc = json.loads(out.read_text())
    props = doc["metadata"]["properties"]
    listed = [json.loads(p["value"]) for p in props if p["name"] == "carnot:skipped"]
    count = [p["value"] for p in props if p["name"] == "carnot:skipped_count"]
    assert count == [str(report["skipped"])] and len(listed) == report["skipped"] >= 13
    assert report["assets"] == {"certificate": 1}
