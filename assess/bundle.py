"""Assessment bundles: a reproducible zip per assessment and a hash-chained manifest of them all.

`bundle_folder` zips an assessment folder into `dist/assessment-<id>.zip` (sorted entries, fixed
timestamps from SOURCE_DATE_EPOCH, fixed permissions, a SHA256SUMS inside) and appends an entry to
`dist/assessments_manifest.json`. Every entry records the bundle's SHA256, the SHA256 of every
file inside, and the digest of the previous entry, so history is a hash chain. Both files are
written to a temporary name and renamed, under a lock, so a crash or a concurrent run never leaves
half a bundle or half a manifest.

Signed (by an `assess.signing.Signer`: an Ed25519 key, or Sigstore keyless in CI), the bundle
carries `bundle.<kind>.json` (`bundle.dsse.json`, `bundle.sigstore.json`): a signature over an
in-toto Statement whose subjects are every other file of the zip and whose predicate binds the
bundle's id, name, creation time and the manifest entry before it; the manifest's head is signed
too (`head_<kind>`, over a statement naming the head digest). A signed bundle cannot gain, lose
or change a file, be renamed, or be replayed at another place in the history without the key.

`verify_bundle` recomputes all of it; it never trusts the bundle to describe itself. It accepts
only the one canonical form `bundle_folder` writes (`zip_problems`): normalised relative names,
regular files, each name once (also ignoring case), entries laid out end to end with nothing
before, between or after them, and sizes within the limits below, which are checked from the
headers before anything is inflated; hashing streams, so memory stays flat.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import stat
import struct
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assess.clock import build_time, iso
from assess.errors import InputError, OutputError, VerificationError
from assess.fsio import atomic_writer, canonical_json, parse_json_bytes, pretty_json, read_json, write_atomic
from assess.signing import Signer, Trust

MANIFEST_NAME = "assessments_manifest.json"
MANIFEST_FORMAT = "carnot-assessments-manifest/1"
SUMS_NAME = "SHA256SUMS"
SIGNATURE_KINDS = ("dsse", "sigstore")  # the Signer kinds, in the order their files follow SHA256SUMS
SIGNATURE_NAMES = tuple(f"bundle.{kind}.json" for kind in SIGNATURE_KINDS)
SIGNATURE_NAME = SIGNATURE_NAMES[0]
RESERVED_NAMES = frozenset({SUMS_NAME, *SIGNATURE_NAMES})
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
BUNDLE_PREDICATE_TYPE = "https://carnot.dev/bundle/v1"
HEAD_PREDICATE_TYPE = "https://carnot.dev/manifest-head/v1"
_ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=UTC)  # the earliest time a zip entry can carry
_CHUNK = 1 << 20
_FILE_MODE = 0o100644  # a regular file, rw-r--r--: every entry bundle_folder writes

# Limits on what a bundle may hold, checked from its headers before anything is inflated. Real
# assessments stay far below them (the largest file of a fleet-wide assessment is its runtime
# JSON lines); a zip bomb does not.
MAX_ENTRIES = 100_000
MAX_ENTRY_BYTES = 4 << 30  # uncompressed, one file
MAX_BUNDLE_BYTES = 16 << 30  # uncompressed, all files
MAX_RATIO = 100  # uncompressed / compressed, for files over RATIO_FLOOR
RATIO_FLOOR = 16 << 20
MAX_MEMBER_READ = 512 << 20  # a file read into memory (JSON the site or verify parses)


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
    trust: str | None = None  # whose signatures were checked (a key id, a Sigstore identity), if anyone's
    signature_ok: bool = False
    digests: dict[str, str] = field(default_factory=dict, compare=False)  # sha256 of every canonical entry

    @property
    def intact(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "bundle": self.bundle,
            "manifest": self.manifest,
            "status": "intact" if self.intact else "tampered",
            "signature": "not checked" if self.trust is None else "verified" if self.signature_ok else "failed",
            "trust": self.trust,
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


def name_problem(name: str) -> str | None:
    """Why name is not one bundle_folder writes (a normalised relative posix path), or None."""
    if not name or len(name) > 1024:
        return "an empty or overlong name"
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in name) or "\\" in name:
        return "a control character or backslash in the name"
    if name.startswith("/"):
        return "an absolute name"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return "a name with an empty, '.' or '..' part (or a folder entry)"
    return None


def assessment_files(folder: Path) -> list[tuple[str, Path]]:
    """Every regular file under folder as (posix relative name, path), sorted; symlinks refused."""
    if not folder.exists():
        raise InputError("no such folder", path=folder)
    if not folder.is_dir():
        raise InputError("not a folder; expected an assessment folder", path=folder)
    files: list[tuple[str, Path]] = []
    folded: dict[str, str] = {}
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = Path(root, name)
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                raise InputError("symbolic links are not bundled; copy the file in instead", path=path)
            if not path.is_file():
                raise InputError("not a regular file", path=path)
            if rel in RESERVED_NAMES:
                raise InputError(f"{rel} is reserved for the bundle's own digest list and signature", path=path)
            if (problem := name_problem(rel)) is not None:
                raise InputError(f"cannot be bundled: {problem}", path=path)
            if (twin := folded.setdefault(rel.casefold(), rel)) != rel:
                raise InputError(f"differs from {twin} only in case; a bundle names each file once, ignoring case",
                                 path=path)
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
    info.external_attr = (_FILE_MODE & 0xFFFF) << 16
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


def read_manifest_document(path: Path) -> dict[str, Any]:
    """The manifest, its entries checked for the keys and types verify relies on."""
    data = read_json(path)
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT or not isinstance(
        data.get("entries"), list
    ):
        raise InputError(f"not a Carnot assessments manifest (expected format {MANIFEST_FORMAT!r})", path=path)
    for index, entry in enumerate(data["entries"]):
        if not isinstance(entry, dict):
            raise InputError(f"entry {index} is not an object", path=path)
        missing = {"id", "bundle", "sha256", "files", "previous", "entry_digest"} - set(entry)
        if missing:
            raise InputError(f"entry {index} lacks {', '.join(sorted(missing))}", path=path)
        files = entry["files"]
        if not (isinstance(entry["id"], str) and isinstance(entry["bundle"], str) and isinstance(entry["sha256"], str)
                and isinstance(entry["entry_digest"], str) and isinstance(entry["previous"], str | None)
                and isinstance(entry.get("created", ""), str) and isinstance(entry.get("size", 0), int)
                and isinstance(files, dict) and all(isinstance(v, str) for v in files.values())):
            raise InputError(f"entry {index} has a value of the wrong type", path=path)
    return data


def read_manifest(path: Path) -> list[dict[str, Any]]:
    return list(read_manifest_document(path)["entries"])


def _signature_name(kind: str) -> str:
    return f"bundle.{kind}.json"


def _manifest_document(entries: list[dict[str, Any]], signers: Sequence[Signer]) -> dict[str, Any]:
    head = entries[-1]["entry_digest"] if entries else None
    doc: dict[str, Any] = {"format": MANIFEST_FORMAT, "head": head, "entries": entries}
    if head is not None:
        for signer in signers:
            doc[f"head_{signer.kind}"] = json.loads(signer.sign(head_statement(head, len(entries))))
    return doc


def head_statement(head: str, count: int) -> bytes:
    """The statement a signed manifest head carries: the head entry's digest, and how many entries."""
    return pretty_json({"_type": STATEMENT_TYPE,
                        "subject": [{"name": f"{MANIFEST_NAME}#head", "digest": {"sha256": head}}],
                        "predicateType": HEAD_PREDICATE_TYPE,
                        "predicate": {"format": MANIFEST_FORMAT, "entries": count}})


def bundle_id_for(created: datetime, digests: dict[str, str]) -> str:
    """`<creation time>-<digest of the files' digests>`: a bundle's name says when and what."""
    content_id = hashlib.sha256(canonical_json(digests)).hexdigest()[:12]
    return f"{created.strftime('%Y%m%dT%H%M%SZ')}-{content_id}"


def _sums(digests: dict[str, str]) -> bytes:
    return "".join(f"{digests[rel]}  {rel}\n" for rel in sorted(digests)).encode("utf-8")


def bundle_statement(bundle_name: str, bundle_id: str, created: str, previous: str | None,
                     subjects: dict[str, str]) -> dict[str, Any]:
    """The in-toto statement a signed bundle carries: every other file, and where the bundle stands."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": n, "digest": {"sha256": d}} for n, d in sorted(subjects.items())],
        "predicateType": BUNDLE_PREDICATE_TYPE,
        "predicate": {"id": bundle_id, "bundle": bundle_name, "created": created, "previous": previous},
    }


def bundle_folder(folder: str | Path, dist: str | Path, *, signers: Sequence[Signer] = ()) -> BundleEntry:
    """Zip an assessment folder into dist and record it in the manifest; returns the new entry.

    Each signer signs the bundle's statement (bundle.<kind>.json) and the manifest's head.
    """
    src, out = Path(folder), Path(dist)
    files = assessment_files(src)
    created = build_time()
    digests = {rel: sha256_file(path) for rel, path in files}
    bundle_id = bundle_id_for(created, digests)
    bundle_name = f"assessment-{bundle_id}.zip"
    when = _zip_time(created)
    sums = _sums(digests)

    with _manifest_lock(out):
        manifest_path = out / MANIFEST_NAME
        entries = read_manifest(manifest_path) if manifest_path.exists() else []
        existing = next((i for i, e in enumerate(entries) if e["bundle"] == bundle_name), None)
        if existing is not None and existing != len(entries) - 1:
            raise InputError(f"{bundle_name} is already in the manifest, before later bundles; "
                             "bundle the folder again after a change, or use another dist", path=manifest_path)
        earlier = entries[:existing] if existing is not None else entries
        previous = earlier[-1]["entry_digest"] if earlier else None
        subjects = {**digests, SUMS_NAME: hashlib.sha256(sums).hexdigest()}
        statement = pretty_json(bundle_statement(bundle_name, bundle_id, iso(created), previous, subjects))
        signatures = sorted((SIGNATURE_KINDS.index(s.kind), s.kind, s.sign(statement)) for s in signers)
        with atomic_writer(out / bundle_name) as fh:
            with zipfile.ZipFile(fh, "w") as zf:
                for rel, path in files:
                    with path.open("rb") as src_fh, zf.open(_zip_info(rel, when), "w") as dst:
                        while chunk := src_fh.read(_CHUNK):
                            dst.write(chunk)
                zf.writestr(_zip_info(SUMS_NAME, when), sums)
                for _, kind, signature in signatures:
                    zf.writestr(_zip_info(_signature_name(kind), when), signature)
        bundle_path = out / bundle_name
        bundle_sha = sha256_file(bundle_path)
        if existing is not None and entries[existing]["sha256"] == bundle_sha:
            if signers:  # the head may not have been signed by the run that made it
                write_atomic(manifest_path, pretty_json(_manifest_document(entries, signers)))
            return _entry_from_dict(entries[existing])
        record: dict[str, Any] = {
            "id": bundle_id,
            "bundle": bundle_name,
            "sha256": bundle_sha,
            "size": bundle_path.stat().st_size,
            "created": iso(created),
            "files": dict(sorted(digests.items())),
            "previous": previous,
        }
        record["entry_digest"] = entry_digest(record)
        entries = [*earlier, record]
        write_atomic(manifest_path, pretty_json(_manifest_document(entries, signers)))
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


# --- reading a bundle: the canonical form, limits, streaming digests ------------------------------

def _local_header_length(fh: Any, info: zipfile.ZipInfo) -> int | None:
    """Bytes of the local file header before an entry's data, or None where there is none."""
    fh.seek(info.header_offset)
    head = fh.read(30)
    if len(head) != 30 or head[:4] != b"PK\x03\x04":
        return None
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    return 30 + int(name_len) + int(extra_len)


def zip_problems(path: Path, zf: zipfile.ZipFile) -> tuple[list[str], list[zipfile.ZipInfo]]:
    """Where the zip departs from what bundle_folder writes, and the entries that may be read.

    Every entry is checked from its headers: its name, that it is a regular file, that no other
    entry has the same name (ignoring case, as a case-insensitive disk would), its sizes against
    the limits, and that entries lie end to end from byte 0 to the central directory, so no entry
    overlaps another and nothing hides before, between or after them.
    """
    problems: list[str] = []
    readable: list[zipfile.ZipInfo] = []
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        return [f"the bundle holds {len(infos)} entries, over the limit of {MAX_ENTRIES}"], []
    seen: dict[str, str] = {}
    total = 0
    for info in infos:
        name = info.filename
        shown = json.dumps(name)[1:-1][:200]
        if (problem := name_problem(name)) is not None:
            problems.append(f"entry {shown!r}: {problem}; bundles hold only normalised relative names")
            continue
        mode = info.external_attr >> 16
        if info.is_dir() or stat.S_ISDIR(mode) or stat.S_ISLNK(mode) or stat.S_IFMT(mode) not in (0, stat.S_IFREG):
            problems.append(f"entry {shown!r} is not a regular file (a folder, a link or a device)")
            continue
        if info.create_system != 3 or mode != _FILE_MODE:
            problems.append(f"entry {shown!r} does not carry the mode bundle_folder writes (a regular file, 0644)")
        if (twin := seen.get(name.casefold())) is not None:
            problems.append(f"entry {shown!r} appears twice (as {json.dumps(twin)[1:-1][:200]!r})")
            continue
        seen[name.casefold()] = name
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            problems.append(f"entry {shown!r} is encrypted or compressed with an unexpected method")
            continue
        if info.file_size > MAX_ENTRY_BYTES:
            problems.append(f"entry {shown!r} inflates to {info.file_size} bytes, over the {MAX_ENTRY_BYTES} limit")
            continue
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            problems.append(f"entry {shown!r} inflates {info.file_size // max(info.compress_size, 1)} times, "
                            f"over the limit of {MAX_RATIO}")
            continue
        total += info.file_size
        readable.append(info)
    packed = sum(i.compress_size for i in readable)
    if total > MAX_BUNDLE_BYTES:
        return [*problems, f"the bundle inflates to {total} bytes, over the {MAX_BUNDLE_BYTES} limit"], []
    if total > RATIO_FLOOR and total > MAX_RATIO * max(packed, 1):
        return [*problems, f"the bundle inflates {total // max(packed, 1)} times as a whole, over the limit of "
                           f"{MAX_RATIO}"], []
    problems += _layout_problems(path, zf, infos)
    return problems, readable


def _layout_problems(path: Path, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> list[str]:
    if zf.comment:
        return ["the bundle carries a zip comment"]
    expected = 0
    with path.open("rb") as fh:
        for info in infos:
            header = _local_header_length(fh, info)
            if header is None or info.header_offset != expected:
                return [f"entry {json.dumps(info.filename)[1:-1][:200]!r} is not where the entry before it ends "
                        "(overlapping entries, or bytes hidden between them)"]
            expected = info.header_offset + header + info.compress_size
            if info.flag_bits & 0x8:
                return ["the bundle's entries carry data descriptors, which bundle_folder never writes"]
    if expected != zf.start_dir:
        return ["bytes are hidden between the last entry and the zip's directory"]
    return []


def _hash_members(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> tuple[dict[str, str], list[str]]:
    digests: dict[str, str] = {}
    problems: list[str] = []
    for info in infos:
        digest = hashlib.sha256()
        try:
            with zf.open(info) as fh:
                while chunk := fh.read(_CHUNK):
                    digest.update(chunk)
        except Exception as e:  # a corrupted header can raise almost anything; all mean tampered
            problems.append(f"file {info.filename} cannot be read from the bundle: {e}")
            continue
        digests[info.filename] = digest.hexdigest()
    return digests, problems


def read_member(bundle: str | Path, name: str, limit: int = MAX_MEMBER_READ) -> bytes:
    """One file of a bundle, refused (InputError) over limit bytes: for what is parsed in memory."""
    path = Path(bundle)
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(name)
            if info.file_size > limit:
                raise InputError(f"{name} inside the bundle is {info.file_size} bytes, over the {limit} byte limit",
                                 path=path)
            with zf.open(info) as fh:
                data = fh.read(limit + 1)
    except KeyError as e:
        raise InputError(f"the bundle holds no {name}", path=path) from e
    except (OSError, zipfile.BadZipFile, ValueError) as e:
        raise InputError(f"{name} cannot be read from the bundle: {e}", path=path) from e
    if len(data) > limit:
        raise InputError(f"{name} inside the bundle is over the {limit} byte limit", path=path)
    return data


def extract_bundle(bundle: str | Path, out: str | Path, digests: dict[str, str]) -> list[str]:
    """Write the files of a verified bundle into out, a new or empty folder; returns their names.

    digests is `verify_bundle(...).digests`: only those entries (the canonical ones) are written,
    each hashed again as it is written, so a bundle swapped after verification writes nothing.
    Files are created new (never through an existing link) in a staging folder renamed into place.
    """
    bundle_path, target = Path(bundle), Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise OutputError("exists and is not an empty folder; extract into a new one", path=target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with zipfile.ZipFile(bundle_path) as zf:
            for name in sorted(digests):
                path = staging.joinpath(*name.split("/"))
                path.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
                with os.fdopen(fd, "wb") as dst, zf.open(name) as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        dst.write(chunk)
                if digest.hexdigest() != digests[name]:
                    raise VerificationError(f"{name} changed since the bundle was verified; nothing was extracted",
                                            path=bundle_path)
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(digests)


# --- verify ---------------------------------------------------------------------------------------

def verify_bundle(bundle: str | Path, manifest: str | Path | None = None, *,
                  trust: Trust | None = None) -> VerifyResult:
    """Check a bundle against its manifest entry, every file inside, and the manifest's chain; with
    trust, also the bundle's signed statement and the manifest's signed head.

    Raises InputError when there is nothing to verify against (a missing bundle or manifest, a
    manifest that does not list the bundle); returns the problems found otherwise.
    """
    bundle_path = Path(bundle)
    if not bundle_path.is_file():
        raise InputError("no such bundle file" if not bundle_path.exists() else "not a file", path=bundle_path)
    manifest_path = Path(manifest) if manifest is not None else bundle_path.parent / MANIFEST_NAME
    if not manifest_path.exists():
        raise InputError("no manifest to verify against; pass --manifest FILE", path=manifest_path)
    document = read_manifest_document(manifest_path)
    entries: list[dict[str, Any]] = document["entries"]
    entry = next((e for e in entries if e["bundle"] == bundle_path.name), None)
    if entry is None:
        raise InputError(f"the manifest does not list {bundle_path.name}", path=manifest_path)

    problems = chain_problems(entries)
    if entries and document.get("head") != entries[-1]["entry_digest"]:
        problems.append("manifest head does not match its last entry (an entry was removed or added)")
    actual_sha = sha256_file(bundle_path)
    if actual_sha != entry["sha256"]:
        problems.append(f"bundle SHA256 is {actual_sha}, the manifest recorded {entry['sha256']}")
    if entry["bundle"] != f"assessment-{entry['id']}.zip":
        problems.append(f"the manifest entry's id {entry['id']!r} is not the bundle's name")
    digests, content = _zip_content(bundle_path, entry)
    problems += content
    signature: list[str] = []
    if trust is not None:
        signature = signature_problems(bundle_path, entry, digests, trust)
        signature += head_signature_problems(document, trust)
    return VerifyResult(bundle=str(bundle_path), manifest=str(manifest_path), problems=tuple(problems + signature),
                        trust=trust.description if trust is not None else None,
                        signature_ok=trust is not None and not signature, digests=digests)


def _zip_content(bundle_path: Path, entry: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The digests of the bundle's canonical entries, and every way they differ from the entry."""
    recorded: dict[str, str] = entry["files"]
    try:
        with zipfile.ZipFile(bundle_path) as zf:
            problems, readable = zip_problems(bundle_path, zf)
            digests, unreadable = _hash_members(zf, readable)
    except Exception as e:  # an unreadable zip can raise almost anything; all of it means changed
        return {}, [f"the bundle is not a readable zip any more: {e}"]
    if problems and not readable:  # over a whole-bundle limit: nothing was read, so nothing to compare
        return {}, problems
    problems += unreadable
    names = [i.filename for i in readable]
    expected_order = sorted(recorded) + [n for n in (SUMS_NAME, *SIGNATURE_NAMES) if n in digests]
    inside = set(digests) - RESERVED_NAMES
    for name in sorted(inside - set(recorded)):
        problems.append(f"file added to the bundle: {name}")
    for name in sorted(set(recorded) - inside):
        problems.append(f"file missing from the bundle: {name}")
    for name in sorted(inside & set(recorded)):
        if digests[name] != recorded[name]:
            problems.append(f"file {name} changed: SHA256 {digests[name]}, recorded {recorded[name]}")
    if SUMS_NAME not in digests:
        problems.append(f"the bundle holds no {SUMS_NAME}")
    elif digests[SUMS_NAME] != hashlib.sha256(_sums(recorded)).hexdigest():
        problems.append(f"{SUMS_NAME} does not list the recorded files and digests")
    if names != expected_order and not problems:
        problems.append("the bundle's entries are not in the order bundle_folder writes them")
    created = _parse_iso(entry.get("created", ""))
    if created is None or entry["id"] != bundle_id_for(created, recorded):
        problems.append(f"the bundle's id {entry['id']!r} does not match its creation time and files")
    return digests, problems


def _parse_iso(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _open_statement(document: bytes, trust: Trust, predicate_type: str, what: str) -> dict[str, Any]:
    """The in-toto statement of predicate_type a trusted signature document signs; VerificationError otherwise."""
    try:
        statement = parse_json_bytes(trust.open(document), what)
    except InputError as e:
        raise VerificationError(f"{what}: the signed payload is not JSON Carnot reads: {e.message}") from e
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE or statement.get(
            "predicateType") != predicate_type or not isinstance(statement.get("predicate"), dict):
        raise VerificationError(f"{what}: the signed payload is not a {predicate_type} statement")
    return statement


def _signed_subjects(statement: dict[str, Any]) -> dict[str, Any]:
    subjects = statement.get("subject")
    return {str(s.get("name")): s["digest"].get("sha256") for s in (subjects if isinstance(subjects, list) else [])
            if isinstance(s, dict) and isinstance(s.get("digest"), dict)}


def signature_problems(bundle_path: Path, entry: dict[str, Any], digests: dict[str, str], trust: Trust) -> list[str]:
    """The bundle's signed statement against the trusted signer, its files and its manifest entry."""
    name = _signature_name(trust.kind)
    if name not in digests:
        return [f"the bundle is not signed for this verifier (no {name})"]
    try:
        statement = _open_statement(read_member(bundle_path, name, 1 << 26), trust, BUNDLE_PREDICATE_TYPE, name)
    except (InputError, VerificationError) as e:
        return [f"{name}: {e.message}" if not e.message.startswith(name) else e.message]
    problems: list[str] = []
    signed = _signed_subjects(statement)
    present = {n: d for n, d in digests.items() if n not in SIGNATURE_NAMES}
    for missing in sorted(set(present) - set(signed)):
        problems.append(f"file not covered by the signature: {missing}")
    for gone in sorted(set(signed) - set(present)):
        problems.append(f"signed file missing from the bundle: {gone}")
    for both in sorted(set(signed) & set(present)):
        if signed[both] != present[both]:
            problems.append(f"signed file changed: {both}")
    predicate = statement["predicate"]
    for key, actual in (("id", entry["id"]), ("bundle", bundle_path.name), ("created", entry.get("created")),
                        ("previous", entry["previous"])):
        if predicate.get(key) != actual:
            problems.append(f"the signed {key} {str(predicate.get(key))[:100]!r} is not the bundle's "
                            f"{str(actual)[:100]!r} (a renamed or replayed bundle)")
    return problems


def head_signature_problems(document: dict[str, Any], trust: Trust) -> list[str]:
    """The manifest's signed head: the trusted signer vouches for the whole chain up to it."""
    field_name = f"head_{trust.kind}"
    signed_head = document.get(field_name)
    if signed_head is None:
        return [f"the manifest's head is not signed for this verifier (no {field_name})"]
    try:
        statement = _open_statement(json.dumps(signed_head).encode("utf-8"), trust, HEAD_PREDICATE_TYPE,
                                    f"manifest {field_name}")
    except VerificationError as e:
        return [e.message]
    entries = document["entries"]
    if _signed_subjects(statement) != {f"{MANIFEST_NAME}#head": document.get("head")} or statement["predicate"].get(
            "entries") != len(entries):
        return ["the manifest's signed head is not its head (entries were added or removed after signing)"]
    return []
