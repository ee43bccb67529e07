"""Walking the scanned trees: which files exist, which are skipped and why.

The walker never reads file contents; it stats entries and yields either a `Candidate` (a regular
file the scanner may read) or a `Skipped` (with the reason). Directories are walked iteratively in
sorted order, so the output is deterministic and deep trees cannot overflow the stack. Symbolic
links are followed only while they stay inside the scanned root (an unpacked image's absolute
links would otherwise read the scanning host's files), and a directory reached twice, through a
loop or another link, is walked once.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assess.model import Skipped
from assess.sources.static.limits import MAX_FILE_BYTES

# Directories that hold other people's code or tool state, not the estate being assessed.
SKIPPED_DIRS: dict[str, str] = {
    ".git": "version-control metadata",
    ".hg": "version-control metadata",
    ".svn": "version-control metadata",
    "node_modules": "vendored dependencies",
    "bower_components": "vendored dependencies",
    "vendor": "vendored dependencies",
    "third_party": "vendored dependencies",
    "third-party": "vendored dependencies",
    "site-packages": "vendored dependencies",
    "dist-packages": "vendored dependencies",
    ".venv": "virtual environment",
    "venv": "virtual environment",
    ".tox": "tool cache",
    ".nox": "tool cache",
    "__pycache__": "tool cache",
    ".mypy_cache": "tool cache",
    ".pytest_cache": "tool cache",
    ".ruff_cache": "tool cache",
}

_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


@dataclass(frozen=True)
class Candidate:
    """A regular file, within the size limit, that the scanner may open."""

    path: Path  # as the operating system reaches it
    location: str  # as reported: relative to the scanned root
    size: int


def walk(
    root: Path, prefix: str = "", max_bytes: int = MAX_FILE_BYTES, also_inside: tuple[Path, ...] = ()
) -> Iterator[Candidate | Skipped]:
    """Every file under root (or root itself when it is a file), as a Candidate or a Skipped.

    Symlinks are followed when they resolve inside root or inside one of `also_inside` (the other
    roots of the same scan, e.g. /etc/ssl/certs links into /usr/share/ca-certificates).
    """
    root_real = Path(os.path.realpath(root))
    inside = (root_real, *(Path(os.path.realpath(p)) for p in also_inside))
    if not root.is_dir():
        yield _classify(root, _as_text(prefix or root.name), max_bytes)
        return
    visited: set[tuple[int, int]] = set()
    pending: list[tuple[Path, str]] = [(root, _as_text(prefix))]
    while pending:
        directory, rel = pending.pop()
        try:
            st = directory.stat()
        except OSError as e:
            yield Skipped(rel or ".", os_reason(e))
            continue
        key = (st.st_dev, st.st_ino)
        if key in visited:
            real = Path(os.path.realpath(directory))
            if real in Path(os.path.realpath(directory.parent)).parents or real == Path(
                os.path.realpath(directory.parent)
            ):
                yield Skipped(rel, "symlink loop: links to a directory that contains it")
            else:
                yield Skipped(rel, "directory already walked through another path")
            continue
        visited.add(key)
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            yield Skipped(rel or ".", f"directory not readable: {os_reason(e)}")
            continue
        subdirs: list[tuple[Path, str]] = []
        for entry in entries:
            location = f"{rel}/{_as_text(entry.name)}" if rel else _as_text(entry.name)
            path = Path(entry.path)
            if entry.is_symlink():
                outside = _outside(path, inside)
                if outside:
                    yield Skipped(location, outside)
                    continue
            try:
                is_dir = entry.is_dir()
            except OSError as e:
                yield Skipped(location, os_reason(e))
                continue
            if is_dir:
                reason = SKIPPED_DIRS.get(entry.name)
                if reason:
                    yield Skipped(location, f"skipped directory: {reason}")
                else:
                    subdirs.append((path, location))
                continue
            yield _classify(path, location, max_bytes)
        # Reversed so that popping from the end walks subdirectories in sorted order.
        pending.extend(reversed(subdirs))


def _classify(path: Path, location: str, max_bytes: int) -> Candidate | Skipped:
    try:
        st = path.stat()
    except OSError as e:
        return Skipped(location, os_reason(e))
    for test, kind in _SPECIAL_KINDS:
        if test(st.st_mode):
            return Skipped(location, f"not a regular file: {kind}")
    if not stat.S_ISREG(st.st_mode):
        return Skipped(location, "not a regular file")
    if st.st_size > max_bytes:
        return Skipped(location, f"too large: {st.st_size} bytes, over the {max_bytes} byte limit; not read")
    return Candidate(path=path, location=location, size=st.st_size)


def _outside(link: Path, roots: tuple[Path, ...]) -> str | None:
    """Why a symlink is not followed, or None when it stays inside the scanned roots."""
    try:
        target = Path(os.path.realpath(link, strict=True))
    except OSError as e:
        return os_reason(e)
    except RuntimeError:  # realpath(strict=True) on some Pythons reports loops this way
        return "symlink loop"
    if not any(target == root or root in target.parents for root in roots):
        return "symlink points outside the scanned root(s); not followed"
    return None


def _as_text(name: str) -> str:
    """A file name as it is reported: bytes that are not UTF-8 (which the OS hands over as lone
    surrogates, and no JSON or terminal can carry) are written as `\\xNN`."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def os_reason(e: OSError) -> str:
    if e.errno == errno.ELOOP:
        return "symlink loop"
    if e.errno == errno.ENOENT:
        return "vanished or broken symlink: no such file"
    if e.errno in (errno.EACCES, errno.EPERM):
        return "unreadable: permission denied"
    return f"unreadable: {e.strerror or e}"
