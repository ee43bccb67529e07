"""The one JSON parser: limits on nesting and numbers, each an InputError naming the origin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assess import fsio
from assess.errors import InputError
from assess.fsio import MAX_JSON_DEPTH, MAX_JSON_INTEGER_DIGITS, parse_json_bytes
from assess.model import parse_count, parse_years


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_nesting_up_to_the_limit_is_read_and_one_level_more_is_refused():
    assert parse_json_bytes(_nested(MAX_JSON_DEPTH), "ok.json") is not None
    with pytest.raises(InputError, match=f"nested deeper than {MAX_JSON_DEPTH} levels") as refused:
        parse_json_bytes(_nested(MAX_JSON_DEPTH + 1), "deep.json")
    assert refused.value.path == "deep.json"


def test_nesting_too_deep_for_python_itself_is_the_same_clean_error():
    with pytest.raises(InputError, match="nested deeper than"):
        parse_json_bytes(_nested(100_000), "deeper.json")


@pytest.mark.parametrize("literal", [b"9" * (MAX_JSON_INTEGER_DIGITS + 1), b"-" + b"9" * 4400, b"1e400",
                                     b"-1e400", b"NaN", b"Infinity", b"-Infinity"])
def test_numbers_out_of_bounds_are_refused(literal):
    with pytest.raises(InputError, match="invalid JSON") as refused:
        parse_json_bytes(b'{"n": [' + literal + b"]}", "numbers.json")
    assert refused.value.one_line().startswith("numbers.json: ")


def test_numbers_in_bounds_are_read_exactly():
    value = parse_json_bytes(b'[' + b"9" * MAX_JSON_INTEGER_DIGITS + b', -0.5, 1e300]', "ok.json")
    assert value == [int("9" * MAX_JSON_INTEGER_DIGITS), -0.5, 1e300]


def test_text_is_parsed_like_bytes():
    assert parse_json_bytes('{"stage": "aws"}', "property") == {"stage": "aws"}
    with pytest.raises(InputError):
        parse_json_bytes("[" * 100_000, "property")


@pytest.mark.parametrize("text", ["²", "１２", "٣", "-1", "+1", " 1", "1.0", "", "1" * 19])
def test_a_count_is_ascii_digits_only(text):
    # "²", "１２" and "٣" pass str.isdigit(); int() refuses the first and reads the others
    assert parse_count(text) is None


def test_counts_and_years_that_are_well_formed_are_read():
    assert parse_count("0") == 0 and parse_count("2048") == 2048 and parse_count("9" * 18) == int("9" * 18)
    assert parse_years("10") == 10.0 and parse_years("7.5") == 7.5
    assert parse_years("-5") is None and parse_years("inf") is None and parse_years("1e3") is None


def _streamed(path: Path) -> dict:
    return {key: list(value) if key == "components" and not isinstance(value, list) else value
            for key, value in fsio.stream_json_object(path, "components")}


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 22])
def test_a_streamed_object_is_the_parsed_object_whatever_the_chunk_boundaries(tmp_path, monkeypatch, chunk) -> None:
    document = {"bomFormat": "CycloneDX", "components": [{"n": 12345678901234567890, "f": -1.5e-7, "s": "é\u202e"},
                                                         [], {}, 31415926],
                "specVersion": "1.6", "z": [1, 2], "t": True, "x": None}
    path = tmp_path / "doc.json"
    path.write_text("\ufeff" + json.dumps(document, indent=1), encoding="utf-8")
    monkeypatch.setattr(fsio, "_STREAM_CHUNK", chunk)
    assert _streamed(path) == document


@pytest.mark.parametrize("text", ['{"components": [1, 2', '{"a": 1} []', '[1]', '{"components": [NaN]}',
                                  '{"components": [' + "[" * 200 + "]" * 200 + "]}", '{"a": 1e400}', "\xff"])
def test_what_the_streamed_reader_doubts_is_not_streamable(tmp_path, text) -> None:
    path = tmp_path / "doc.json"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(fsio.NotStreamable):
        _streamed(path)


@pytest.mark.parametrize("depth, streamable", [(MAX_JSON_DEPTH - 2, True), (MAX_JSON_DEPTH - 1, False)])
def test_streamed_items_are_held_to_the_document_nesting_limit(tmp_path, depth, streamable) -> None:
    path = tmp_path / "doc.json"
    path.write_text('{"components": [' + "[" * depth + "]" * depth + "]}")
    if streamable:
        assert len(_streamed(path)["components"]) == 1
    else:
        with pytest.raises(fsio.NotStreamable):
            _streamed(path)
