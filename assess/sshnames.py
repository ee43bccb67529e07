"""The one place that knows SSH algorithm names: which are post-quantum hybrids, which are
pseudo-algorithms (extension signals, never chosen), and what each key exchange is made of.

Names come from `assess/registry/ssh-algorithm-names.csv`, Carnot's own table with the source of
every row, and from IANA's SSH registries (ssh-parameters-16..20) where `tools/refresh_iana.py`
has vendored them (no public verbatim copy was reachable where Carnot was built; see
`assess/registry/NOTICE.md`). A name in neither is still an algorithm: it is kept as written, and
counts as classical unless a pseudo-algorithm prefix says otherwise.
"""

from __future__ import annotations

import csv
import io
from typing import NamedTuple

from assess.resources import optional_registry_file, registry_file

# RFC 8308's and OpenSSH's signals ride in the kex list; a future version of either keeps the prefix.
PSEUDO_PREFIXES = ("ext-info-", "kex-strict-")


class SshAlgorithm(NamedTuple):
    name: str
    kind: str  # kex, host_key, cipher, mac, compression, pseudo
    quantum: str  # pq-hybrid, classical, symmetric, or "" (not cryptography)
    family: str  # e.g. "ML-KEM-768+X25519", "ECDH P-256", "DH 2048"
    reference: str


def _table() -> dict[str, SshAlgorithm]:
    text = registry_file("ssh-algorithm-names.csv").read_text(encoding="utf-8")
    with io.StringIO(text, newline="") as rows:
        return {row["Name"]: SshAlgorithm(row["Name"], row["Kind"], row["Quantum"], row["Family"], row["Reference"])
                for row in csv.DictReader(rows)}


# IANA's registries, by file: what kind of name each lists.
IANA_FILES = {"ssh-parameters-16.csv": "kex", "ssh-parameters-17.csv": "cipher", "ssh-parameters-18.csv": "mac",
              "ssh-parameters-19.csv": "host_key", "ssh-parameters-20.csv": "compression"}


def _iana() -> dict[str, SshAlgorithm]:
    """The names IANA's vendored SSH registries list (first column), where they are vendored."""
    out: dict[str, SshAlgorithm] = {}
    for file, kind in IANA_FILES.items():
        path = optional_registry_file(file)
        if path is None:
            continue
        with io.StringIO(path.read_text(encoding="utf-8"), newline="") as rows:
            for row in list(csv.reader(rows))[1:]:
                if row and row[0].strip() and " " not in row[0].strip():
                    out[row[0].strip()] = SshAlgorithm(row[0].strip(), kind, "", "", f"IANA {file}")
    return out


ALGORITHMS: dict[str, SshAlgorithm] = _iana() | _table()  # Carnot's rows say more (quantum, family)
PQ_HYBRID_KEX: frozenset[str] = frozenset(n for n, a in ALGORITHMS.items() if a.quantum == "pq-hybrid")


def is_pseudo_algorithm(name: str) -> bool:
    """`ext-info-c`, `kex-strict-s-v00@openssh.com`, ...: signals in the kex list, not algorithms."""
    return name.startswith(PSEUDO_PREFIXES)


def is_pq_kex(name: str | None) -> bool:
    """Whether a key exchange method is a post-quantum hybrid (ML-KEM or Streamlined NTRU Prime with X25519/ECDH)."""
    return name in PQ_HYBRID_KEX


def kex_family(name: str) -> str | None:
    """What a key exchange method is made of, e.g. `ML-KEM-768+X25519`; None for an unknown name."""
    algorithm = ALGORITHMS.get(name)
    return algorithm.family if algorithm is not None and algorithm.kind == "kex" else None
