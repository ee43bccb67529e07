"""Assessment folders made by the real stages (in-process `carnot` commands), once per session.

`default_assessment` is the embedded default estate (examples/estate and the simulated AWS estate)
without the eBPF sensor, which is recorded as not run so it shows up as a gap. `hostile_assessment`
is a small one whose observed strings (an SNI, a process name, a certificate subject) are hostile.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from assess.assessment_info import write_assessment_info
from assess.cli import main
from assess.config import AssessmentSettings

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "report"
EPOCH = "1790000000"  # 2026-09-21T14:13:20Z
RUNTIME_GAP = "not run in this test: the report tests build the assessment without the eBPF sensor"
HOSTILE_SNI = "<script>alert(1)</script>.example"
HOSTILE_COMM = "<img src=x>"
HOSTILE_SUBJECT = '"><a href="javascript:alert(2)">pwn</a>'


def carnot(*args: str | Path) -> None:
    code = main([str(a) for a in args])
    assert code == 0, f"carnot {' '.join(map(str, args))} exited {code}"


def _stages(folder: Path, **status: str) -> None:
    record = {name: {"status": "run" if s == "run" else "not_run", "reason": "" if s == "run" else s}
              for name, s in status.items()}
    (folder / "stages.json").write_text(json.dumps(record, indent=2))


def judge_and_present(folder: Path, shards: list[Path], stages: dict[str, str]) -> Path:
    """merge, gate, attest, viz: what `carnot assess` runs after collection."""
    carnot("merge", *shards, "-o", folder / "merged.cdx.json")
    carnot("gate", folder / "merged.cdx.json", "--out-dir", folder / "gate", "--profile", "balanced")
    _stages(folder, **stages, merge="run", gate="run")
    carnot("attest", "--bom", folder / "merged.cdx.json", "--gate", folder / "gate", "--out", folder)
    carnot("viz", "--bom", folder / "merged.cdx.json", "--gate", folder / "gate", "--out", folder)
    return folder


@pytest.fixture(scope="session")
def default_assessment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("default") / "assessment"
    folder.mkdir()
    # The simulated estate's certificates are dated from the real clock (moto checks them against it).
    carnot("inventory", "aws", "--simulated", "--out", folder / "aws.cdx.json")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        defaults = AssessmentSettings()
        write_assessment_info(folder, defaults.client, defaults.scope)
        carnot("scan", ROOT / "examples" / "estate", "--out", folder / "static.cdx.json")
        judge_and_present(folder, [folder / "static.cdx.json", folder / "aws.cdx.json"],
                          {"scan": "run", "runtime": RUNTIME_GAP, "aws": "run"})
    return folder


def _hostile_certificate(path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOSTILE_SUBJECT)])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(start).not_valid_after(start + timedelta(days=365 * 20))
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _hostile_handshake() -> dict[str, object]:
    return {
        "type": "handshake", "ts": "2026-09-21T14:00:00.000000Z", "host": "web01", "pid": 4242, "tid": 4242,
        "comm": HOSTILE_COMM, "exe": "/usr/bin/curl", "library": "OpenSSL", "library_version": "3.0.19",
        "role": "client", "sni": HOSTILE_SNI, "src_ip": "10.0.0.5", "src_port": 50000,
        "dst_ip": "203.0.113.7", "dst_port": 443, "tls_version": "TLSv1.3", "cipher_suite": "TLS_AES_128_GCM_SHA256",
        "groups_offered": ["x25519", "secp256r1"], "key_shares_offered": ["x25519"], "negotiated_group": "x25519",
        "pq_hybrid": False, "success": True, "handshake_ms": 3.5, "source": "uprobe+wire",
    }


@pytest.fixture(scope="session")
def hostile_assessment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    folder = root / "assessment"
    folder.mkdir()
    tree = root / "tree"
    tree.mkdir()
    _hostile_certificate(tree / "hostile.pem")
    jsonl = root / "runtime.jsonl"
    jsonl.write_text(json.dumps(_hostile_handshake()) + "\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        write_assessment_info(folder, "<b>Client</b> & <script>x</script>", "javascript:alert(3)")
        carnot("scan", tree, "--out", folder / "static.cdx.json")
        carnot("runtime", "to-bom", jsonl, "--out", folder / "runtime.cdx.json")
        judge_and_present(folder, [folder / "static.cdx.json", folder / "runtime.cdx.json"],
                          {"scan": "run", "runtime": "run", "aws": "disabled in this test"})
    return folder


def copy_assessment(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def pdftotext(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout


def pdfinfo(pdf: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", "-isodates", str(pdf)], check=True, capture_output=True, text=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}
