"""tools/refresh_iana.py, offline: the vendored files pass the checks a download must pass, a page
that is not the registry is refused, and a refresh points the NOTICE's row at IANA."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tools import refresh_iana


@pytest.mark.parametrize("name", sorted(refresh_iana.REGISTRIES))
def test_the_vendored_registries_pass_the_download_checks(name: str) -> None:
    refresh_iana.check(name, (refresh_iana.REGISTRY / name).read_bytes())


def test_an_error_page_or_a_registry_missing_a_needed_row_is_refused() -> None:
    with pytest.raises(refresh_iana.RegistryError, match="header"):
        refresh_iana.check("tls-parameters-8.csv", b"<html>proxy error</html>")
    with pytest.raises(refresh_iana.RegistryError, match="4588"):
        refresh_iana.check("tls-parameters-8.csv", b"Value,Description,DTLS-OK,Recommended,Reference\n29,x25519,Y,Y,\n")


def test_a_refreshed_file_is_noted_as_retrieved_from_iana(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(refresh_iana.REGISTRY / "NOTICE.md", tmp_path / "NOTICE.md")
    monkeypatch.setattr(refresh_iana, "REGISTRY", tmp_path)
    refresh_iana.note_retrieval("tls-parameters-8.csv", "2027-01-31")
    [row] = [r for r in (tmp_path / "NOTICE.md").read_text().splitlines() if r.startswith("| `tls-parameters-8.csv`")]
    assert row.endswith("| IANA itself | 2027-01-31 |") and "TLS Supported Groups" in row


def test_an_ssh_registry_download_must_name_the_algorithms_carnot_relies_on() -> None:
    refresh_iana.check("ssh-parameters-16.csv", b"Method Name,Reference,Note\ncurve25519-sha256,[RFC8731],\n"
                                                  b"diffie-hellman-group14-sha256,[RFC8268],\n")
    with pytest.raises(refresh_iana.RegistryError, match="HTML"):
        refresh_iana.check("ssh-parameters-16.csv", b"<html>proxy error</html>")
    with pytest.raises(refresh_iana.RegistryError, match="curve25519-sha256"):
        refresh_iana.check("ssh-parameters-16.csv", b"Method Name,Reference\nfoo,bar\n")


def test_a_first_ssh_registry_gets_a_notice_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(refresh_iana.REGISTRY / "NOTICE.md", tmp_path / "NOTICE.md")
    monkeypatch.setattr(refresh_iana, "REGISTRY", tmp_path)
    refresh_iana.note_retrieval("ssh-parameters-16.csv", "2027-01-31")
    rows = [r for r in (tmp_path / "NOTICE.md").read_text().splitlines() if r.startswith("| `ssh-parameters-16.csv`")]
    url = "https://www.iana.org/assignments/ssh-parameters/ssh-parameters-16.csv"
    assert rows == [f"| `ssh-parameters-16.csv` | SSH Key Exchange Method Names | {url} | IANA itself | 2027-01-31 |"]
