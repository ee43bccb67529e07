"""Text from observed systems (file names, labels, parser messages) made safe for a terminal or a log.

A file name is attacker-controlled: printed raw, "\\x1b[2K\\rscan clean\\n" erases the line and
forges a message, "\\x1b[8m" hides what follows, U+202E reverses it. `printable` escapes such
characters so they read as what they are. Data files (the CBOM, JSON) keep the real text; only
messages for people go through here.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, line/paragraph separators, bidi embeddings/overrides/isolates, and
# lone surrogates (undecodable bytes of a file name, which would make the write itself fail).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """`text` with every control, separator and bidi character escaped: `\\x1b`, `\\n`, `\\u202e`.

    Idempotent (the output holds none of those characters), so text escaped twice is unchanged.
    """
    return _UNPRINTABLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")
