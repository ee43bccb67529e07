"""The static scan: walk the trees, read each candidate file once, let the detectors look at it.

Memory stays bounded by one file (at most `MAX_FILE_BYTES`) plus what was found: a file no
detector wants is read only as far as its first 8 KiB. Assets with the same identity are joined
into one asset with their evidence occurrences (at most `MAX_OCCURRENCES_PER_ASSET`, the rest
counted). A file that cannot be read, or that a detector cannot make sense of, becomes a `Skipped`
with its reason, and the scan goes on. Evidence carries the file's SHA-256 unless the file holds
private key material. Log lines escape file names: a name can hold terminal control sequences.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cyclonedx.model.crypto import RelatedCryptoMaterialType

from assess.errors import InputError
from assess.model import Asset, Evidence, Prop, Shard, Skipped
from assess.sources.static.code import CodeDetector, Rule, load_rules
from assess.sources.static.interface import Detector, Finding, KeyMaterial, ScannedFile
from assess.sources.static.keystores import KeystoreDetector
from assess.sources.static.limits import HEAD_BYTES, MAX_FILE_BYTES, MAX_OCCURRENCES_PER_ASSET
from assess.sources.static.pki import PkiDetector
from assess.sources.static.ssh import SshDetector
from assess.sources.static.tlsconf import TlsConfigDetector
from assess.sources.static.walk import Candidate, os_reason, walk
from assess.text import printable

log = logging.getLogger(__name__)

STAGE = "static"
# The BEGIN line of any PEM-style private key, read or not: PKCS#8 (also encrypted), PKCS#1, SEC1,
# DSA, OpenSSH, SSH2 ("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----"); bounded, so it stays linear.
_PRIVATE_KEY_LABEL = re.compile(rb"BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY")


@dataclass(frozen=True)
class ScanResult:
    shard: Shard
    files_seen: int  # regular files within the size limit
    files_read: int  # files some detector looked at
    bytes_read: int
    seconds: float

    def asset_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for asset in self.shard.assets:
            kind = asset.crypto.asset_type.value if asset.crypto.asset_type else "unknown"
            counts[kind] = counts.get(kind, 0) + 1
        return dict(sorted(counts.items()))


def detectors(rules: list[Rule]) -> tuple[Detector, ...]:
    """The registry of detectors, in the order they see a file."""
    return (PkiDetector(), KeystoreDetector(), SshDetector(), TlsConfigDetector(), CodeDetector(rules))


def scan(
    paths: Sequence[Path],
    rules: list[Rule] | None = None,
    *,
    max_file_bytes: int = MAX_FILE_BYTES,
    on_file: Callable[[], None] | None = None,
) -> ScanResult:
    """Scan files and trees; locations are relative to each root (prefixed by it when several)."""
    for path in paths:
        if not os.path.lexists(path):
            raise InputError("no such file or directory", path=path)
    active = detectors(rules if rules is not None else load_rules())
    started = time.perf_counter()
    assets: dict[str, Asset] = {}  # first sighting of each identity
    evidence: dict[str, set[Evidence]] = {}  # the sightings' evidence, joined at the end
    omitted: Counter[str] = Counter()  # sightings beyond MAX_OCCURRENCES_PER_ASSET
    skipped: list[Skipped] = []
    seen = read = nbytes = 0
    for root in paths:
        prefix = os.path.normpath(str(root)) if len(paths) > 1 else ""
        others = tuple(Path(p) for p in paths if p is not root)
        for item in walk(Path(root), prefix, max_file_bytes, others):
            if on_file is not None:
                on_file()
            if isinstance(item, Skipped):
                _log_skip(item)
                skipped.append(item)
                continue
            seen += 1
            findings, size = _scan_file(item, active, max_file_bytes)
            if size:
                read += 1
                nbytes += size
            for finding in findings:
                if isinstance(finding, KeyMaterial):
                    continue
                if isinstance(finding, Skipped):
                    _log_skip(finding)
                    skipped.append(finding)
                    continue
                assets.setdefault(finding.bom_ref, finding)
                kept = evidence.setdefault(finding.bom_ref, set())
                for occurrence in finding.evidence:
                    if len(kept) < MAX_OCCURRENCES_PER_ASSET or occurrence in kept:
                        kept.add(occurrence)
                    else:
                        omitted[finding.bom_ref] += 1
    joined = tuple(_joined(assets[ref], evidence[ref], omitted[ref]) for ref in sorted(assets))
    shard = Shard(stage=STAGE, assets=joined, skipped=tuple(skipped))
    return ScanResult(shard, seen, read, nbytes, time.perf_counter() - started)


def _scan_file(item: Candidate, active: tuple[Detector, ...], max_bytes: int) -> tuple[list[Finding], int]:
    """What the detectors found in one file, and how many bytes were read for them (0: not wanted)."""
    name = item.path.name
    try:
        # O_NONBLOCK: a file swapped for a FIFO after the walk must not hang the scan.
        fd = os.open(item.path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as fh:
            head = fh.read(HEAD_BYTES)
            wanting = [d for d in active if d.wants(name, head)]
            if not wanting:
                return [], 0
            data = head + fh.read(max_bytes + 1 - len(head))
    except OSError as e:
        return [Skipped(item.location, os_reason(e))], 0
    if len(data) > max_bytes:
        grew = f"too large: grew over the {max_bytes} byte limit while being read; not scanned"
        return [Skipped(item.location, grew)], 0
    file = ScannedFile(item.location, name, data)
    findings: list[Finding] = []
    for detector in wanting:
        try:
            with warnings.catch_warnings():
                # cryptography warns about certificates that break RFC 5280 (negative serials...):
                # they are still reported, and the warning is noise on the user's terminal.
                warnings.simplefilter("ignore")
                findings.extend(detector.detect(file))
        except Exception as e:  # a parser bug on a hostile file skips the file, not the scan
            # Only the exception's type: its message could quote file contents (a key).
            log.warning("%s: %s detector failed with %s", printable(item.location), detector.name,
                        type(e).__name__)
            findings.append(Skipped(item.location, f"{detector.name} detector failed: {type(e).__name__}"))
    return _with_file_digest(findings, data), len(data)


def _with_file_digest(findings: list[Finding], data: bytes) -> list[Finding]:
    """The findings with the file's SHA-256 on their evidence, unless the file holds private key
    material (a PEM-style private key block, a key a detector read, or one it noted as unread):
    that digest would confirm a guessed key."""
    if _PRIVATE_KEY_LABEL.search(data) or any(map(_holds_key_material, findings)):
        return findings
    digest = hashlib.sha256(data).hexdigest()
    return [replace(f, evidence=tuple(replace(e, sha256=digest) for e in f.evidence)) if isinstance(f, Asset) else f
            for f in findings]


def _holds_key_material(finding: Finding) -> bool:
    if isinstance(finding, KeyMaterial):
        return True
    material = finding.crypto.related_crypto_material_properties if isinstance(finding, Asset) else None
    return material is not None and material.type is RelatedCryptoMaterialType.PRIVATE_KEY


def _joined(asset: Asset, evidence: set[Evidence], omitted: int) -> Asset:
    properties = asset.properties + (((Prop.EVIDENCE_OMITTED, str(omitted)),) if omitted else ())
    return replace(asset, evidence=tuple(sorted(evidence, key=_evidence_order)), properties=properties)


def _evidence_order(e: Evidence) -> tuple[str, int, str]:
    return (e.location, e.line or 0, e.context or "")


def _log_skip(skip: Skipped) -> None:
    log.debug("skipped %s: %s", printable(skip.location), printable(skip.reason))
