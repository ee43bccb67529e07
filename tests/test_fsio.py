"""The one JSON parser: limits on nesting and numbers, each an InputError naming the origin."""

from __future__ import annotations

import pytest

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
