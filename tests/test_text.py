"""`printable`: text from observed systems, safe for a terminal or a log line."""

from __future__ import annotations

import pytest

from assess.text import printable


@pytest.mark.parametrize(
    ("observed", "shown"),
    [
        ("\x1b[2K\rscan clean\n", r"\x1b[2K\rscan clean\n"),
        ("hidden\x1b[8mtext", r"hidden\x1b[8mtext"),
        ("tab\tnul\x00del\x7fcsi\x9b", r"tab\tnul\x00del\x7fcsi\x9b"),
        ("abc\u202edef\u2066x\u2069\u202a", r"abc\u202edef\u2066x\u2069\u202a"),
        ("line\u2028para\u2029", r"line\u2028para\u2029"),
        ("bad\udcff.pem", r"bad\udcff.pem"),
        ("café/証明書.pem C:\\keys", "café/証明書.pem C:\\keys"),
    ],
)
def test_control_line_break_and_bidi_characters_are_escaped_and_the_rest_kept(observed: str, shown: str) -> None:
    assert printable(observed) == shown


def test_escaping_twice_changes_nothing() -> None:
    once = printable("\x1b[8m\u202e\n")

    assert printable(once) == once
