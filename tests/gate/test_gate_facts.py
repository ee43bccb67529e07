"""The facts the policies read: spellings of TLS versions from every source normalised one way."""

from __future__ import annotations

import pytest

from assess.gate.facts import tls_version


@pytest.mark.parametrize(("raw", "expected"), [
    ("TLSv1.2", "1.2"), ("TLS1_2", "1.2"), ("1.3", "1.3"), ("SSLv3", "SSLv3"), ("TLSv1", "1.0"),
    # drafts and experiments of TLS 1.3, as captures and Zeek spell them (docs/CAPTURES.md)
    ("TLSv1.3-draft23", "1.3"), ("TLSv1.3-fb23", "1.3"), ("TLSv1.3-experiment2", "1.3"),
    ("TLSv9", None),
])
def test_every_spelling_of_a_version_is_one_version(raw, expected):
    assert tls_version(raw) == expected
