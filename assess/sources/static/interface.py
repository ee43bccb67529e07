"""The seam between the scanner and its detectors.

The scanner walks and reads files; a detector looks at one file's bytes and yields what it found:
assets (each with its evidence), `Skipped` entries for parts it could not read, and `KeyMaterial`
when the file holds key material it did not read. A detector
never opens files, never logs file contents, and never puts key material into anything it yields.
The file's digest is not the detector's business: the scanner adds it to the evidence once it
knows whether the file holds private key material (then there is none).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from assess.model import Asset, Evidence, Skipped, Source


def suffix_of(name: str) -> str:
    """A file name's extension, lower-cased ('.pem'); '' when there is none."""
    return os.path.splitext(name)[1].lower()


class NotText(Exception):
    """A file that should be text is not UTF-8; the message is the reason it is skipped."""


@dataclass(frozen=True)
class ScannedFile:
    """One file's bytes as the scanner read them, with where they came from."""

    location: str  # relative to the scanned root
    name: str  # the base name, for dialect decisions
    data: bytes

    def text(self) -> str:
        """The file as UTF-8 text (a BOM is dropped); NotText when it is not."""
        decoded = self._decoded
        if isinstance(decoded, NotText):
            raise decoded
        return decoded

    @cached_property
    def _decoded(self) -> str | NotText:
        if b"\x00" in self.data[:8192]:
            return NotText("binary content (NUL bytes) where text was expected")
        try:
            return self.data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = self.data[: e.start].count(b"\n") + 1
            return NotText(f"not UTF-8 text (invalid byte at line {line}, offset {e.start})")

    def evidence(self, line: int | None, context: str | None = None) -> Evidence:
        return Evidence(Source.STATIC, self.location, line=line, context=context)

    def skipped(self, reason: str, line: int | None = None) -> Skipped:
        return Skipped(f"{self.location}:{line}" if line else self.location, reason)


@dataclass(frozen=True)
class KeyMaterial:
    """A detector's note that a file holds private or secret key material it could not read (an
    encrypted or sealed keystore entry): the scanner then puts no digest of the file into any
    evidence, as for a file with a private key block. Never written to any output."""


Finding = Asset | Skipped | KeyMaterial


class Detector(Protocol):
    """Finds one kind of cryptographic asset in files."""

    name: str

    def wants(self, name: str, head: bytes) -> bool:
        """Whether this detector should see a file, from its base name and first bytes."""
        ...

    def detect(self, file: ScannedFile) -> Iterator[Finding]:
        """The assets in one file, and Skipped entries for what could not be read."""
        ...
