"""Bundles under attack: forged contents, replays, zip aliases, bombs, hostile key files.

Each test plays an attacker who holds a signed bundle and its manifest but not the signing key:
they may change any byte and recompute every digest in the manifest (`_forge_manifest`), as
anyone can. `carnot verify --public-key` must then fail and name what is wrong; without a key,
verify proves only that the bundle matches the manifest at hand (docs/SECURITY.md).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import stat
import subprocess
import sys
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sigstore_instance import LocalSigstore

from assess import bundle as bundle_mod
from assess.bundle import MANIFEST_NAME, bundle_folder, bundle_id_for, entry_digest
from assess.signing import Ed25519Signer, Signer

pytestmark = pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")  # the attacker's zips

FORGED = b'{"forged": true}\n'
RELEASE_IDENTITY = "https://github.com/example/carnot/.github/workflows/release.yml@refs/tags/v1.2.3"
GENUINE_ATTESTATION = b'{"_type": "https://in-toto.io/Statement/v1", "predicate": {"verdict": "WARN"}}\n'


@dataclass(frozen=True)
class Kit:
    """A way to sign bundles, and the `carnot verify` flags that trust it."""

    kind: str
    signer: Signer
    verify: tuple[str, ...]


def _ed25519(tmp_path: Path) -> Kit:
    key = Ed25519PrivateKey.generate()
    public = tmp_path / "sign.pub.pem"
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return Kit("ed25519", Ed25519Signer(key), ("--public-key", str(public)))


def _sigstore(tmp_path: Path) -> Kit:
    instance = LocalSigstore()
    root = instance.trusted_root(tmp_path / "trusted_root.json")
    return Kit("sigstore", instance.signer(RELEASE_IDENTITY),
               ("--certificate-identity", RELEASE_IDENTITY, "--trusted-root", str(root)))


@pytest.fixture(params=["ed25519", "sigstore"])
def kit(request: pytest.FixtureRequest, tmp_path: Path) -> Kit:
    """Each signature-bearing attack, against a consultant's key and against CI's keyless identity."""
    return _ed25519(tmp_path) if request.param == "ed25519" else _sigstore(tmp_path)


@pytest.fixture
def ed25519(tmp_path: Path) -> Kit:
    return _ed25519(tmp_path)


def _assessment(folder: Path, verdict: str = "WARN") -> Path:
    """The files a client reads, as `carnot assess` leaves them (contents shortened)."""
    (folder / "gate").mkdir(parents=True)
    (folder / "attestation.json").write_bytes(GENUINE_ATTESTATION)
    (folder / "attestation.md").write_text(f"# Assessment\n\nPolicy status: **{verdict}**\n")
    (folder / "report.pdf").write_bytes(b"%PDF-1.7\n% the genuine report\n")
    (folder / "hndl_sankey.html").write_text("<script>/* the genuine chart */</script>\n")
    (folder / "hndl_sankey.png").write_bytes(b"\x89PNG genuine")
    (folder / "viz_data.json").write_text('{"exposed_flows": 3}\n')
    (folder / "gate" / "opa_result.json").write_text('{"findings": []}\n')
    return folder


def _signed_bundle(folder: Path, dist: Path, kit: Kit, epoch: int, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
    return dist / bundle_folder(folder, dist, signers=[kit.signer]).bundle


def _members(bundle: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(bundle) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def _write_zip(path: Path, members: list[tuple[str, bytes]], *, mode: dict[str, int] | None = None) -> None:
    """A zip laid out as bundle_folder lays them out, with whatever names and bytes the attacker chose."""
    when = (2026, 1, 1, 0, 0, 0)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            info = bundle_mod._zip_info("placeholder", when)
            info.filename = info.orig_filename = name
            if mode and name in mode:
                info.external_attr = mode[name] << 16
            zf.writestr(info, data)


def _stream_digests(bundle: Path) -> dict[str, str]:
    digests = {}
    with zipfile.ZipFile(bundle) as zf:
        for info in zf.infolist():
            digest = hashlib.sha256()
            with zf.open(info) as fh:
                while chunk := fh.read(1 << 20):
                    digest.update(chunk)
            digests[info.filename] = digest.hexdigest()
    return digests


def _forge(dist: Path, bundle: Path, members: list[tuple[str, bytes]] | None = None, *,
           created: str | None = None, append: bool = False, mode: dict[str, int] | None = None) -> Path:
    """What anyone can do without the key: rewrite the bundle (members, SHA256SUMS made to agree,
    the signature left as it was), name it after its new contents, and recompute the manifest's
    entry, chain and head. Returns the forged bundle's path."""
    manifest_path = dist / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    entries = manifest["entries"]
    index = len(entries) if append else next(i for i, e in enumerate(entries) if e["bundle"] == bundle.name)
    entry = dict(entries[-1] if append else entries[index])
    if members is not None:
        files = {n: hashlib.sha256(d).hexdigest() for n, d in members if n not in bundle_mod.RESERVED_NAMES}
        sums = "".join(f"{files[n]}  {n}\n" for n in sorted(files)).encode()
        members = [(n, sums if n == "SHA256SUMS" else d) for n, d in members]
        _write_zip(bundle, members, mode=mode)
    files = {n: d for n, d in _stream_digests(bundle).items() if n not in bundle_mod.RESERVED_NAMES}
    entry["created"] = created or entry["created"]
    when = datetime.strptime(entry["created"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    entry["id"] = bundle_id_for(when, files)
    forged = dist / f"assessment-{entry['id']}.zip"
    if forged != bundle:
        shutil.copyfile(bundle, forged)
        if not append:
            bundle.unlink()
    entry.update(bundle=forged.name, sha256=bundle_mod.sha256_file(forged), size=forged.stat().st_size, files=files)
    entries[index:index + 1] = [entry]
    previous = None
    for e in entries:
        e["previous"] = previous
        e["entry_digest"] = entry_digest(e)
        previous = e["entry_digest"]
    manifest["head"] = previous  # the old head_signature stays: the attacker cannot make a new one
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return forged


def test_a_signed_bundle_verifies_with_its_key_and_covers_every_file(tmp_path, kit, monkeypatch, carnot):
    bundle = _signed_bundle(_assessment(tmp_path / "a"), tmp_path / "dist", kit, 1_780_000_000, monkeypatch)
    done = carnot("verify", str(bundle), *kit.verify, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["signature"] == "verified"
    expected = "Ed25519 key " if kit.kind == "ed25519" else f"Sigstore identity {RELEASE_IDENTITY}"
    assert report["trust"].startswith(expected)
    with zipfile.ZipFile(bundle) as zf:
        document = json.loads(zf.read(f"bundle.{kit.signer.kind}.json"))
    envelope = document if kit.kind == "ed25519" else document["dsseEnvelope"]
    statement = json.loads(base64.b64decode(envelope["payload"]))
    subjects = {s["name"] for s in statement["subject"]}
    assert subjects == {n for n, _ in _members(bundle)} - {f"bundle.{kit.signer.kind}.json"}
    assert {"report.pdf", "attestation.md", "hndl_sankey.html", "hndl_sankey.png", "viz_data.json"} <= subjects
    assert statement["predicate"] == {"id": bundle.stem.removeprefix("assessment-"), "bundle": bundle.name,
                                      "created": "2026-05-28T20:26:40Z", "previous": None}


def test_a_forged_report_and_a_softened_verdict_fail_verify_and_are_not_published(tmp_path, kit, monkeypatch,
                                                                                  carnot):
    dist = tmp_path / "dist"
    bundle = _signed_bundle(_assessment(tmp_path / "a"), dist, kit, 1_780_000_000, monkeypatch)
    members = [(n, b"%PDF-1.7\n% a forged report\n" if n == "report.pdf"
                else d.replace(b"**WARN**", b"**PASS**") if n == "attestation.md" else d) for n, d in _members(bundle)]
    bundle = _forge(dist, bundle, members)

    assert carnot("verify", str(bundle)).returncode == 0  # what no key can tell: the manifest agrees
    done = carnot("verify", str(bundle), *kit.verify)
    assert done.returncode == 1
    assert "signed file changed: report.pdf" in done.stderr
    assert "signed file changed: attestation.md" in done.stderr
    assert "signed id" in done.stderr  # its new name follows its new contents
    assert "manifest's signed head is not its head" in done.stderr

    site = carnot("site", "build", "--dist", str(dist), "--out", str(tmp_path / "site"), *kit.verify, "--json")
    assert site.returncode == 0, site.stderr
    assert json.loads(site.stdout)["tampered"] == [bundle.name]
    assert not (tmp_path / "site" / "dist" / bundle.name).exists()


def test_files_added_to_a_signed_bundle_are_not_covered_by_its_signature(tmp_path, kit, monkeypatch, carnot):
    dist = tmp_path / "dist"
    bundle = _signed_bundle(_assessment(tmp_path / "a"), dist, kit, 1_780_000_000, monkeypatch)
    members = _members(bundle)
    bundle = _forge(dist, bundle, sorted([*members[:-2], ("zz-extra.html", b"<script>alert(1)</script>")])
                    + members[-2:])
    done = carnot("verify", str(bundle), *kit.verify)
    assert done.returncode == 1 and "file not covered by the signature: zz-extra.html" in done.stderr


def test_an_old_signed_bundle_renamed_to_a_later_id_is_a_replay_and_fails(tmp_path, kit, monkeypatch, carnot):
    dist = tmp_path / "dist"
    old = _signed_bundle(_assessment(tmp_path / "a", "FAIL"), dist, kit, 1_770_000_000, monkeypatch)
    _signed_bundle(_assessment(tmp_path / "b", "WARN"), dist, kit, 1_780_000_000, monkeypatch)
    replayed = _forge(dist, old, created="2027-01-01T00:00:00Z", append=True)
    assert replayed != old and old.exists()

    assert carnot("verify", str(replayed)).returncode == 0  # consistent, as far as anyone without the key can say
    done = carnot("verify", str(replayed), *kit.verify)
    assert done.returncode == 1
    for bound in ("signed id", "signed bundle", "signed created", "signed previous"):
        assert bound in done.stderr, bound
    assert "manifest's signed head is not its head" in done.stderr


def test_a_recomputed_chain_without_the_key_fails_the_signed_head(tmp_path, kit, monkeypatch, carnot):
    dist = tmp_path / "dist"
    first = _signed_bundle(_assessment(tmp_path / "a"), dist, kit, 1_770_000_000, monkeypatch)
    _signed_bundle(_assessment(tmp_path / "b"), dist, kit, 1_780_000_000, monkeypatch)
    manifest = json.loads((dist / MANIFEST_NAME).read_text())
    manifest["entries"] = manifest["entries"][:1]  # the later assessment is made to disappear
    manifest["head"] = manifest["entries"][0]["entry_digest"]
    (dist / MANIFEST_NAME).write_text(json.dumps(manifest))
    assert carnot("verify", str(first)).returncode == 0
    done = carnot("verify", str(first), *kit.verify)
    assert done.returncode == 1 and "manifest's signed head is not its head" in done.stderr


# --- one canonical form: aliases ----------------------------------------------------------------

ALIASES = {
    "dot-slash": ("./attestation.json", None),
    "dot-dot-inside": ("x/../attestation.json", None),
    "escaping": ("../../attestation.json", None),
    "absolute": ("/tmp/carnot-forged-attestation.json", None),
    "exact-duplicate": ("attestation.json", None),
    "case-twin": ("Attestation.json", None),
    "symlink": ("attestation.json.lnk", stat.S_IFLNK | 0o777),
    "folder": ("evidence/", stat.S_IFDIR | 0o755),
    "backslash": ("x\\..\\attestation.json", None),
}


def _aliased_bundle(tmp_path: Path, kit: Kit, monkeypatch: pytest.MonkeyPatch,
                    form: str) -> tuple[Path, Path]:
    dist = tmp_path / "dist"
    bundle = _signed_bundle(_assessment(tmp_path / "a"), dist, kit, 1_780_000_000, monkeypatch)
    name, mode = ALIASES[form]
    data = b"/etc/passwd" if form == "symlink" else b"" if form == "folder" else FORGED
    return dist, _forge(dist, bundle, [*_members(bundle), (name, data)], mode={name: mode} if mode else None)


@pytest.mark.parametrize("form", sorted(ALIASES))
def test_every_alias_form_is_refused_by_verify_and_extract_naming_the_entry(form, tmp_path, ed25519, monkeypatch,
                                                                           carnot):
    _, bundle = _aliased_bundle(tmp_path, ed25519, monkeypatch, form)
    done = carnot("verify", str(bundle))  # no key needed: carnot bundle never writes such an entry
    assert done.returncode == 1, done.stderr
    shown = json.dumps(ALIASES[form][0])[1:-1]
    assert f"entry {shown!r}" in done.stderr, done.stderr
    out = tmp_path / "extracted"
    refused = carnot("extract", str(bundle), "--out", str(out))
    assert refused.returncode == 1 and not out.exists()


EXTRACTORS = {
    "unzip -o": lambda zip_, out: ["unzip", "-o", "-q", str(zip_), "-d", str(out)],
    "jar xf": lambda zip_, out: ["sh", "-c", f'cd "{out}" && jar xf "{zip_}"'],
    "python extractall": lambda zip_, out: [sys.executable, "-c",
                                            f"import zipfile; zipfile.ZipFile({str(zip_)!r}).extractall({str(out)!r})"],
}


# Where each extractor writes the forged entry over the genuine attestation.json (others refuse or
# rename some forms: Python's extractall and unzip drop "x/.." into "x/").
OVERWRITES = [(form, extractor) for form in ("dot-slash", "exact-duplicate") for extractor in sorted(EXTRACTORS)]
OVERWRITES.append(("dot-dot-inside", "jar xf"))


@pytest.mark.parametrize(("form", "extractor"), OVERWRITES)
def test_the_aliases_a_common_extractor_writes_over_the_genuine_file_are_the_ones_verify_refuses(
        form, extractor, tmp_path, ed25519, monkeypatch, carnot):
    """Why verify must refuse them: these extractors write the forged bytes over attestation.json."""
    if shutil.which(EXTRACTORS[extractor](Path("z"), Path("o"))[0]) is None or (
            extractor == "jar xf" and shutil.which("jar") is None):
        pytest.fail(f"{extractor} is not installed (tools/provision.sh and the JDK provide it)")
    _, bundle = _aliased_bundle(tmp_path, ed25519, monkeypatch, form)
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(EXTRACTORS[extractor](bundle, out), capture_output=True, timeout=60, check=False)
    assert (out / "attestation.json").read_bytes() == FORGED, "the extractor kept the genuine file"
    assert carnot("verify", str(bundle)).returncode == 1


def test_carnot_extract_writes_exactly_the_verified_files(tmp_path, kit, monkeypatch, carnot):
    bundle = _signed_bundle(_assessment(tmp_path / "a"), tmp_path / "dist", kit, 1_780_000_000, monkeypatch)
    out = tmp_path / "x" / "extracted"
    done = carnot("extract", str(bundle), "--out", str(out), *kit.verify)
    assert done.returncode == 0, done.stderr
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == sorted(n for n, _ in _members(bundle))
    assert (out / "attestation.json").read_bytes() == GENUINE_ATTESTATION
    again = carnot("extract", str(bundle), "--out", str(out))
    assert again.returncode == 2 and "not an empty folder" in again.stderr


# --- bombs ---------------------------------------------------------------------------------------

def _deflated_zeros(size: int) -> tuple[bytes, int]:
    """size zero bytes, raw-deflated as a zip entry holds them, and their CRC-32."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk, crc, parts = bytes(1 << 20), 0, []
    for _ in range(size >> 20):
        parts.append(packer.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    parts.append(packer.flush())
    return b"".join(parts), crc


def _bomb(bundle: Path, name: str, size: int) -> None:
    """Append an entry of `size` zeros (about size/1000 bytes on disk) to a bundle, keeping its layout."""
    members = _members(bundle)
    _write_zip(bundle, members)
    packed, crc = _deflated_zeros(size)
    with zipfile.ZipFile(bundle, "a") as zf:
        info = bundle_mod._zip_info(name, (2026, 1, 1, 0, 0, 0))
        info.compress_size, info.file_size, info.CRC = len(packed), size, crc
        # zipfile has no API for writing pre-compressed data: write the header, then the bytes.
        zf.fp.seek(zf.start_dir)
        info.header_offset = zf.start_dir
        zf.fp.write(info.FileHeader())
        zf.fp.write(packed)
        zf.start_dir = zf.fp.tell()
        zf.filelist.append(info)
        zf.NameToInfo[name] = info
        zf._didModify = True


# Measures a command's peak RSS from a small launcher: a child's ru_maxrss starts at its parent's
# resident size when it forks (the kernel carries it over fork and exec), so forking the command
# straight from pytest, which holds hundreds of MiB after other tests, would count pytest's memory.
_LAUNCHER = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def _peak_rss_mib(argv: list[str]) -> tuple[int, float, str]:
    """Exit code, the kernel's peak resident set of the command (MiB), and its stderr."""
    done = subprocess.run([sys.executable, "-c", _LAUNCHER, *argv], capture_output=True, text=True, timeout=300)
    code, maxrss_kib = done.stdout.split()
    return int(code), int(maxrss_kib) / 1024, done.stderr


@pytest.mark.slow
def test_a_one_megabyte_bundle_that_inflates_to_a_gigabyte_is_refused_from_its_headers(tmp_path, ed25519, monkeypatch):
    dist = tmp_path / "dist"
    bundle = _signed_bundle(_assessment(tmp_path / "a"), dist, ed25519, 1_780_000_000, monkeypatch)
    _bomb(bundle, "runtime.jsonl", 1 << 30)
    bundle = _forge(dist, bundle)
    assert bundle.stat().st_size < 2 << 20
    carnot = [sys.executable, "-m", "assess"]
    code, rss, err = _peak_rss_mib([*carnot, "verify", str(bundle), *ed25519.verify])
    assert code == 1 and "inflates 1" in err and "times, over the limit of 100" in err, err
    assert rss < 300, f"verify held {rss:.0f} MiB"
    code, rss, err = _peak_rss_mib([*carnot, "site", "build", "--dist", str(dist), "--out", str(tmp_path / "s")])
    assert code == 0, err
    assert rss < 400, f"site build held {rss:.0f} MiB"
    downloads = (tmp_path / "s" / "downloads.html").read_text()
    assert "over the limit of 100" in downloads


def test_many_small_zero_files_are_a_bomb_as_a_whole(tmp_path, ed25519, monkeypatch, carnot):
    dist = tmp_path / "dist"
    bundle = _signed_bundle(_assessment(tmp_path / "a"), dist, ed25519, 1_780_000_000, monkeypatch)
    for i in range(3):
        _bomb(bundle, f"part-{i}.bin", 8 << 20)  # each under the per-file floor; together 24 MiB from ~25 KiB
    bundle = _forge(dist, bundle)
    done = carnot("verify", str(bundle))
    assert done.returncode == 1 and "as a whole, over the limit of 100" in done.stderr


def test_entries_that_overlap_or_hide_bytes_are_refused(tmp_path, ed25519, monkeypatch, carnot):
    dist = tmp_path / "dist"
    bundle = _signed_bundle(_assessment(tmp_path / "a"), dist, ed25519, 1_780_000_000, monkeypatch)
    raw = bytearray(bundle.read_bytes())
    with zipfile.ZipFile(bundle) as zf:
        second = zf.infolist()[1]
        cd_offset = zf.start_dir
    # Point the second entry's directory record at the first entry's data (a quoted-overlap bomb).
    record = raw.find(b"PK\x01\x02", cd_offset, len(raw))
    record = raw.find(b"PK\x01\x02", record + 4, len(raw))
    assert int.from_bytes(raw[record + 42:record + 46], "little") == second.header_offset
    raw[record + 42:record + 46] = (0).to_bytes(4, "little")
    bundle.write_bytes(bytes(raw))
    done = carnot("verify", str(bundle))
    assert done.returncode == 1 and ("not where the entry before it ends" in done.stderr
                                     or "cannot be read" in done.stderr), done.stderr


def test_a_key_or_manifest_that_is_a_device_is_refused_at_once(tmp_path, ed25519, monkeypatch, carnot):
    bundle = _signed_bundle(_assessment(tmp_path / "a"), tmp_path / "dist", ed25519, 1_780_000_000, monkeypatch)
    for flag in ("--public-key", "--manifest"):
        done = carnot("verify", str(bundle), flag, "/dev/zero", timeout=30)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip() == ("carnot: error: /dev/zero: not a regular file (a device or socket); "
                                       "expected a file")


# --- failure as data on the site ----------------------------------------------------------------

MALFORMED = {
    "superscript-digit": lambda p: p["exposure"]["results"][0]["flow"].__setitem__("handshakes", "²"),
    "string-for-number": lambda p: p["summary"].__setitem__("crypto_assets", "many"),
    "list-for-object": lambda p: p.__setitem__("policy", []),
    "object-for-list": lambda p: p["exposure"].__setitem__("results", {"a": 1}),
}


def _predicate() -> dict:
    return {
        "summary": {"crypto_assets": 1, "policy_status": "warn"},
        "policy": {"status": "warn", "findings": [{"rule": "tls-no-hybrid-pq", "severity": "high",
                                                   "bom_ref": "a", "message": "m", "waived": False}]},
        "exposure": {"as_of": "2026-01-01", "assumptions": {}, "summary": {"flows": 1},
                     "results": [{"bom_ref": "a", "name": "flow", "risk": "hndl", "algorithm": "X25519",
                                  "sources": ["runtime"], "is_flow": True, "exposed": True,
                                  "flow": {"handshakes": "12", "sni": "a.example"}}]},
        "gaps": [],
    }


def test_a_verifying_bundle_with_malformed_fields_is_listed_and_the_others_are_published(tmp_path, kit,
                                                                                        monkeypatch, carnot):
    dist = tmp_path / "dist"
    good = []
    for i, (case, spoil) in enumerate(sorted(MALFORMED.items())):
        folder = tmp_path / case
        folder.mkdir()
        predicate = _predicate()
        spoil(predicate)
        (folder / "attestation.json").write_text(json.dumps({"_type": "https://in-toto.io/Statement/v1",
                                                             "predicate": predicate}))
        _signed_bundle(folder, dist, kit, 1_770_000_000 + i * 86_400, monkeypatch)
        ok = tmp_path / f"good-{i}"
        ok.mkdir()
        (ok / "attestation.json").write_text(json.dumps({"_type": "https://in-toto.io/Statement/v1",
                                                         "predicate": _predicate()}))
        good.append(_signed_bundle(ok, dist, kit, 1_770_000_000 + i * 86_400 + 3600, monkeypatch))
    done = carnot("site", "build", "--dist", str(dist), "--out", str(tmp_path / "site"), *kit.verify, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["assessments"] == len(good) and len(report["tampered"]) == len(MALFORMED)
    downloads = (tmp_path / "site" / "downloads.html").read_text()
    assert downloads.count("unreadable: attestation.json&#39;s predicate inside the bundle") == len(MALFORMED)
    for bundle in good:
        assert (tmp_path / "site" / "dist" / bundle.name).is_file()


def test_keyless_signing_without_an_ambient_identity_is_one_clean_error(tmp_path, carnot):
    folder = _assessment(tmp_path / "a")
    env = {k: "" for k in ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "SIGSTORE_ID_TOKEN")}
    done = carnot("bundle", str(folder), "--dist", str(tmp_path / "dist"), "--sign-keyless", env=env)
    assert done.returncode == 2
    assert done.stderr.startswith("carnot: error: no OIDC identity for keyless signing") and \
        done.stderr.count("\n") == 1, done.stderr
    assert not (tmp_path / "dist").exists() or not list((tmp_path / "dist").glob("*.zip"))
