"""Chart labels from observed strings: bounded, single-line, and inert in every renderer."""

from __future__ import annotations

import html
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
LABEL_LIMIT = 48


def short(value: object, limit: int = LABEL_LIMIT) -> str:
    """One line of at most `limit` characters; control and bidi-override characters become spaces."""
    text = _CONTROL.sub(" ", str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plotly_text(value: object, limit: int = LABEL_LIMIT) -> str:
    """A label for plotly.js, which reads a subset of HTML (<a href>, <b>, ...) in text: entities only."""
    return html.escape(short(value, limit), quote=False)
