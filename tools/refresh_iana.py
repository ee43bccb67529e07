"""Refresh the IANA registries Carnot names TLS code points from (assess/registry/*.csv).

    python tools/refresh_iana.py            # download each registry, check it, replace the vendored copy
    python tools/refresh_iana.py --check    # only say which vendored files differ from IANA's (exit 1 if any)

Each file is IANA's CSV byte for byte. A download is checked before it replaces anything: it must
have IANA's header and name what Carnot relies on (X25519MLKEM768 at 4588, ...), so a proxy's error
page never becomes the registry. The NOTICE table's row for a replaced file is updated with the
retrieval date. Needs to reach www.iana.org.
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
    header, required = REGISTRIES[name]
    text = content.decode("utf-8")
    if not text.startswith(header):
        raise RegistryError(f"{name}: does not start with IANA's header {header!r}")
    rows = {row[0]: row[1] for row in csv.reader(io.StringIO(text, newline="")) if len(row) > 1}
    for value, description in required.items():
        if rows.get(value) != description:
            raise RegistryError(f"{name}: {value} is not {description}")


def download(name: str) -> bytes:
    with urllib.request.urlopen(BASE + name, timeout=60) as response:
        content: bytes = response.read()
    check(name, content)
    return content


def note_retrieval(name: str, today: str) -> None:
    """Point the NOTICE's row for `name` at IANA, retrieved today."""
    notice = REGISTRY / "NOTICE.md"
    row = re.compile(rf"^\| `{re.escape(name)}` \|(.*)$", re.M)
    text = notice.read_text()
    match = row.search(text)
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
    for name in REGISTRIES:
        try:
            content = download(name)
        except (OSError, RegistryError, UnicodeDecodeError) as e:
            print(f"{name}: {e}", file=sys.stderr)
            return 2
        if (REGISTRY / name).read_bytes() == content:
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
