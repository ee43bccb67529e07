"""SSH: `sshd_config`/`ssh_config` algorithm lists -> ssh protocol assets; authorized_keys and
`*.pub` -> public-key assets.

OpenSSH lets a list be written relative to its built-in default: `+x` appends, `-x` removes
(patterns allowed), `^x` puts x first. Resolving those needs the default, so this module carries
OpenSSH 9.9's defaults and says so in the evidence; a plain list is taken as written. Settings
inside `Match` (sshd) or `Host` (ssh) blocks become their own asset, layered over the global ones;
as in OpenSSH, the first value given for a keyword wins. An `sshd_config`/`ssh_config` that states
no algorithm list globally still gets an asset: OpenSSH's defaults, every list named in
`carnot:ssh:assumed_defaults` and the release in `carnot:ssh:defaults_basis` (as the TLS scan
marks an endpoint's assumed defaults).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from fnmatch import fnmatchcase

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cyclonedx.model.crypto import (
    CryptoAssetType,
    CryptoProperties,
    ProtocolProperties,
    ProtocolPropertiesType,
)

from assess.model import Asset, Prop, props, stable_ref
from assess.sources.static.interface import Finding, NotText, ScannedFile, suffix_of
from assess.sources.static.keys import key_asset

DEFAULTS_VERSION = "OpenSSH 9.9"
OPENSSH_DEFAULTS: dict[str, tuple[str, ...]] = {
    "kexalgorithms": (
        "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com", "mlkem768x25519-sha256",
        "curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384",
        "ecdh-sha2-nistp521", "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512",
        "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256",
    ),
    "hostkeyalgorithms": (
        "ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
        "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp521-cert-v01@openssh.com",
        "sk-ssh-ed25519-cert-v01@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
        "rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com", "ssh-ed25519",
        "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com", "rsa-sha2-512", "rsa-sha2-256",
    ),
    "ciphers": (
        "chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr",
        "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
    ),
    "macs": (
        "umac-64-etm@openssh.com", "umac-128-etm@openssh.com", "hmac-sha2-256-etm@openssh.com",
        "hmac-sha2-512-etm@openssh.com", "hmac-sha1-etm@openssh.com", "umac-64@openssh.com",
        "umac-128@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1",
    ),
}
_KEYWORDS: dict[str, tuple[Prop, str]] = {
    "kexalgorithms": (Prop.SSH_KEX, "KexAlgorithms"),
    "hostkeyalgorithms": (Prop.SSH_HOST_KEY_ALGORITHMS, "HostKeyAlgorithms"),
    "ciphers": (Prop.SSH_CIPHERS, "Ciphers"),
    "macs": (Prop.SSH_MACS, "MACs"),
}
_CONFIG_NAMES = frozenset({"sshd_config", "ssh_config"})
_HEAD_KEYWORD = re.compile(rb"^[ \t]*(KexAlgorithms|HostKeyAlgorithms|Ciphers|MACs)[ \t=]", re.M | re.I)
_PUBLIC_KEY = re.compile(
    r"(?:^|\s)((?:ssh-(?:rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp\d+|sk-[\w@.-]+|[\w-]+-cert-v01@openssh\.com))"
    r"\s+(AAAA[0-9A-Za-z+/]+={0,3})"
)


class SshDetector:
    name = "ssh"

    def wants(self, name: str, head: bytes) -> bool:
        return (
            name in _CONFIG_NAMES
            or name.startswith(("authorized_keys",))
            or suffix_of(name) == ".pub"
            or (suffix_of(name) == ".conf" and _HEAD_KEYWORD.search(head) is not None)
        )

    def detect(self, file: ScannedFile) -> Iterator[Finding]:
        is_keys = file.name.startswith("authorized_keys") or file.name.endswith(".pub")
        if is_keys and b"-----BEGIN " in file.data:
            return  # a PEM public key: the certificate-and-key detector reads it
        try:
            text = file.text()
        except NotText as e:
            yield file.skipped(str(e))
            return
        if is_keys:
            yield from _public_keys(file, text)
        else:
            yield from _config_assets(file, text)


def resolve_list(value: str, default: tuple[str, ...]) -> list[str]:
    """An OpenSSH algorithm list with its +, - and ^ modifiers applied to the default."""
    body = value[1:] if value[:1] in "+-^" else value
    items = [v for v in body.split(",") if v]
    if value.startswith("+"):
        return list(default) + [i for i in items if i not in default]
    if value.startswith("-"):
        return [d for d in default if not any(fnmatchcase(d, pattern) for pattern in items)]
    if value.startswith("^"):
        return items + [d for d in default if d not in items]
    return items


def _config_assets(file: ScannedFile, text: str) -> Iterator[Finding]:
    role = "client" if file.name == "ssh_config" or "ssh_config.d" in file.location else "server"
    # section header line (0 = global) -> keyword -> (raw value, line)
    sections: dict[int, tuple[str, dict[str, tuple[str, int]]]] = {0: ("", {})}
    current = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = re.split(r"[\s=]+", line, maxsplit=1)
        keyword = parts[0].lower()
        value = parts[1].strip().strip('"') if len(parts) > 1 else ""
        if keyword in ("match", "host"):
            current = number
            sections[current] = (f"{parts[0]} {value}", {})
            if keyword == "host" and value.strip() == "*":
                current = 0
            continue
        if keyword in _KEYWORDS and keyword not in sections[current][1]:
            sections[current][1][keyword] = (value, number)
    global_settings = sections[0][1]
    if not global_settings and file.name in _CONFIG_NAMES:
        yield _defaults_asset(file, role)
    for header, (label, settings) in sections.items():
        if not settings:
            continue
        effective = dict(global_settings) | settings if header else settings
        yield _ssh_asset(file, role, label, effective)


def _ssh_asset(file: ScannedFile, role: str, label: str, settings: dict[str, tuple[str, int]]) -> Asset:
    values: dict[str, list[str]] = {}
    notes: list[str] = []
    for keyword, (raw, line) in sorted(settings.items(), key=lambda kv: kv[1][1]):
        values[keyword] = resolve_list(raw, OPENSSH_DEFAULTS[keyword])
        notes.append(f"{_KEYWORDS[keyword][1]} line {line}")
        if raw[:1] in "+-^":
            notes[-1] += f" ('{raw[0]}' applied to {DEFAULTS_VERSION} defaults)"
    first_line = min(line for _, line in settings.values())
    context = (f"{label}: " if label else "") + ", ".join(notes)
    ordered = [values.get(k) for k in _KEYWORDS]
    return Asset(
        bom_ref=stable_ref("ssh", role, *(",".join(v) if v is not None else "-" for v in ordered)),
        name=f"SSH {role} configuration" + (f" ({label})" if label else ""),
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.PROTOCOL,
            protocol_properties=ProtocolProperties(type=ProtocolPropertiesType.SSH),
        ),
        evidence=(file.evidence(first_line, context),),
        properties=props({_KEYWORDS[k][0]: values.get(k) for k in _KEYWORDS}),
    )


def _defaults_asset(file: ScannedFile, role: str) -> Asset:
    """The asset of a configuration that states no algorithm list: OpenSSH's defaults, marked assumed."""
    values = [list(OPENSSH_DEFAULTS[k]) for k in _KEYWORDS]
    return Asset(
        bom_ref=stable_ref("ssh", role, "assumed-defaults", DEFAULTS_VERSION, *(",".join(v) for v in values)),
        name=f"SSH {role} configuration (defaults assumed)",
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.PROTOCOL,
            protocol_properties=ProtocolProperties(type=ProtocolPropertiesType.SSH),
        ),
        evidence=(file.evidence(1, f"no algorithm list stated: {DEFAULTS_VERSION} defaults assumed"),),
        properties=props({_KEYWORDS[k][0]: list(OPENSSH_DEFAULTS[k]) for k in _KEYWORDS} | {
            Prop.SSH_ASSUMED_DEFAULTS: ["kex", "host_key_algorithms", "ciphers", "macs"],
            Prop.SSH_DEFAULTS_BASIS: f"{DEFAULTS_VERSION} assumed (release not stated)",
        }),
    )


def _public_keys(file: ScannedFile, text: str) -> Iterator[Finding]:
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _PUBLIC_KEY.search(line)
        if match is None:
            yield file.skipped("not an SSH public key line", number)
            continue
        key_type, blob = match.group(1), match.group(2)
        try:
            base64.b64decode(blob, validate=True)
            # An OpenSSH certificate (…-cert-v01@openssh.com) is described by the key it certifies.
            identity = serialization.load_ssh_public_identity(f"{key_type} {blob}".encode())
            public = identity.public_key() if isinstance(identity, serialization.SSHCertificate) else identity
        except (ValueError, UnsupportedAlgorithm, binascii.Error):
            yield file.skipped(f"unreadable or unsupported SSH public key of type {key_type}", number)
            continue
        yield key_asset(public, private=False, evidence=file.evidence(number, key_type))
