"""Refresh the IANA registries Carnot names TLS code points and SSH algorithms from (assess/registry/*.csv).

    python tools/refresh_iana.py            # download each registry, check it, replace the vendored copy
    python tools/refresh_iana.py --check    # only say which vendored files differ from IANA's (exit 1 if any)

Each file is IANA's CSV byte for byte. A download is checked before it replaces anything: it must
have IANA's header and name what Carnot relies on (X25519MLKEM768 at 4588, ...), so a proxy's error
page never becomes the registry. The NOTICE table's row for a replaced file is updated with the
retrieval date. Needs to reach www.iana.org.

IANA's SSH registries (ssh-parameters-16 to -20: key exchange, encryption, MAC, public key and
compression algorithm names) are not vendored yet: no verbatim copy was reachable where Carnot was
built (see assess/registry/NOTICE.md). A run that reaches IANA adds them (and a NOTICE row);
`assess.sshnames` then reads their names beside Carnot's own table. Their column names are not
assumed: a download must be CSV whose first column names the algorithms Carnot relies on.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import re
import sys
import urllib.request
from pathlib import Path

REGISTRY = Path(__file__).resolve().parent.parent / "assess" / "registry"
BASE = "https://www.iana.org/assignments/tls-parameters/"
SSH_BASE = "https://www.iana.org/assignments/ssh-parameters/"
# file -> (registry, names its first column must hold)
SSH_REGISTRIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "ssh-parameters-16.csv": ("Key Exchange Method Names", ("curve25519-sha256", "diffie-hellman-group14-sha256")),
    "ssh-parameters-17.csv": ("Encryption Algorithm Names", ("aes128-ctr", "aes256-ctr")),
    "ssh-parameters-18.csv": ("MAC Algorithm Names", ("hmac-sha2-256", "hmac-sha1")),
    "ssh-parameters-19.csv": ("Public Key Algorithm Names", ("ssh-ed25519", "rsa-sha2-256")),
    "ssh-parameters-20.csv": ("Compression Algorithm Names", ("none", "zlib")),
}
# file -> (how its first line starts, rows it must hold as Value -> Description)
REGISTRIES: dict[str, tuple[str, dict[str, str]]] = {
    "tls-parameters-4.csv": ("Value,Description,DTLS-OK,Recommended,Reference",
                             {"0xC0,0x11": "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "0x13,0x01": "TLS_AES_128_GCM_SHA256"}),
    "tls-parameters-8.csv": ("Value,Description,DTLS-OK,Recommended,Reference",
                             {"4588": "X25519MLKEM768", "29": "x25519", "512": "MLKEM512"}),
    "tls-signaturescheme.csv": ("Value,Description,Recommended,Reference",
                                {"0x0804": "rsa_pss_rsae_sha256"}),
}


class RegistryError(Exception):
    """A download that is not the registry it should be."""


def check(name: str, content: bytes) -> None:
    if name in SSH_REGISTRIES:
        check_ssh(name, content)
        return
    header, required = REGISTRIES[name]
    text = content.decode("utf-8")
    if not text.startswith(header):
        raise RegistryError(f"{name}: does not start with IANA's header {header!r}")
    rows = {row[0]: row[1] for row in csv.reader(io.StringIO(text, newline="")) if len(row) > 1}
    for value, description in required.items():
        if rows.get(value) != description:
            raise RegistryError(f"{name}: {value} is not {description}")


def check_ssh(name: str, content: bytes) -> None:
    text = content.decode("utf-8")
    if text.lstrip().startswith("<"):
        raise RegistryError(f"{name}: an HTML page, not IANA's CSV")
    names = {row[0].strip() for row in csv.reader(io.StringIO(text, newline="")) if len(row) > 1}
    for required in SSH_REGISTRIES[name][1]:
        if required not in names:
            raise RegistryError(f"{name}: does not name {required}")


def download(name: str) -> bytes:
    base = SSH_BASE if name in SSH_REGISTRIES else BASE
    with urllib.request.urlopen(base + name, timeout=60) as response:
        content: bytes = response.read()
    check(name, content)
    return content


def note_retrieval(name: str, today: str) -> None:
    """Point the NOTICE's row for `name` at IANA, retrieved today."""
    notice = REGISTRY / "NOTICE.md"
    row = re.compile(rf"^\| `{re.escape(name)}` \|(.*)$", re.M)
    text = notice.read_text()
    match = row.search(text)
    if match is None and name in SSH_REGISTRIES:
        # The first copy of an SSH registry: a row of its own, at the end of the table.
        url = SSH_BASE + name
        table_end = text.index("\n\n", text.index("| file | IANA registry |"))
        new_row = f"\n| `{name}` | SSH {SSH_REGISTRIES[name][0]} | {url} | IANA itself | {today} |"
        notice.write_text(text[:table_end] + new_row + text[table_end:])
        return
    if match is None:
        raise RegistryError(f"NOTICE.md has no row for {name}")
    cells = [c.strip() for c in match.group(1).split("|")]
    cells[2:4] = ["IANA itself", today]
    notice.write_text(text[: match.start()] + f"| `{name}` | " + " | ".join(cells[:4]) + " |" + text[match.end():])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare only; change nothing")
    args = parser.parse_args(argv)
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    differ = []
    for name in [*REGISTRIES, *SSH_REGISTRIES]:
        try:
            content = download(name)
        except (OSError, RegistryError, UnicodeDecodeError) as e:
            print(f"{name}: {e}", file=sys.stderr)
            return 2
        if (REGISTRY / name).is_file() and (REGISTRY / name).read_bytes() == content:
            print(f"{name}: unchanged")
            continue
        differ.append(name)
        if not args.check:
            (REGISTRY / name).write_bytes(content)
            note_retrieval(name, today)
        print(f"{name}: {'differs from IANA' if args.check else 'updated'}")
    return 1 if args.check and differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
