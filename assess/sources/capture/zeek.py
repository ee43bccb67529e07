"""Zeek's ssl.log and ssh.log, in their TSV form (`#separator`, `#fields`, `-` unset, `(empty)`,
`#close`) or as JSON lines, mapped to the runtime handshake lines (ssl.log) and `ssh` lines
(ssh.log: the banners and what Zeek says was negotiated, client to server; Zeek logs neither side's
offer nor whether the keys changed, so those keys are null). Zeek names are normalised through
`assess.tlsnames` (`unknown-4588` is code point 4588, i.e. X25519MLKEM768), so a line reads as the
same handshake read from a packet capture would: GREASE values (`grease_0x0A0A`, 2570) are dropped
and versions are spelled alike (`TLSv13-draft23` is `TLSv1.3-draft23`).

Pure apart from reading the file: `read_ssl_log(path)` yields `(line_number, record)` pairs and
raises `ZeekLogError` naming the line where the log stops making sense; the lines before it have
been yielded already. A line longer than `MAX_LINE_BYTES` is such a line: it is never read whole,
so a file that is not a log, or a pipe whose writer never ends its line, stops at the limit.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from assess.errors import InputError
from assess.model import parse_count
from assess.sources.runtime.ssh_wire import AEAD_CIPHERS
from assess.sshnames import is_pq_kex
from assess.tlsnames import (
    cipher_suite_name,
    group_code,
    group_name,
    iana_cipher_suite,
    is_grease,
    is_pq_group,
    version_name,
)

# Zeek's version strings (base/protocols/ssl/consts.zeek) -> the contract's.
ZEEK_VERSIONS = {"SSLv2": "SSLv2", "SSLv3": "SSLv3", "TLSv10": "TLSv1", "TLSv11": "TLSv1.1", "TLSv12": "TLSv1.2",
                 "TLSv13": "TLSv1.3", "DTLSv10": "DTLSv1.0", "DTLSv12": "DTLSv1.2", "DTLSv13": "DTLSv1.3"}
_UNKNOWN = re.compile(r"unknown-(\d+)")
_DRAFT = re.compile(r"TLSv13-draft(\d+)")  # Zeek's name of TLS 1.3 draft n (0x7F00 | n)
_GREASE_NAME = re.compile(r"grease_0x([0-9A-Fa-f]{4})")
_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")
REQUIRED_FIELDS = ("ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p")
# The longest line read, newline included. Zeek's ssl.log lines are a few hundred bytes, a few KiB
# with every optional field logged.
MAX_LINE_BYTES = 1 << 20

Lines = Iterator[tuple[int, bytes]]


class ZeekLogError(InputError):
    """An ssl.log that is not what Zeek writes, at a line."""


def read_ssl_log(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, handshake line) for every record of an ssl.log (or a pipe), TSV or JSON."""
    try:
        with path.open("rb") as fh:
            lines = _lines(path, fh)
            first = next(lines, (1, b""))
            lines = itertools.chain([first], lines)
            if first[1].lstrip().startswith(b"{"):
                yield from _json_lines(path, lines)
            elif first[1].startswith(b"#separator"):
                yield from _tsv(path, lines)
            else:
                raise ZeekLogError("not a Zeek ssl.log: neither a #separator header nor a JSON object", path=path,
                                   line=1)
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", path=path) from e


def _lines(path: Path, fh: IO[bytes]) -> Lines:
    """(line number, bytes) of every line, none read beyond MAX_LINE_BYTES."""
    for number in itertools.count(1):
        raw = fh.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        if len(raw) > MAX_LINE_BYTES:
            raise ZeekLogError(f"a line longer than {MAX_LINE_BYTES} bytes: not a Zeek log line", path=path,
                               line=number)
        yield number, raw


def _json_lines(path: Path, lines: Lines) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, raw in lines:
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError) as e:  # RecursionError: nesting like [[[[...
            raise ZeekLogError(f"not a JSON object: {e}", path=path, line=number) from e
        if not isinstance(record, dict):
            raise ZeekLogError("not a JSON object", path=path, line=number)
        ssh = any(k in record for k in _SSH_FIELDS)
        yield number, (to_ssh_line if ssh else to_handshake_line)(record, path, number)


def _tsv(path: Path, lines: Lines) -> Iterator[tuple[int, dict[str, Any]]]:
    separator, set_separator, empty, unset = b"\t", b",", b"(empty)", b"-"
    fields: list[str] | None = None
    to_line = to_handshake_line
    for number, raw in lines:
        line = raw.rstrip(b"\r\n")
        if not line:
            continue
        if line.startswith(b"#"):
            directive, _, value = line[1:].partition(b" " if line.startswith(b"#separator") else separator)
            if directive == b"separator":
                separator = _unescape(value)
            elif directive == b"set_separator":
                set_separator = _unescape(value)
            elif directive == b"empty_field":
                empty = value
            elif directive == b"unset_field":
                unset = value
            elif directive == b"fields":
                fields = [f.decode("utf-8", errors="replace") for f in value.split(separator)]
                missing = [f for f in REQUIRED_FIELDS if f not in fields]
                if missing:
                    raise ZeekLogError(f"#fields lacks {', '.join(missing)}", path=path, line=number)
            elif directive == b"path" and value.strip() not in (b"ssl", b"ssh"):
                raise ZeekLogError(f"a {value.decode('utf-8', 'replace')!r} log, not ssl.log or ssh.log", path=path,
                                   line=number)
            elif directive == b"path":
                to_line = to_ssh_line if value.strip() == b"ssh" else to_handshake_line
            continue
        if fields is None:
            raise ZeekLogError("a record before the #fields header", path=path, line=number)
        count = line.count(separator) + 1  # counted before splitting: a hostile line may hold a million
        if count != len(fields):
            raise ZeekLogError(f"{count} fields where #fields names {len(fields)}", path=path, line=number)
        values = line.split(separator)
        record: dict[str, Any] = {}
        for name, value in zip(fields, values, strict=True):
            if value == unset:
                continue
            if value == empty:
                record[name] = []
            elif set_separator in value and name in _LIST_FIELDS:
                record[name] = [_text(v) for v in value.split(set_separator)]
            else:
                record[name] = [_text(value)] if name in _LIST_FIELDS else _text(value)
        yield number, to_line(record, path, number)


_LIST_FIELDS = frozenset({"client_curves", "client_key_share_groups", "client_supported_versions"})
# Fields only ssh.log has: a JSON record with one is an SSH record.
_SSH_FIELDS = ("kex_alg", "host_key_alg", "auth_attempts")


def _unescape(value: bytes) -> bytes:
    return _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), value)


def _text(value: bytes) -> str:
    # Zeek writes non-printable bytes as \xHH; an SNI is attacker-controlled, so keep every byte.
    return _unescape(value).decode("utf-8", errors="backslashreplace")


def _endpoints(record: dict[str, Any], path: Path, number: int) -> tuple[str, str, int, str, int]:
    """(time as the contract writes it, client ip, port, server ip, port) of a record."""
    try:
        ts = _timestamp(record["ts"])
        orig_port, resp_port = int(record["id.orig_p"]), int(record["id.resp_p"])
        orig_host, resp_host = str(record["id.orig_h"]), str(record["id.resp_h"])
    except KeyError as e:
        raise ZeekLogError(f"record lacks {e.args[0]!r}", path=path, line=number) from e
    except (TypeError, ValueError) as e:
        raise ZeekLogError(f"bad timestamp or endpoint: {e}", path=path, line=number) from e
    if not (0 <= orig_port <= 65535 and 0 <= resp_port <= 65535):
        raise ZeekLogError("a port outside 0-65535", path=path, line=number)
    try:
        when = datetime.fromtimestamp(ts, tz=UTC)
    except (OverflowError, OSError, ValueError) as e:
        raise ZeekLogError(f"timestamp {ts} is out of range", path=path, line=number) from e
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), orig_host, orig_port, resp_host, resp_port


def to_ssh_line(record: dict[str, Any], path: Path, number: int) -> dict[str, Any]:
    """One ssh.log record as a runtime `ssh` line (docs/RUNTIME.md)."""
    when, orig_host, orig_port, resp_host, resp_port = _endpoints(record, path, number)
    kex = _optional_text(record.get("kex_alg"))
    cipher = _optional_text(record.get("cipher_alg"))
    return {
        "type": "ssh", "ts": when, "host": None, "pid": None, "tid": None, "comm": None, "exe": None,
        "role": None, "src_ip": orig_host, "src_port": orig_port, "dst_ip": resp_host, "dst_port": resp_port,
        "client_banner": _optional_text(record.get("client")), "server_banner": _optional_text(record.get("server")),
        "kex_offered_client": None, "kex_offered_server": None, "kex": kex,
        "host_key_algorithm": _optional_text(record.get("host_key_alg")),
        "cipher_client_to_server": cipher, "cipher_server_to_client": None,
        # Zeek names a MAC under an AEAD cipher too; it is not used (as from-pcap says).
        "mac_client_to_server": None if cipher in AEAD_CIPHERS else _optional_text(record.get("mac_alg")),
        "mac_server_to_client": None,
        "compression_client_to_server": _optional_text(record.get("compression_alg")),
        "compression_server_to_client": None, "strict_kex": None,
        "pq_hybrid": is_pq_kex(kex) if kex is not None else None,
        "disconnect_reason": None, "parse_error": None, "success": None, "handshake_ms": None,
        "source": "zeek", "capture": str(path), "capture_line": number,
    }


def to_handshake_line(record: dict[str, Any], path: Path, number: int) -> dict[str, Any]:
    """One ssl.log record (field name -> value, TSV strings or JSON values) as a runtime handshake line."""
    when, orig_host, orig_port, resp_host, resp_port = _endpoints(record, path, number)
    group = _group(record.get("curve"))
    success = _flag(record.get("established"), path, number)
    return {
        "type": "handshake",
        "ts": when,
        "host": None,
        "pid": None,
        "tid": None,
        "comm": None,
        "exe": None,
        "library": None,
        "library_version": None,
        "role": None,
        "sni": _optional_text(record.get("server_name")),
        "src_ip": orig_host,
        "src_port": orig_port,
        "dst_ip": resp_host,
        "dst_port": resp_port,
        "tls_version": _version(record.get("version")),
        "cipher_suite": _cipher(record.get("cipher")),
        "groups_offered": _groups(record.get("client_curves")),
        "key_shares_offered": _groups(record.get("client_key_share_groups")),
        "negotiated_group": group,
        "pq_hybrid": is_pq_group(group) if group is not None else None,
        "alert": _optional_text(record.get("last_alert")) if success is False else None,
        "success": success,
        "handshake_ms": None,
        "source": "zeek",
        "outcome_source": "wire" if success is not None else None,  # Zeek's `established`, from the wire
        "capture": str(path),
        "capture_line": number,
    }


def _timestamp(value: Any) -> float:
    """Epoch seconds, or ISO 8601 (Zeek's JSON writer with json_timestamps = JSON::TS_ISO8601)."""
    if isinstance(value, str) and "T" in value:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return float(value)


def _optional_text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _unknown_code(name: str) -> int | None:
    match = _UNKNOWN.fullmatch(name.strip())
    return int(match.group(1)) if match else None


def _version(value: Any) -> str | None:
    if value is None or value == "":
        return None
    name = str(value)
    code = _unknown_code(name)
    if code is None and (draft := _DRAFT.fullmatch(name)) is not None:
        code = 0x7F00 | int(draft.group(1))
    return version_name(code) if code is not None else ZEEK_VERSIONS.get(name, name)


def _cipher(value: Any) -> str | None:
    if value is None or value == "":
        return None
    code = _unknown_code(str(value))
    return cipher_suite_name(code) if code is not None else iana_cipher_suite(str(value))


def _group(value: Any) -> str | None:
    """A group's name; None for none, and for GREASE (Zeek logs it as `grease_0x0A0A` or its number)."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    number = value if isinstance(value, int) and not isinstance(value, bool) else parse_count(text)
    if number is not None:
        code: int | None = number  # ssl-log-ext logs code points as counts
    elif (grease := _GREASE_NAME.fullmatch(text)) is not None:
        code = int(grease.group(1), 16)
    else:
        code = _unknown_code(text)
        if code is None:
            code = group_code(text)
    if code is None:
        return text
    return None if is_grease(code) else group_name(code)


def _groups(value: Any) -> list[str] | None:
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    return [g for g in (_group(v) for v in items) if g is not None]


def _flag(value: Any, path: Path, number: int) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if value in ("T", "F"):
        return bool(value == "T")
    raise ZeekLogError(f"'established' is {value!r}, not T or F", path=path, line=number)
