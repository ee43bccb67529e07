"""Assessment bundles: a reproducible zip per assessment and a hash-chained manifest of them all.

`bundle_folder` zips an assessment folder into `dist/assessment-<id>.zip` (sorted entries, fixed
timestamps from SOURCE_DATE_EPOCH, fixed permissions, a SHA256SUMS inside) and appends an entry to
`dist/assessments_manifest.json`. Every entry records the bundle's SHA256, the SHA256 of every
file inside, and the digest of the previous entry, so history is a hash chain. Both files are
written to a temporary name and renamed, under a lock, so a crash or a concurrent run never leaves
half a bundle or half a manifest.

`verify_bundle` recomputes all of it; it never trusts the bundle to describe itself.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assess.clock import build_time, iso
from assess.errors import InputError
from assess.fsio import atomic_writer, canonical_json, pretty_json, read_json, write_atomic

MANIFEST_NAME = "assessments_manifest.json"
MANIFEST_FORMAT = "carnot-assessments-manifest/1"
SUMS_NAME = "SHA256SUMS"
_ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=UTC)  # the earliest time a zip entry can carry
_CHUNK = 1 << 20


@dataclass(frozen=True)
class BundleEntry:
    """One manifest entry: a bundle and what was inside it when it was made."""

    id: str
    bundle: str
    sha256: str
    size: int
    created: str
    files: dict[str, str]
    previous: str | None
    entry_digest: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "bundle": self.bundle,
            "sha256": self.sha256,
            "size": self.size,
            "created": self.created,
            "files": dict(sorted(self.files.items())),
            "previous": self.previous,
            "entry_digest": self.entry_digest,
        }


@dataclass(frozen=True)
class VerifyResult:
    bundle: str
    manifest: str
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def intact(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "bundle": self.bundle,
            "manifest": self.manifest,
            "status": "intact" if self.intact else "tampered",
            "problems": list(self.problems),
        }


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def entry_digest(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "entry_digest"}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def assessment_files(folder: Path) -> list[tuple[str, Path]]:
    """Every regular file under folder as (posix relative name, path), sorted; symlinks refused."""
    if not folder.exists():
        raise InputError("no such folder", path=folder)
    if not folder.is_dir():
        raise InputError("not a folder; expected an assessment folder", path=folder)
    files: list[tuple[str, Path]] = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = Path(root, name)
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                raise InputError("symbolic links are not bundled; copy the file in instead", path=path)
            if not path.is_file():
                raise InputError("not a regular file", path=path)
            if rel == SUMS_NAME:
                raise InputError(f"{SUMS_NAME} is reserved for the bundle's own digest list", path=path)
            files.append((rel, path))
    if not files:
        raise InputError("the assessment folder is empty", path=folder)
    return sorted(files)


def _zip_time(created: datetime) -> tuple[int, int, int, int, int, int]:
    t = max(created, _ZIP_EPOCH).astimezone(UTC)
    return (t.year, t.month, t.day, t.hour, t.minute, t.second)


def _zip_info(name: str, when: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, so the permission bits below are honoured everywhere
    info.external_attr = (0o100644 & 0xFFFF) << 16
    return info


@contextmanager
def _manifest_lock(dist: Path) -> Iterator[None]:
    dist.mkdir(parents=True, exist_ok=True)
    with (dist / f".{MANIFEST_NAME}.lock").open("a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def read_manifest(path: Path) -> list[dict[str, Any]]:
    data = read_json(path)
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT or not isinstance(
        data.get("entries"), list
    ):
        raise InputError(f"not a Carnot assessments manifest (expected format {MANIFEST_FORMAT!r})", path=path)
    for index, entry in enumerate(data["entries"]):
        missing = {"id", "bundle", "sha256", "files", "previous", "entry_digest"} - set(entry)
        if missing:
            raise InputError(f"entry {index} lacks {', '.join(sorted(missing))}", path=path)
    return list(data["entries"])


def _manifest_document(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "head": entries[-1]["entry_digest"] if entries else None,
        "entries": entries,
    }


def bundle_folder(folder: str | Path, dist: str | Path) -> BundleEntry:
    """Zip an assessment folder into dist and record it in the manifest; returns the new entry."""
    src, out = Path(folder), Path(dist)
    files = assessment_files(src)
    created = build_time()
    digests = {rel: sha256_file(path) for rel, path in files}
    content_id = hashlib.sha256(canonical_json(digests)).hexdigest()[:12]
    bundle_id = f"{created.strftime('%Y%m%dT%H%M%SZ')}-{content_id}"
    bundle_name = f"assessment-{bundle_id}.zip"
    when = _zip_time(created)
    sums = "".join(f"{digests[rel]}  {rel}\n" for rel, _ in files).encode("utf-8")

    with _manifest_lock(out):
        manifest_path = out / MANIFEST_NAME
        entries = read_manifest(manifest_path) if manifest_path.exists() else []
        with atomic_writer(out / bundle_name) as fh:
            with zipfile.ZipFile(fh, "w") as zf:
                for rel, path in files:
                    with path.open("rb") as src_fh, zf.open(_zip_info(rel, when), "w") as dst:
                        while chunk := src_fh.read(_CHUNK):
                            dst.write(chunk)
                zf.writestr(_zip_info(SUMS_NAME, when), sums)
        bundle_path = out / bundle_name
        bundle_sha = sha256_file(bundle_path)
        existing = next((e for e in entries if e["bundle"] == bundle_name), None)
        if existing is not None and existing["sha256"] == bundle_sha:
            return _entry_from_dict(existing)
        if existing is not None:
            entries = [e for e in entries if e["bundle"] != bundle_name]
        record: dict[str, Any] = {
            "id": bundle_id,
            "bundle": bundle_name,
            "sha256": bundle_sha,
            "size": bundle_path.stat().st_size,
            "created": iso(created),
            "files": dict(sorted(digests.items())),
            "previous": entries[-1]["entry_digest"] if entries else None,
        }
        record["entry_digest"] = entry_digest(record)
        entries.append(record)
        write_atomic(manifest_path, pretty_json(_manifest_document(entries)))
    return _entry_from_dict(record)


def _entry_from_dict(d: dict[str, Any]) -> BundleEntry:
    return BundleEntry(
        id=d["id"], bundle=d["bundle"], sha256=d["sha256"], size=d.get("size", 0), created=d.get("created", ""),
        files=dict(d["files"]), previous=d["previous"], entry_digest=d["entry_digest"],
    )


def chain_problems(entries: list[dict[str, Any]]) -> list[str]:
    """Every place where the manifest's hash chain does not hold."""
    problems: list[str] = []
    previous: str | None = None
    for index, entry in enumerate(entries):
        if entry["previous"] != previous:
            problems.append(
                f"manifest chain broken at entry {index} ({entry['bundle']}): it names a previous entry "
                "that is not the one before it (an entry was removed, reordered or altered)"
            )
        if entry_digest(entry) != entry["entry_digest"]:
            problems.append(f"manifest entry {index} ({entry['bundle']}) was altered: its digest does not match")
        previous = entry["entry_digest"]
    return problems


def verify_bundle(bundle: str | Path, manifest: str | Path | None = None) -> VerifyResult:
    """Check a bundle against its manifest entry, every file inside, and the manifest's chain.

    Raises InputError when there is nothing to verify against (a missing bundle or manifest, a
    manifest that does not list the bundle); returns the problems found otherwise.
    """
    bundle_path = Path(bundle)
    if not bundle_path.is_file():
        raise InputError("no such bundle file" if not bundle_path.exists() else "not a file", path=bundle_path)
    manifest_path = Path(manifest) if manifest is not None else bundle_path.parent / MANIFEST_NAME
    if not manifest_path.exists():
        raise InputError("no manifest to verify against; pass --manifest FILE", path=manifest_path)
    entries = read_manifest(manifest_path)
    entry = next((e for e in entries if e["bundle"] == bundle_path.name), None)
    if entry is None:
        raise InputError(f"the manifest does not list {bundle_path.name}", path=manifest_path)

    problems = chain_problems(entries)
    actual_sha = sha256_file(bundle_path)
    if actual_sha != entry["sha256"]:
        problems.append(f"bundle SHA256 is {actual_sha}, the manifest recorded {entry['sha256']}")
    problems += _zip_content_problems(bundle_path, entry["files"])
    head = read_json(manifest_path).get("head")
    if entries and head != entries[-1]["entry_digest"]:
        problems.append("manifest head does not match its last entry (an entry was removed or added)")
    return VerifyResult(bundle=str(bundle_path), manifest=str(manifest_path), problems=tuple(problems))


def _zip_content_problems(bundle_path: Path, recorded: dict[str, str]) -> list[str]:
    problems: list[str] = []
    try:
        with zipfile.ZipFile(bundle_path) as zf:
            names = [i.filename for i in zf.infolist()]
            inside = set(names) - {SUMS_NAME}
            if len(names) != len(set(names)):
                problems.append("the bundle holds the same file name twice")
            for name in sorted(inside - set(recorded)):
                problems.append(f"file added to the bundle: {name}")
            for name in sorted(set(recorded) - inside):
                problems.append(f"file missing from the bundle: {name}")
            for name in sorted(inside & set(recorded)):
                digest = hashlib.sha256()
                try:
                    with zf.open(name) as fh:
                        while chunk := fh.read(_CHUNK):
                            digest.update(chunk)
                except Exception as e:  # a corrupted header can raise almost anything; all mean tampered
                    problems.append(f"file {name} cannot be read from the bundle: {e}")
                    continue
                if digest.hexdigest() != recorded[name]:
                    problems.append(f"file {name} changed: SHA256 {digest.hexdigest()}, recorded {recorded[name]}")
    except Exception as e:  # as above: an unreadable zip is a changed zip
        problems.append(f"the bundle is not a readable zip any more: {e}")
    return problems
