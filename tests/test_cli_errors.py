"""Bad input: exit 2, one line naming the file, no traceback, nothing already written damaged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def _assert_one_line_error(result, *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture
def existing_output(tmp_path: Path) -> Path:
    out = tmp_path / "merged.json"
    out.write_text('{"precious": true}\n')
    return out


def _case_truncated(tmp: Path) -> tuple[Path, str]:
    p = tmp / "truncated.cdx.json"
    p.write_text('{\n  "bomFormat": "CycloneDX",\n  "specVersion": "1.6",\n  "components": [\n    {"type": ')
    return p, ":5:"


def _case_not_a_cbom(tmp: Path) -> tuple[Path, str]:
    p = tmp / "package.json"
    p.write_text(json.dumps({"name": "left-pad", "version": "1.0.0"}))
    return p, "not a CycloneDX document"


def _case_unknown_spec(tmp: Path) -> tuple[Path, str]:
    p = tmp / "future.cdx.json"
    p.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "9.9", "version": 1}))
    return p, "unsupported CycloneDX specVersion '9.9'"


def _case_old_spec(tmp: Path) -> tuple[Path, str]:
    p = tmp / "old.cdx.json"
    p.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.4", "version": 1}))
    return p, "unsupported CycloneDX specVersion '1.4'"


def _case_schema_invalid(tmp: Path) -> tuple[Path, str]:
    p = tmp / "invalid.cdx.json"
    p.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                             "components": [{"type": "cryptographic-asset"}]}))
    return p, "not valid CycloneDX 1.6"


def _case_missing(tmp: Path) -> tuple[Path, str]:
    return tmp / "nowhere.cdx.json", "no such file"


def _case_directory(tmp: Path) -> tuple[Path, str]:
    d = tmp / "a-directory.json"
    d.mkdir()
    return d, "is a directory"


def _case_gigabytes_of_garbage(tmp: Path) -> tuple[Path, str]:
    p = tmp / "garbage.cdx.json"
    with p.open("wb") as fh:  # sparse: a real 3 GiB file (over the 2 GiB CBOM limit) that costs no disk
        fh.write(b"\x00\xff garbage")
        fh.truncate(3 << 30)
    return p, "larger than"


def _case_binary(tmp: Path) -> tuple[Path, str]:
    p = tmp / "binary.cdx.json"
    p.write_bytes(b"{\n\xff\xfe\x00garbage")
    return p, "not UTF-8"


def _case_nested_100k_deep(tmp: Path) -> tuple[Path, str]:
    p = tmp / "deep.cdx.json"
    p.write_text('{"components": ' + "[" * 100_000 + "]" * 100_000 + "}")
    return p, "JSON nested deeper than 128 levels"


def _case_integer_of_4400_digits(tmp: Path) -> tuple[Path, str]:
    p = tmp / "long-number.cdx.json"
    p.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": ' + "9" * 4400 + "}")
    return p, "an integer of 4400 digits"


CASES = [_case_truncated, _case_not_a_cbom, _case_unknown_spec, _case_old_spec, _case_schema_invalid,
         _case_missing, _case_directory, _case_gigabytes_of_garbage, _case_binary, _case_nested_100k_deep,
         _case_integer_of_4400_digits]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__[6:] for c in CASES])
def test_bad_merge_input_exits_2_with_one_line_and_leaves_existing_output_alone(
    case, carnot, tmp_path, existing_output, conformance_cboms
):
    bad, needle = case(tmp_path)
    result = carnot("merge", str(conformance_cboms[0]), str(bad), "-o", str(existing_output))
    _assert_one_line_error(result, str(bad), needle)
    assert existing_output.read_text() == '{"precious": true}\n'
    assert [p.name for p in existing_output.parent.glob(".merged.json*")] == []


def test_unknown_flag_is_a_one_line_usage_error(carnot):
    _assert_one_line_error(carnot("merge", "--frobnicate"), "carnot merge: error")


def test_help_lists_the_sub_commands(carnot):
    result = carnot("--help")
    assert result.returncode == 0
    for command in ("merge", "bundle", "verify"):
        assert command in result.stdout


def test_merge_json_report_is_machine_readable(carnot, conformance_cboms, tmp_path):
    result = carnot("merge", *map(str, conformance_cboms), "-o", str(tmp_path / "m.json"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["inputs"] == len(conformance_cboms)
    assert report["components_out"] == len(json.loads((tmp_path / "m.json").read_text())["components"])


def test_control_characters_in_a_file_name_are_escaped_in_the_error_line(carnot, tmp_path):
    # Printed raw, the name would erase the line and forge "merge clean", then hide what follows.
    bad = tmp_path / "x\x1b[2K\rmerge clean\n\x1b[8m\u202e.cdx.json"
    bad.write_text("{ not json")
    done = carnot("merge", str(bad), "-o", str(tmp_path / "m.json"))
    assert done.returncode == 2
    assert not any(c in done.stderr for c in "\x1b\r\u202e") and done.stderr.count("\n") == 1
    assert "\\x1b[2K\\rmerge clean\\n\\x1b[8m\\u202e.cdx.json" in done.stderr


@pytest.mark.parametrize("command", ["merge", "gate"])
def test_max_bom_bytes_sets_the_size_of_cbom_a_command_reads(command, carnot, tmp_path, conformance_cboms) -> None:
    bom = conformance_cboms[0]
    out = ["-o", str(tmp_path / "merged.json")] if command == "merge" else ["--out-dir", str(tmp_path / "gate")]
    size = bom.stat().st_size
    refused = carnot(command, str(bom), *out, "--max-bom-bytes", str(size - 1))
    _assert_one_line_error(refused, str(bom), f"larger than the {size - 1} byte limit", "--max-bom-bytes")
    assert carnot(command, str(bom), *out, "--max-bom-bytes", str(size)).returncode == 0
