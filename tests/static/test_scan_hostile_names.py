"""File names from a hostile tree: escaped in every message, kept as data in the shard, never fatal.

A name can hold terminal control sequences (erase the line and print a fake "scan clean", hide the
text that follows), line breaks, and bidi overrides. The real CLI runs with -v, so every skipped
file gets a log line, and nothing it writes for people may carry those characters raw.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from scan_testing import cert_pem, make_cert

FORGED_LINE = "\x1b[2K\rscan clean\n.pem"
HIDDEN = "hidden\x1b[8m.key"
REVERSED = "rtl\u202egnp.pem"
C1_AND_DEL = "csi\x9b31m del\x7f.crt"
SEPARATOR = "line\u2028isolate\u2066.py"
# Every control, separator and bidi character; "\n" only as the end of a line the tool writes.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def named_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    os.mkfifo(tree / FORGED_LINE)  # skipped: not a regular file
    os.symlink("nowhere", tree / HIDDEN)  # skipped: dangling
    (tree / REVERSED).write_bytes(b"\x00\x01 not a certificate")  # skipped: binary under a cert name
    (tree / C1_AND_DEL).write_bytes(b"")  # skipped: empty
    (tree / SEPARATOR).write_bytes(b"import hashlib\nx = '\xff'\n")  # skipped: not UTF-8
    (tree / "cert\x1b]0;title\x07.pem").write_bytes(cert_pem(make_cert("named.test", ec.generate_private_key(
        ec.SECP256R1()))))
    return tree


@pytest.mark.parametrize("report", [["--json"], []], ids=["json", "table"])
def test_control_characters_in_file_names_reach_stdout_and_stderr_escaped(
    named_tree: Path, tmp_path: Path, carnot, report: list[str]
) -> None:
    out = tmp_path / "static.cdx.json"

    result = carnot("scan", str(named_tree), "--out", str(out), "-v", *report)

    assert result.returncode == 0, result.stderr
    for stream, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        raw = sorted({m.group() for m in RAW.finditer(text)})
        assert not raw, f"raw control characters on {stream}: {raw}"
    for escaped in (r"\x1b[2K\rscan clean\n.pem", r"hidden\x1b[8m.key", r"rtl\u202egnp.pem",
                    r"csi\x9b31m del\x7f.crt", r"line\u2028isolate\u2066.py"):
        assert escaped in result.stderr, result.stderr
    # The shard is data: it keeps the real names (JSON-escaped by the writer).
    doc = json.loads(out.read_text())
    skipped = {json.loads(p["value"])["location"] for p in doc["metadata"]["properties"]
               if p["name"] == "carnot:skipped"}
    assert {FORGED_LINE, HIDDEN, REVERSED, C1_AND_DEL, SEPARATOR} <= skipped
    [cert] = doc["components"]
    assert cert["evidence"]["occurrences"][0]["location"] == "cert\x1b]0;title\x07.pem"


def test_a_file_name_that_is_not_utf8_is_reported_with_its_bytes_escaped(tmp_path: Path, carnot) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / os.fsdecode(b"md5\xfe.py")).write_text("import hashlib\nhashlib.md5(b'')\n")
    (tree / os.fsdecode(b"bad\xff.pem")).write_bytes(b"\x00\x01")
    out = tmp_path / "static.cdx.json"

    result = carnot("scan", str(tree), "--out", str(out), "--json")

    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    [md5] = doc["components"]
    assert md5["evidence"]["occurrences"][0]["location"] == r"md5\xfe.py"
    skipped = [json.loads(p["value"]) for p in doc["metadata"]["properties"] if p["name"] == "carnot:skipped"]
    assert [s["location"] for s in skipped] == [r"bad\xff.pem"]
