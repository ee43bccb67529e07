"""Reading inputs with clean errors, writing outputs atomically, and canonical JSON.

Outputs are built in memory first and then written to a temporary file in the same folder and
renamed over the target, so a crash never leaves half a file behind.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from assess.errors import ConfigError, InputError, OutputError

# Inputs larger than this are refused before they are read into memory.
MAX_JSON_INPUT_BYTES = 512 * 1024 * 1024
MAX_CONFIG_BYTES = 4 * 1024 * 1024  # carnot.toml, waivers, keys: small files a person writes


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, no insignificant whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def pretty_json(value: Any) -> bytes:
    """Deterministic, human-readable JSON bytes ending in a newline."""
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def require_file(path: str | Path) -> Path:
    """A readable input file: a regular file or a pipe, never a device (/dev/zero), socket or folder."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise InputError("no such file", path=p) from None
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", path=p) from e
    if stat.S_ISDIR(mode):
        raise InputError("is a directory, expected a file", path=p)
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        raise InputError("not a regular file (a device or socket); expected a file", path=p)
    if not os.access(p, os.R_OK):
        raise InputError("permission denied", path=p)
    return p


def read_bounded(path: str | Path, max_bytes: int, what: str = "input") -> bytes:
    """A whole input file, refused once it passes max_bytes (a pipe's size is only known by reading)."""
    p = require_file(path)
    try:
        with p.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > max_bytes:
                raise InputError(f"file is {size} bytes, larger than the {max_bytes} byte limit for {what}", path=p)
            raw = fh.read(max_bytes + 1)
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", path=p) from e
    if len(raw) > max_bytes:
        raise InputError(f"larger than the {max_bytes} byte limit for {what}", path=p)
    return raw


def read_json(path: str | Path, *, max_bytes: int = MAX_JSON_INPUT_BYTES) -> Any:
    """Parse a JSON file, turning every failure into an InputError naming the file and line."""
    return parse_json_bytes(read_bounded(path, max_bytes, "JSON input"), Path(path))


def parse_json_bytes(raw: bytes, origin: str | Path) -> Any:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text (byte {e.start})", path=origin, line=line) from e
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"invalid JSON: {e.msg} (column {e.colno})", path=origin, line=e.lineno) from e


_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")


def read_toml(path: str | Path) -> tuple[str, dict[str, Any]]:
    """A TOML file's text and tables; a syntax error is a ConfigError naming the file and line."""
    p = Path(path)
    try:
        text = read_bounded(p, MAX_CONFIG_BYTES, "a configuration file").decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError("not UTF-8 text", path=p) from e
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        found = _TOML_POSITION.search(str(e))
        line = int(found.group(1)) if found else text.count("\n") + (0 if text.endswith("\n") else 1)
        message = _TOML_POSITION.sub("", str(e)).replace("(at end of document)", "at the end of the file").strip()
        raise ConfigError(f"not valid TOML: {message}", path=p, line=line) from e


def toml_key_line(text: str, key: str) -> int | None:
    """The line where `key =` is first set in a TOML text (for errors about a value)."""
    match = re.search(rf"^[ \t]*{re.escape(key)}[ \t]*=", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write bytes to path atomically: a temporary file in the same folder, fsync, rename."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:
        raise OutputError(f"cannot write: {e.strerror}", path=target) from e
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as e:
        _unlink_quietly(tmp)
        raise OutputError(f"cannot write: {e.strerror}", path=target) from e
    except BaseException:
        _unlink_quietly(tmp)
        raise
    return target


@contextmanager
def atomic_writer(path: str | Path) -> Iterator[IO[bytes]]:
    """Stream a large output to a temporary file, renamed over path only when the block succeeds."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:
        raise OutputError(f"cannot write: {e.strerror}", path=target) from e
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
