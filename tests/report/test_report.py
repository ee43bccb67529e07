"""`carnot report`: the PDF of one assessment, checked through poppler (pdftotext, pdfinfo, pdftoppm)."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from PIL import Image
from report_fixtures import (
    ARTIFACTS,
    EPOCH,
    HOSTILE_COMM,
    HOSTILE_SNI,
    HOSTILE_SUBJECT,
    RUNTIME_GAP,
    copy_assessment,
    pdfinfo,
    pdftotext,
)

from assess.bundle import bundle_folder, read_manifest, sha256_file, verify_bundle
from assess.cli import main
from assess.config import AssessmentSettings
from assess.report import load_brand, write_report

SEVERITIES = ("critical", "high", "medium", "low")


def flat(text: str) -> str:
    """pdftotext's text with line breaks and hyphenation-free wrapping undone, for phrase checks."""
    return " ".join(text.split())


def render(folder: Path, out: Path, *extra: str, monkeypatch: pytest.MonkeyPatch, epoch: str = EPOCH) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    assert main(["report", "--assessment", str(folder), "--out", str(out), *extra]) == 0
    return out


@pytest.fixture(scope="module")
def default_pdf(default_assessment: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        return render(default_assessment, tmp_path_factory.mktemp("pdf") / "report.pdf", monkeypatch=mp)


def test_default_assessment_report_has_the_numbers_every_rule_and_the_gaps(default_assessment: Path,
                                                                          default_pdf: Path) -> None:
    info = pdfinfo(default_pdf)
    assert 8 <= int(info["Pages"]) <= 40
    assert info["Page size"].startswith("595.276 x 841.89")  # A4
    text = pdftotext(default_pdf)
    words = flat(text)

    predicate = json.loads((default_assessment / "attestation.json").read_text())["predicate"]
    summary, policy = predicate["summary"], predicate["policy"]
    exposure = predicate["exposure"]["summary"]
    defaults = AssessmentSettings()
    for section in ("Executive summary", "Quantum exposure", "Findings by severity", "What was not assessed",
                    "Migration roadmap", "Appendix: methods and tool versions"):
        assert section in text
    assert defaults.client in words and defaults.scope in words
    assert "not bundled yet" in words

    # the summary numbers: assets, open findings, high + critical, HNDL-exposed, no handshakes observed
    high_critical = policy["by_severity"]["high"] + policy["by_severity"]["critical"]
    assert f"Of {summary['crypto_assets']} cryptographic assets inventoried" in words
    assert f"The policy gate reports {policy['unwaived']} open findings, {high_critical} of them high or critical" \
        in words
    assert f"{exposure['hndl_exposed']} assets and flows exposed to harvest-now-decrypt-later" in words
    assert f"open high and critical policy findings (of {policy['unwaived']} open)" in words
    assert "No TLS handshakes were observed" in words
    for severity in SEVERITIES:
        count = policy["by_severity"][severity]
        assert f"{severity} {count}" in words  # the severity counts under "At a glance"
        if count:  # and the heading of that severity's findings
            assert re.search(rf"^{severity.upper()}$", text, re.MULTILINE), severity
            assert re.search(rf"^{count} findings?$", text, re.MULTILINE), severity

    findings = json.loads((default_assessment / "gate" / "opa_result.json").read_text())["findings"]
    rules = {f["rule"] for f in findings}
    assert len(rules) >= 8
    for rule in rules:
        assert rule in text, f"finding rule {rule} missing from the report"
    for f in findings:  # every finding's asset is listed (at most 20 per rule, and this estate has fewer)
        assert f["bom_ref"] in text

    gaps = predicate["gaps"]
    assert [g["stage"] for g in gaps] == ["runtime"]
    assert RUNTIME_GAP in words

    # the assumptions behind the exposure, and the tool versions
    assert "crqc_years" in words and "migration_years" in words and "Mosca" in words
    assert predicate["provenance"]["python"] in words
    assert "WeasyPrint" in words


def test_page_one_image_is_saved_as_an_artifact(default_pdf: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    prefix = ARTIFACTS / "report_page1"
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(default_pdf),
                    str(prefix)], check=True)
    png = prefix.with_suffix(".png")
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    assert width == 662 and 935 <= height <= 936  # A4 at 80 dpi
    shutil.copyfile(default_pdf, ARTIFACTS / "report_default.pdf")


def test_same_assessment_and_source_date_epoch_give_the_same_document(default_assessment: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    first = render(default_assessment, tmp_path / "first.pdf", monkeypatch=monkeypatch)
    second = render(default_assessment, tmp_path / "second.pdf", monkeypatch=monkeypatch)
    assert pdftotext(first) == pdftotext(second)
    assert first.read_bytes() == second.read_bytes()
    assert pdfinfo(first)["CreationDate"].startswith("2026-09-21T14:13:20")

    later = render(default_assessment, tmp_path / "later.pdf", monkeypatch=monkeypatch, epoch=str(int(EPOCH) + 86400))
    assert pdfinfo(later)["CreationDate"].startswith("2026-09-22T14:13:20")


def test_cover_gives_the_bundle_sha256_and_the_summary_the_trend(default_assessment: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    dist = tmp_path / "dist"
    earlier = copy_assessment(default_assessment, tmp_path / "earlier" / "assessment")
    (earlier / "assessment.json").write_text(json.dumps({"client": "Example Bank plc", "scope": "first look",
                                                         "date": "2026-03-01T00:00:00Z"}))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1772323200")
    bundle_folder(earlier, dist)
    current = copy_assessment(default_assessment, tmp_path / "current" / "assessment")

    before = render(current, tmp_path / "before.pdf", "--dist", str(dist), monkeypatch=monkeypatch)
    words = flat(pdftotext(before))
    assert "not bundled yet" in words
    assert "beside the 1 earlier bundle in the manifest" in words  # the trend has the earlier one

    # as `carnot assess` does it: the report inside the folder, then the bundle holds it and the manifest its SHA256
    inside = render(current, current / "report.pdf", "--dist", str(dist), monkeypatch=monkeypatch)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    entry = bundle_folder(current, dist)
    assert entry.files["report.pdf"] == sha256_file(inside)
    assert verify_bundle(dist / entry.bundle).intact
    assert read_manifest(dist / "assessments_manifest.json")[-1]["files"]["report.pdf"] == sha256_file(inside)

    # rendered again (in place), the folder matches the bundle: the cover names it
    after = render(current, current / "report.pdf", "--dist", str(dist), monkeypatch=monkeypatch)
    words = flat(pdftotext(after))
    assert entry.sha256 in words.replace(" ", "") and entry.id in words
    assert "not bundled yet" not in words
    assert "beside the 1 earlier bundle in the manifest" in words


def _pdf_objects(pdf: bytes) -> bytes:
    """The PDF's bytes with every Flate stream (object streams included) inflated."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n", pdf):
        try:
            parts.append(zlib.decompressobj().decompress(pdf[match.end():]))
        except zlib.error:
            continue
    return b"\n".join(parts)


def test_hostile_observed_strings_stay_inert_text(hostile_assessment: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = render(hostile_assessment, tmp_path / "hostile.pdf", monkeypatch=monkeypatch)
    text = pdftotext(pdf)
    assert HOSTILE_SNI in text  # literally, not interpreted
    assert HOSTILE_COMM in text
    assert "<b>Client</b> & <script>x</script>" in text
    assert 'CN=\\"\\>\\<a href=\\"javascript:alert(2)\\"\\>pwn\\</a\\>' in text or HOSTILE_SUBJECT in flat(text)

    objects = _pdf_objects(pdf.read_bytes())
    assert b"/Annot" in objects  # the table of contents links to its own pages: the check below can see links
    for action in (b"/URI", b"/JavaScript", b"/JS", b"/Launch", b"/SubmitForm", b"/ImportData", b"/GoToR"):
        assert action not in objects, action
    assert pdfinfo(pdf)["JavaScript"] == "no"


def test_brand_file_sets_name_contact_colours_and_logo(default_assessment: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    Image.new("RGB", (240, 80), "#123456").save(tmp_path / "logo.png")
    brand = tmp_path / "brand.toml"
    brand.write_text('name = "Quantum Ready Consulting"\ncontact = "pqc@qrc.example"\nlogo = "logo.png"\n'
                     '[colours]\nprimary = "#123456"\naccent = "#abcdef"\n')
    loaded = load_brand(brand)
    assert (loaded.primary, loaded.accent) == ("#123456", "#abcdef")
    assert loaded.logo is not None and loaded.logo.startswith("data:image/png;base64,")
    pdf = render(default_assessment, tmp_path / "branded.pdf", "--brand", str(brand), monkeypatch=monkeypatch)
    words = flat(pdftotext(pdf))
    assert "Prepared by Quantum Ready Consulting · pqc@qrc.example" in words
    assert pdfinfo(pdf)["Author"] == "Quantum Ready Consulting"
    images = subprocess.run(["pdfimages", "-list", "-f", "1", "-l", "1", str(pdf)], check=True,
                            capture_output=True, text=True).stdout
    assert len(images.splitlines()) == 3  # header, rule, the logo


@pytest.mark.parametrize(("content", "line", "says"), [
    ('name = "x"\ncolours = [\n', 2, "not valid TOML"),
    ('name = "x"\n[colours]\nprimary = "red; } body { display: none"\n', 3, "expected a hex colour"),
    ('name = "x"\nlogo = "missing.png"\n', 2, "no such file"),
    ('name = "x"\nlogo = "evil.svg"\n', 2, "not a PNG or JPEG"),
    ('name = "x"\n\nfont = "Comic Sans"\n', 3, "unknown setting"),
    ('name = 7\n', 1, "expected a string"),
])
def test_bad_brand_file_exits_2_naming_file_and_line(default_assessment: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str], content: str, line: int,
                                                     says: str) -> None:
    (tmp_path / "evil.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    brand = tmp_path / "brand.toml"
    brand.write_text(content)
    out = tmp_path / "never.pdf"
    code = main(["report", "--assessment", str(default_assessment), "--out", str(out), "--brand", str(brand)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"carnot: error: {brand}:{line}: ") and says in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_missing_assessment_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["report", "--assessment", str(tmp_path / "nope"), "--out", str(tmp_path / "r.pdf")])
    err = capsys.readouterr().err
    assert code == 2 and "no such" in err and str(tmp_path / "nope") in err


def test_folder_without_assessment_json_gets_neutral_cover(default_assessment: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    folder = copy_assessment(default_assessment, tmp_path / "assessment")
    (folder / "assessment.json").unlink()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    result = write_report(folder, tmp_path / "r.pdf")
    words = flat(pdftotext(Path(result.out)))
    assert "Client not recorded" in words and "Scope not recorded" in words
    assert result.bundle is None and result.pages >= 8


def test_folder_without_attestation_is_not_scored_but_keeps_every_finding(default_assessment: Path, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    folder = copy_assessment(default_assessment, tmp_path / "assessment")
    (folder / "attestation.json").unlink()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    text = pdftotext(Path(write_report(folder, tmp_path / "r.pdf").out))
    assert "Not scored" in text and "exposure was not scored" in flat(text)
    findings = json.loads((folder / "gate" / "opa_result.json").read_text())["findings"]
    assert findings and all(f["rule"] in text and f["bom_ref"] in text for f in findings)
    assert "No policy findings" not in text


def test_the_inventory_appendix_lists_the_worst_exposed_first_and_counts_the_rest() -> None:
    from assess.report import INVENTORY_ROWS, inventory_appendix
    from assess.viz.estate import build_estate

    results = [{"bom_ref": f"carnot:key:{i:03d}", "name": f"key {i}", "asset_type": "related-crypto-material",
                "algorithm": "RSA", "risk": "hndl" if i % 3 else "quantum_safe", "exposed": i % 2 == 0,
                "exposure_years": float(i % 7), "sources": ["static"]} for i in range(INVENTORY_ROWS + 25)]
    findings = [{"rule": "weak-rsa-key", "severity": "high", "bom_ref": "carnot:key:002", "waived": False},
                {"rule": "weak-rsa-key", "severity": "high", "bom_ref": "carnot:key:002", "waived": True}]
    inv = inventory_appendix(build_estate(None, results, findings))
    assert inv["total"] == INVENTORY_ROWS + 25 and len(inv["rows"]) == INVENTORY_ROWS and inv["more"] == 25
    statuses = [r["status"] for r in inv["rows"]]
    assert statuses == sorted(statuses, key=["HNDL exposed", "HNDL within margin", "quantum-safe"].index)
    exposed = [r for r in inv["rows"] if r["status"] == "HNDL exposed"]
    assert exposed[0]["name"] == "key 20"  # the most years over the deadline (6) first, then by name
    assert next(r for r in inv["rows"] if r["name"] == "key 2")["findings"] == 1  # open ones only
    assert sum(count for _, count in inv["more_by_status"]) == 25
