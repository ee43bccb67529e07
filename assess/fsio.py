"""Reading inputs with clean errors, writing outputs atomically, and canonical JSON.

Outputs are built in memory first and then written to a temporary file in the same folder and
renamed over the target, so a crash never leaves half a file behind.
"""

from __future__ import annotations

import itertools
import json
import math
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
# CBOM files given on the command line (merge, gate, attest, viz): a consultant's own million-component
# CBOM is about 1 GB; `--max-bom-bytes` sets another limit. The API's bodies have their own (docs/API.md).
MAX_CBOM_INPUT_BYTES = 2 * 1024 * 1024 * 1024
MAX_CONFIG_BYTES = 4 * 1024 * 1024  # carnot.toml, waivers, keys: small files a person writes
# Every JSON input is refused past these (docs/API.md, Limits): deeper nesting would exhaust Python's
# recursion in the parser or in schema validation; longer integers do not fit a double.
MAX_JSON_DEPTH = 128
MAX_JSON_INTEGER_DIGITS = 100


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, no insignificant whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def pretty_json(value: Any) -> bytes:
    """Deterministic, human-readable JSON bytes ending in a newline."""
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def canonical_json_chunks(value: Any) -> Iterator[bytes]:
    """canonical_json(value) in pieces: an object's members, and the items of the arrays directly in
    it, one at a time (a CBOM of a million components is never one string, which took three times
    its size again to hash)."""
    if type(value) is not dict:
        yield canonical_json(value)
        return
    yield b"{"
    for index, (key, member) in enumerate(sorted(value.items())):
        yield (b"," if index else b"") + canonical_json(key) + b":"
        if type(member) is list:
            yield b"["
            for position, item in enumerate(member):
                yield (b"," if position else b"") + canonical_json(item)
            yield b"]"
        else:
            yield canonical_json(member)
    yield b"}"


def write_pretty_json(path: str | Path, value: Any) -> Path:
    """pretty_json(value) written atomically as it is encoded, never whole in memory (Python encodes
    indented JSON in Python, piece by piece: the pieces go to the file in batches of about 1 MiB)."""
    target = Path(path)
    encoder = json.JSONEncoder(sort_keys=True, indent=2, ensure_ascii=False)
    try:
        with atomic_writer(target) as fh:
            batch: list[str] = []
            size = 0
            for piece in itertools.chain(encoder.iterencode(value), ["\n"]):
                batch.append(piece)
                size += len(piece)
                if size > 1 << 20:
                    fh.write("".join(batch).encode("utf-8"))
                    batch.clear()
                    size = 0
            fh.write("".join(batch).encode("utf-8"))
    except OSError as e:
        raise OutputError(f"cannot write: {e.strerror}", path=target) from e
    return target


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


def read_json(path: str | Path, *, max_bytes: int = MAX_JSON_INPUT_BYTES, what: str = "JSON input") -> Any:
    """Parse a JSON file, turning every failure into an InputError naming the file and line."""
    return parse_json_bytes(read_bounded(path, max_bytes, what), Path(path))


class NotStreamable(Exception):
    """A JSON file the streamed reader does not read: read it whole instead (parse_json_bytes then
    names the problem exactly, or reads what the streamed reader could not)."""


_WHITESPACE = re.compile(r"[ \t\n\r]*")
_STREAM_CHUNK = 1 << 22


def stream_json_object(path: str | Path, array_key: str, *, share_strings: bool = False) -> Iterator[tuple[str, Any]]:
    """The members of a JSON file whose top level is an object, parsed one at a time; the member
    named array_key, when it is an array, comes as an iterator of its items, parsed one at a time as
    it is consumed (consume it before the next member). A file of a million components is never one
    string or one parsed document. Any doubt (invalid JSON, a number or nesting past the limits, not
    UTF-8, not an object) raises NotStreamable: parse_json_bytes on the whole file says what it is.
    share_strings: one string object for each distinct key and short value, for a document that is
    kept whole (json.loads shares keys; value by value, each would have its own)."""
    strings: dict[str, str] = {}

    def shared(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        return {strings.setdefault(k, k): strings.setdefault(v, v) if type(v) is str and len(v) < 64 else v
                for k, v in pairs}

    decoder = json.JSONDecoder(parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_no_constant,
                               object_pairs_hook=shared if share_strings else None)
    try:
        with open(path, encoding="utf-8-sig") as fh:
            reader = _StreamedText(fh, decoder)
            reader.expect("{")
            if reader.peek() == "}":
                reader.expect("}")
            else:
                while True:
                    key = reader.value()
                    if type(key) is not str:
                        raise NotStreamable(path)
                    reader.expect(":")
                    if key == array_key and reader.peek() == "[":
                        yield key, _not_streamable_on_error(reader.items(), path)
                    else:
                        yield key, reader.value()
                    if reader.peek() == "}":
                        reader.expect("}")
                        break
                    reader.expect(",")
            if reader.peek() != "":
                raise NotStreamable(path)
    except (ValueError, RecursionError, UnicodeDecodeError, OSError) as e:  # JSONDecodeError, the limits
        raise NotStreamable(path) from e


def _not_streamable_on_error(items: Iterator[Any], path: str | Path) -> Iterator[Any]:
    try:
        yield from items
    except (ValueError, RecursionError, UnicodeDecodeError, OSError) as e:
        raise NotStreamable(path) from e


class _StreamedText:
    """A text file read in chunks of a few MiB, decoded value by value with json's raw_decode."""

    def __init__(self, fh: IO[str], decoder: json.JSONDecoder) -> None:
        self.fh, self.decoder = fh, decoder
        self.text, self.pos, self.eof = "", 0, False

    def _more(self) -> bool:
        if self.eof:
            return False
        chunk = self.fh.read(_STREAM_CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.text = self.text[self.pos:] + chunk
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not whitespace ("" at the end of the file)."""
        while True:
            self.pos = _WHITESPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.text) or not self._more():
                return self.text[self.pos:self.pos + 1]

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise NotStreamable(char)
        self.pos += 1

    def value(self, depth: int = 1) -> Any:
        """The next value, at depth (1: a member of the top-level object) in the document."""
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError:
                if self._more():
                    continue
                raise
            # a number at the end of the text read so far may go on in the next chunk
            if end < len(self.text) or self.eof or not self._more():
                if _deeper_than(value, MAX_JSON_DEPTH - depth):
                    raise NotStreamable("too deep")
                self.pos = end
                return value

    def items(self) -> Iterator[Any]:
        self.expect("[")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield self.value(depth=2)
            if self.peek() == "]":
                self.pos += 1
                return
            self.expect(",")


def parse_json_bytes(raw: bytes | str, origin: str | Path) -> Any:
    """Parse JSON (bytes or text) from a file, a request body or a property value; every failure,
    including the limits below, is an InputError naming origin (and the line, where JSON gives one)."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = raw[: e.start].count(b"\n") + 1
            raise InputError(f"not UTF-8 text (byte {e.start})", path=origin, line=line) from e
    else:
        text = raw
    try:
        value = json.loads(text, parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise InputError(f"invalid JSON: {e.msg} (column {e.colno})", path=origin, line=e.lineno) from e
    except _NumberOutOfBounds as e:
        raise InputError(f"invalid JSON: {e}", path=origin) from e
    except RecursionError:
        raise InputError(_TOO_DEEP, path=origin) from None
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise InputError(_TOO_DEEP, path=origin)
    return value


class _NumberOutOfBounds(ValueError):
    pass


_TOO_DEEP = f"JSON nested deeper than {MAX_JSON_DEPTH} levels of arrays and objects"


def _bounded_int(text: str) -> int:
    # Python refuses over 4,300 digits with a ValueError of its own; far fewer already overflow a
    # double, which is what other JSON tools (and the Rego engines) read numbers as.
    if len(text.lstrip("-")) > MAX_JSON_INTEGER_DIGITS:
        raise _NumberOutOfBounds(f"an integer of {len(text.lstrip('-'))} digits; at most "
                                 f"{MAX_JSON_INTEGER_DIGITS} are read")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NumberOutOfBounds(f"the number {text[:40]} is out of range for a double")
    return value


def _no_constant(name: str) -> Any:
    raise _NumberOutOfBounds(f"{name} is not a JSON number")


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest deeper than limit; level by level, so no recursion to exhaust
    (and three times faster than a stack of (node, depth) pairs)."""
    level = [value] if type(value) in (dict, list) else []
    for _ in range(limit):
        if not level:
            return False
        level = [child for node in level for child in (node.values() if type(node) is dict else node)
                 if type(child) is dict or type(child) is list]
    return bool(level)


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
