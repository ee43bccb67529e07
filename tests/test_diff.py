"""What changed between two assessments: `assess.diff` on snapshots built in the test, then `carnot diff`,
the site's changes page and the PDF's over two real `carnot assess` runs with a known set of changes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from assess.diff import AssetKey, FindingKey, Snapshot, diff

ROOT = Path(__file__).resolve().parents[1]
HOSTILE_CN = "<script>alert(1)</script>[red]x[/red]\u202eevil.example"
LINK = "urn:cdx:11111111-2222-4333-8444-555555555555/1#"


# --- assess.diff, pure --------------------------------------------------------------------------------

def _shot(name: str, assets: list[tuple[str, str]], findings: list[tuple[str, str, bool]],
          handshakes: dict[str, int] | None = None) -> Snapshot:
    counts = handshakes or {}
    total = sum(counts.values())
    return Snapshot(
        id=name, created=f"2026-0{len(name)}-01T00:00:00Z",
        assets=tuple(AssetKey(ref, ref.rsplit("#", 1)[-1].rsplit(":", 1)[-1], "certificate", status, i)
                     for i, (ref, status) in enumerate(assets)),
        findings=tuple(FindingKey(rule, ref, "high", f"{rule} on {ref}", waived, i)
                       for i, (rule, ref, waived) in enumerate(findings)),
        pq_share={"pq_share": counts.get("hybrid PQ", 0) / total if total else None, "handshakes": counts})


def test_assets_added_removed_and_whose_status_changed_are_listed_apart() -> None:
    old = _shot("a", [("carnot:cert:kept", "hndl"), ("carnot:cert:gone", "hndl"), ("carnot:cert:moved", "hndl")], [])
    new = _shot("bb", [("carnot:cert:kept", "hndl"), ("carnot:cert:moved", "quantum-safe"),
                       ("carnot:cert:fresh", "hndl")], [])
    d = diff(old, new)
    assert [c.ref for c in d.assets_added] == ["carnot:cert:fresh"]
    assert [c.ref for c in d.assets_removed] == ["carnot:cert:gone"]
    assert [(c.ref, c.before, c.after) for c in d.status_changed] == [("carnot:cert:moved", "hndl", "quantum-safe")]
    # each change points at its row on the side where it is: the new inventory, or the old one when removed
    assert d.assets_added[0].new_index == 2 and d.assets_removed[0].old_index == 1


def test_findings_fixed_new_waived_and_reopened() -> None:
    old = _shot("a", [], [("weak-rsa", "carnot:k:1", False), ("legacy-hash", "carnot:k:2", False),
                          ("tls-no-hybrid-pq", "carnot:k:3", True), ("cert-expiring", "carnot:k:4", False)])
    new = _shot("bb", [], [("legacy-hash", "carnot:k:2", True), ("tls-no-hybrid-pq", "carnot:k:3", False),
                           ("cert-expiring", "carnot:k:4", False), ("untagged-key", "carnot:k:5", False),
                           ("waived-at-once", "carnot:k:6", True)])
    d = diff(old, new)
    assert [f.rule for f in d.findings_fixed] == ["weak-rsa"]
    assert [f.rule for f in d.findings_new] == ["untagged-key"]
    assert sorted(f.rule for f in d.findings_waived) == ["legacy-hash", "waived-at-once"]
    assert [f.rule for f in d.findings_reopened] == ["tls-no-hybrid-pq"]
    assert (d.old.open_findings, d.old.waived_findings, d.new.open_findings, d.new.waived_findings) == (3, 1, 3, 2)


def test_one_rule_on_one_asset_counts_once_and_is_open_when_any_copy_is() -> None:
    old = _shot("a", [], [("weak-rsa", "carnot:k:1", True), ("weak-rsa", "carnot:k:1", False)])
    new = _shot("bb", [], [("weak-rsa", "carnot:k:1", True)])
    d = diff(old, new)
    assert [f.rule for f in d.findings_waived] == ["weak-rsa"] and not d.findings_fixed and not d.findings_new


def test_another_tools_asset_is_the_same_when_its_document_changed_but_its_own_ref_did_not() -> None:
    """A BOM-Link's document part changes with any edit to the imported CBOM; its own ref, name and type hold."""
    old = _shot("a", [(LINK.replace("11111111", "aaaaaaaa") + "rsa-key", "hndl"),
                      (LINK.replace("11111111", "aaaaaaaa") + "dup", "hndl"),
                      (LINK.replace("11111111", "cccccccc") + "dup", "hndl")],
                [("weak-rsa", LINK.replace("11111111", "aaaaaaaa") + "rsa-key", False)])
    new = _shot("bb", [(LINK.replace("11111111", "bbbbbbbb") + "rsa-key", "hndl"),
                       (LINK.replace("11111111", "bbbbbbbb") + "dup", "hndl")],
                [("weak-rsa", LINK.replace("11111111", "bbbbbbbb") + "rsa-key", False)])
    d = diff(old, new)
    assert not d.findings_fixed and not d.findings_new
    # "dup" is not unique in the old document set: no guess, one removed pair and one added
    assert [c.ref.rsplit("#", 1)[1] for c in d.assets_added] == ["dup"]
    assert sorted(c.ref.rsplit("#", 1)[1] for c in d.assets_removed) == ["dup", "dup"]


def test_pq_share_before_and_after_and_the_json_form() -> None:
    old = _shot("a", [], [], {"hybrid PQ": 1, "classical": 9})
    new = _shot("bb", [], [], {"hybrid PQ": 7, "classical": 3})
    out = diff(old, new).as_dict()
    assert out["format"] == "carnot-diff/1"
    assert (out["old"]["pq_share"], out["new"]["pq_share"]) == (0.1, 0.7)
    assert out["new"]["handshakes"] == {"hybrid PQ": 7, "classical": 3}
    assert set(out["counts"]) == {"assets_added", "assets_removed", "status_changed", "findings_fixed",
                                  "findings_new", "findings_waived", "findings_reopened"}
    json.dumps(out)  # plain JSON all the way down


# --- two real assessments --------------------------------------------------------------------------

def _certificate(path: Path, common_name: str, key: Any, days: int) -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(abs(hash(common_name)) % 10**12 + 1).not_valid_before(start)
            .not_valid_after(start + timedelta(days=days)).sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


@dataclass(frozen=True)
class TwoAssessments:
    out: Path  # one `carnot assess --out`, run twice: out/dist holds both bundles, out/site the site of both
    old: Path  # the two bundles
    new: Path
    old_run: dict[str, Any]  # opa_result.json of each run
    new_run: dict[str, Any]
    waived: tuple[str, str]  # (rule, bom_ref) waived in the second run
    seconds: float


def _assess(config: Path, out: Path, epoch: int) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "assess", "assess", "--config", str(config), "--out", str(out),
                           "--json"], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "SOURCE_DATE_EPOCH": str(epoch)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def two_assessments(tmp_path_factory: pytest.TempPathFactory) -> TwoAssessments:
    """The sample estate assessed twice. Between the runs: a retired RSA-1024 certificate is removed, a new
    long-lived ECDSA certificate with a hostile subject is added, and one finding on an asset kept in both is
    waived. The eBPF sensor and AWS are off: what moves is exactly what the test moved."""
    import time

    started = time.perf_counter()
    root = tmp_path_factory.mktemp("diff")
    tree, out = root / "tree", root / "out"
    shutil.copytree(ROOT / "examples" / "estate", tree)
    _certificate(tree / "pki" / "certs" / "retired-rsa1024.pem", "retired.example",
                 rsa.generate_private_key(public_exponent=65537, key_size=1024), 3650)
    config = root / "carnot.toml"
    settings = (f'[scan]\npaths = ["{tree}"]\n[runtime]\nenabled = false\n[aws]\nenabled = false\n'
                '[gate]\nprofile = "balanced"\nengine = "regorus"\n')
    config.write_text(settings)
    first = _assess(config, out, 1_780_000_000)
    old_run = json.loads((out / "assessment" / "gate" / "opa_result.json").read_text())

    (tree / "pki" / "certs" / "retired-rsa1024.pem").unlink()
    _certificate(tree / "pki" / "certs" / "new-ecdsa.pem", HOSTILE_CN, ec.generate_private_key(ec.SECP256R1()),
                 7300)
    waived = next((f["rule"], f["bom_ref"]) for f in old_run["findings"]
                  if f["rule"] == "legacy-hash" and not f["waived"])
    (root / "waivers.json").write_text(json.dumps([{"rule": waived[0], "bom_ref": waived[1], "until": "2099-01-01",
                                                    "reason": "accepted until the vendor ships SHA-256"}]))
    config.write_text(settings + f'waivers = "{root / "waivers.json"}"\n')
    second = _assess(config, out, 1_790_000_000)
    new_run = json.loads((out / "assessment" / "gate" / "opa_result.json").read_text())
    return TwoAssessments(out=out, old=Path(first["bundle"]), new=Path(second["bundle"]), old_run=old_run,
                          new_run=new_run, waived=waived, seconds=time.perf_counter() - started)


def _carnot(*args: str | Path) -> subprocess.CompletedProcess[str]:
    # a wide terminal, so the table never wraps a name the test looks for
    return subprocess.run([sys.executable, "-m", "assess", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "COLUMNS": "400"})


def _keys(findings: list[dict[str, Any]], waived: bool | None = None) -> set[tuple[str, str]]:
    return {(f["rule"], f["bom_ref"]) for f in findings if waived is None or bool(f["waived"]) == waived}


@pytest.mark.slow
def test_carnot_diff_lists_exactly_the_changes_made_between_two_real_assessments(two_assessments) -> None:
    t = two_assessments
    proc = _carnot("diff", t.old, t.new, "--json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["format"] == "carnot-diff/1"
    assert (d["old"]["id"], d["new"]["id"]) == (t.old.stem.removeprefix("assessment-"),
                                                t.new.stem.removeprefix("assessment-"))

    added = {a["name"] for a in d["assets_added"]}
    removed = {a["name"] for a in d["assets_removed"]}
    assert any(HOSTILE_CN in name for name in added) and not any("retired" in name for name in added)
    assert any("retired.example" in name for name in removed) and not any(HOSTILE_CN in n for n in removed)
    assert all(a["asset_type"] == "certificate" for a in d["assets_added"] + d["assets_removed"])
    assert d["status_changed"] == []

    # findings: what the gate said in each run, by (rule, bom-ref) — the diff agrees with it exactly
    old_keys, new_keys = _keys(t.old_run["findings"]), _keys(t.new_run["findings"])
    assert {(f["rule"], f["bom_ref"]) for f in d["findings_fixed"]} == old_keys - new_keys
    assert {(f["rule"], f["bom_ref"]) for f in d["findings_new"]} == new_keys - old_keys
    assert {(f["rule"], f["bom_ref"]) for f in d["findings_waived"]} == {t.waived}
    assert d["findings_reopened"] == []
    removed_refs = {a["bom_ref"] for a in d["assets_removed"]}
    added_refs = {a["bom_ref"] for a in d["assets_added"]}
    assert d["findings_fixed"] and all(f["bom_ref"] in removed_refs for f in d["findings_fixed"])
    assert d["findings_new"] and all(f["bom_ref"] in added_refs for f in d["findings_new"])
    assert d["counts"] == {k: len(d[k]) for k in d["counts"]}
    assert d["new"]["assets"] == d["old"]["assets"] - len(removed_refs) + len(added_refs)
    assert d["new"]["waived_findings"] == d["old"]["waived_findings"] + 1
    # no sensor ran: no handshakes either side, so no share to compare
    assert d["old"]["pq_share"] is None and d["new"]["pq_share"] is None


@pytest.mark.slow
def test_carnot_diff_table_shows_hostile_names_as_text(two_assessments) -> None:
    proc = _carnot("diff", two_assessments.old, two_assessments.new)
    assert proc.returncode == 0, proc.stderr
    assert "assets added" in proc.stdout and "findings waived" in proc.stdout
    assert "<script>alert(1)</script>[red]x[/red]" in proc.stdout  # rich markup printed, not interpreted
    assert "\u202e" not in proc.stdout  # control and bidi characters are escaped on a terminal


@pytest.mark.slow
def test_the_site_and_the_pdf_show_the_same_changes_as_carnot_diff(two_assessments) -> None:
    t = two_assessments
    d = json.loads(_carnot("diff", t.old, t.new, "--json").stdout)
    new_id = d["new"]["id"]
    page = t.out / "site" / "assessments" / new_id
    assert json.loads((page / "changes.json").read_text()) == d
    html = (page / "changes.html").read_text()
    assert f'href="../../assessments/{d["old"]["id"]}.html"' in html and "changes.json" in html
    overview = (t.out / "site" / "assessments" / f"{new_id}.html").read_text()
    assert "What changed" in overview and f'href="../assessments/{new_id}/changes.html"' in overview
    first = (t.out / "site" / "assessments" / f"{d['old']['id']}.html").read_text()
    assert "This is the first assessment in the history" in first

    with zipfile.ZipFile(t.new) as zf:
        pdf = zf.read("report.pdf")
    text = _pdftotext(pdf, t.out)
    assert "What changed" in text and "Appendix: inventory" in text
    assert "retired.example" in text  # the removed certificate, listed
    assert "findings waived" in text


def _pdftotext(pdf: bytes, where: Path) -> str:
    path = where / "report-under-test.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


@pytest.mark.slow
def test_carnot_diff_refuses_a_tampered_bundle_with_exit_1(two_assessments, tmp_path: Path) -> None:
    t = two_assessments
    for bundle in (t.old, t.new):
        shutil.copy(bundle, tmp_path / bundle.name)
    shutil.copy(t.out / "dist" / "assessments_manifest.json", tmp_path / "assessments_manifest.json")
    tampered = tmp_path / t.new.name
    raw = bytearray(tampered.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    tampered.write_bytes(bytes(raw))
    proc = _carnot("diff", tmp_path / t.old.name, tampered)
    assert proc.returncode == 1
    assert t.new.name in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_carnot_diff_bad_input_is_one_line_naming_the_file_exit_2(tmp_path: Path) -> None:
    (tmp_path / "assessments_manifest.json").write_text("[]")
    not_zip = tmp_path / "assessment-x.zip"
    not_zip.write_text("not a zip")
    alone = tmp_path / "alone" / "assessment-y.zip"
    alone.parent.mkdir()
    alone.write_bytes(b"PK")
    for args, named in (((tmp_path / "missing.zip", not_zip), "missing.zip"),
                        ((alone, not_zip), "assessment-y.zip"),
                        ((not_zip, not_zip), "assessments_manifest.json")):
        proc = _carnot("diff", *args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert named in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
