"""Java keystores (JKS, JCEKS) and PKCS#12 stores -> what can be read without a password.

JKS and JCEKS keep certificates in the clear: a trusted certificate entry's certificate, and a
private key entry's certificate chain (its key is encrypted, but the chain's first certificate
says its algorithm and size, and its public key identifies it). A JCEKS secret key entry is a
sealed Java object: its alias is read, its algorithm is not. The store's integrity digest needs
the password, so it is not checked (as `keytool -list` without a password does not).

A PKCS#12 store without a password, or with the empty one, is read whole; one with a password is
read as far as its structure is in the clear: the bags outside encrypted containers (Java's
private key entries, with their aliases; certificates a store left unencrypted).

Never read: an encrypted or sealed key's bytes. They are skipped by their length, not parsed,
copied or hashed, and a file that holds them gets no digest in any evidence (`KeyMaterial`).
This is a small hand-written reader rather than pyjks: pyjks (last release April 2020) is
unmaintained and brings key-decryption code (pycryptodomex, twofish) a scan must never need.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from assess.sources.static.certs import certificate_asset
from assess.sources.static.interface import Finding, KeyMaterial, ScannedFile, suffix_of
from assess.sources.static.keys import key_asset, public_half_asset

SUFFIXES = frozenset({".jks", ".jceks", ".keystore", ".truststore", ".ks", ".p12", ".pfx"})
NAMES = frozenset({"cacerts"})
_MAGIC = {b"\xfe\xed\xfe\xed": "JKS", b"\xce\xce\xce\xce": "JCEKS"}
_PRIVATE_KEY_ENTRY, _TRUSTED_CERT_ENTRY, _SECRET_KEY_ENTRY = 1, 2, 3
# What cryptography raises for a certificate or key it cannot read (some parts are parsed lazily).
_UNREADABLE = (ValueError, UnsupportedAlgorithm, x509.InvalidVersion)


class DamagedStore(Exception):
    """A store whose structure ends early or holds what its format does not allow."""


class KeystoreDetector:
    name = "keystores"

    def wants(self, name: str, head: bytes) -> bool:
        return suffix_of(name) in SUFFIXES or name in NAMES or head[:4] in _MAGIC

    def detect(self, file: ScannedFile) -> Iterator[Finding]:
        kind = _MAGIC.get(file.data[:4])
        if kind is not None:
            yield from _java_keystore(file, kind)
        elif file.data[:1] == b"\x30":
            yield from _pkcs12_store(file)
        else:
            yield file.skipped("not a JKS, JCEKS or PKCS#12 keystore")


# --- JKS and JCEKS ------------------------------------------------------------------------------

class _Reader:
    """Big-endian fields of a Java DataOutputStream, bounded by the data."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise DamagedStore("ends inside a field")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def skip(self, n: int) -> None:
        """Pass over `n` bytes without reading them (an encrypted key is never copied)."""
        if n < 0 or self.pos + n > len(self.data):
            raise DamagedStore("ends inside a field")
        self.pos += n

    def u1(self) -> int:
        return self.take(1)[0]

    def u2(self) -> int:
        return int(struct.unpack(">H", self.take(2))[0])

    def u4(self) -> int:
        return int(struct.unpack(">I", self.take(4))[0])

    def utf(self) -> str:
        """A Java modified-UTF-8 string (close enough to UTF-8 for aliases and type names)."""
        return self.take(self.u2()).decode("utf-8", "replace")


def _java_keystore(file: ScannedFile, kind: str) -> Iterator[Finding]:
    reader = _Reader(file.data, 4)
    try:
        version = reader.u4()
        if version not in (1, 2):
            raise DamagedStore(f"unknown version {version}")
        count = reader.u4()
        for _ in range(count):
            yield from _java_entry(file, kind, version, reader)
    except DamagedStore as e:
        yield file.skipped(f"damaged {kind} keystore ({e}): entries from there on not read")


def _java_entry(file: ScannedFile, kind: str, version: int, reader: _Reader) -> Iterator[Finding]:
    tag = reader.u4()
    alias = _quoted(reader.utf())
    reader.skip(8)  # creation time
    if tag == _PRIVATE_KEY_ENTRY:
        reader.skip(reader.u4())  # the encrypted key: never read
        yield KeyMaterial()
        chain = [_java_certificate(version, reader) for _ in range(reader.u4())]
        yield from _chain_findings(file, f"{kind} private key entry {alias}", chain, key_entry=True)
    elif tag == _TRUSTED_CERT_ENTRY:
        yield from _chain_findings(file, f"{kind} trusted certificate entry {alias}",
                                   [_java_certificate(version, reader)], key_entry=False)
    elif tag == _SECRET_KEY_ENTRY and kind == "JCEKS":
        _JavaObject(reader).skip_stream()  # a sealed object: its content is never read
        yield KeyMaterial()
        yield file.skipped(f"JCEKS secret key entry {alias} is sealed with a password: algorithm and size not read")
    else:
        raise DamagedStore(f"unknown entry tag {tag}")


def _java_certificate(version: int, reader: _Reader) -> x509.Certificate | None:
    if version == 2 and reader.utf() != "X.509":
        reader.skip(reader.u4())
        return None
    der = reader.take(reader.u4())
    try:
        return x509.load_der_x509_certificate(der)
    except _UNREADABLE:
        return None


def _chain_findings(file: ScannedFile, entry: str, chain: list[x509.Certificate | None], *,
                    key_entry: bool) -> Iterator[Finding]:
    """Certificates of one entry; for a private key entry, the key as its first certificate states it."""
    for number, cert in enumerate(chain, start=1):
        where = f"{entry}, certificate {number} of {len(chain)}" if len(chain) > 1 else entry
        asset = _certificate(cert, file, where)
        yield asset if asset is not None else file.skipped(f"{where}: not a readable X.509 certificate")
    if not key_entry:
        return
    public = None
    if chain and chain[0] is not None:
        try:
            public = chain[0].public_key()
        except _UNREADABLE:
            public = None
    if public is None:
        yield file.skipped(f"{entry} has no readable certificate: type and size not read")
    else:
        yield public_half_asset(public, private=True, evidence=file.evidence(None, entry))


def _certificate(cert: x509.Certificate | None, file: ScannedFile, where: str) -> Finding | None:
    """A certificate's asset; None when it does not parse (cryptography parses some parts lazily)."""
    if cert is None:
        return None
    try:
        return certificate_asset(cert, file.evidence(None, where))
    except _UNREADABLE:
        return None


_PRIMITIVE_SIZES = {"B": 1, "C": 2, "D": 8, "F": 4, "I": 4, "J": 8, "S": 2, "Z": 1}  # Java field type codes
_MAX_DEPTH = 16


class _JavaObject:
    """Passes over one Java serialization stream (a JCEKS sealed key) without keeping its content.

    Only the grammar that ObjectOutputStream writes for plain serializable objects: objects, class
    descriptors, strings, arrays, references, null and block data; nesting is bounded.
    """

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.handles: list[object] = []

    def skip_stream(self) -> None:
        if self.reader.take(4) != b"\xac\xed\x00\x05":
            raise DamagedStore("a secret key entry is not a Java object stream")
        self.content(0)

    def content(self, depth: int) -> object:
        """Reads one item; returns a class descriptor (name, flags, field codes, super) or None."""
        if depth > _MAX_DEPTH:
            raise DamagedStore("Java object nested too deep")
        r = self.reader
        code = r.u1()
        if code == 0x70:  # TC_NULL
            return None
        if code == 0x71:  # TC_REFERENCE
            handle = r.u4() - 0x7E0000
            if not 0 <= handle < len(self.handles):
                raise DamagedStore("bad Java object reference")
            return self.handles[handle]
        if code == 0x72:  # TC_CLASSDESC
            return self.class_description(depth)
        if code == 0x73:  # TC_OBJECT
            described = self.content(depth + 1)
            self.handles.append(None)
            self.object_data(described, depth)
            return None
        if code in (0x74, 0x7C):  # TC_STRING, TC_LONGSTRING
            self.handles.append(r.take(r.u2() if code == 0x74 else _u8(r)).decode("utf-8", "replace"))
            return self.handles[-1]
        if code == 0x75:  # TC_ARRAY
            described = self.content(depth + 1)
            self.handles.append(None)
            name = described[0] if isinstance(described, tuple) else ""
            length = r.u4()
            if name[1:2] in _PRIMITIVE_SIZES:
                r.skip(length * _PRIMITIVE_SIZES[name[1]])
            else:
                for _ in range(length):
                    self.content(depth + 1)
            return None
        raise DamagedStore(f"unexpected Java serialization code 0x{code:02x}")

    def class_description(self, depth: int) -> tuple[str, int, list[str], object]:
        r = self.reader
        index = len(self.handles)
        self.handles.append(None)
        name = r.utf()
        r.skip(8)  # serialVersionUID
        flags = r.u1()
        fields: list[str] = []
        for _ in range(r.u2()):
            field_code = chr(r.u1())
            r.utf()
            if field_code in "L[":
                self.content(depth + 1)  # the field's class name
            fields.append(field_code)
        self.annotation(depth)
        described = (name, flags, fields, self.content(depth + 1))
        self.handles[index] = described
        return described

    def object_data(self, described: object, depth: int) -> None:
        hierarchy: list[tuple[str, int, list[str], object]] = []
        while isinstance(described, tuple):
            hierarchy.append(described)
            described = described[3]
        for _, flags, fields, _ in reversed(hierarchy):
            for field_code in fields:
                if field_code in _PRIMITIVE_SIZES:
                    self.reader.skip(_PRIMITIVE_SIZES[field_code])
                else:
                    self.content(depth + 1)
            if flags & 0x01:  # SC_WRITE_METHOD: custom data up to TC_ENDBLOCKDATA
                self.annotation(depth)

    def annotation(self, depth: int) -> None:
        r = self.reader
        while True:
            code = r.data[r.pos] if r.pos < len(r.data) else None
            if code == 0x78:  # TC_ENDBLOCKDATA
                r.pos += 1
                return
            if code == 0x77:  # TC_BLOCKDATA
                r.pos += 1
                r.skip(r.u1())
            elif code == 0x7A:  # TC_BLOCKDATALONG
                r.pos += 1
                r.skip(r.u4())
            else:
                self.content(depth + 1)


def _u8(reader: _Reader) -> int:
    return int(struct.unpack(">Q", reader.take(8))[0])


# --- PKCS#12 ------------------------------------------------------------------------------------

_OID_DATA = "1.2.840.113549.1.7.1"
_OID_ENCRYPTED_DATA = "1.2.840.113549.1.7.6"
_BAGS = {
    "1.2.840.113549.1.12.10.1.1": "key", "1.2.840.113549.1.12.10.1.2": "shrouded key",
    "1.2.840.113549.1.12.10.1.3": "certificate", "1.2.840.113549.1.12.10.1.5": "secret",
}
_OID_FRIENDLY_NAME = "1.2.840.113549.1.9.20"
_OID_X509_CERTIFICATE = "1.2.840.113549.1.9.22.1"
_OID_JAVA_TRUSTED = "2.16.840.1.113894.746875.1.1"  # Oracle's marker of a trusted certificate entry


def _pkcs12_store(file: ScannedFile) -> Iterator[Finding]:
    for password in (None, b""):
        try:
            store = pkcs12.load_pkcs12(file.data, password)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue
        if store.key is not None:
            yield key_asset(store.key, private=True, evidence=file.evidence(None, "PKCS#12 private key"))
        for cert in ([store.cert] if store.cert is not None else []) + list(store.additional_certs):
            name = cert.friendly_name.decode("utf-8", "replace") if cert.friendly_name else None
            where = f"PKCS#12 entry {_quoted(name)}" if name is not None else "PKCS#12"
            asset = _certificate(cert.certificate, file, where)
            yield asset if asset is not None else file.skipped(f"{where}: not a readable X.509 certificate")
        return
    try:
        yield from _pkcs12_clear_parts(file)
    except DamagedStore as e:
        yield file.skipped(f"PKCS#12 store is damaged or in a form not read ({e}): not read")


def _pkcs12_clear_parts(file: ScannedFile) -> Iterator[Finding]:
    """The bags of a password-protected PKCS#12 store that are outside its encrypted containers."""
    _, start, end = _tlv(file.data, 0, 0x30)
    pfx = list(_children(file.data, start, end))  # version, authSafe, macData
    if len(pfx) < 2:
        raise DamagedStore("no authenticated safe")
    safes = _content_octets(file.data, pfx[1])
    _, safes_start, safes_end = _tlv(safes, 0, 0x30)
    encrypted = 0
    for info in _children(safes, safes_start, safes_end):
        _, body, _ = _tlv(safes, info, 0x30)
        content_type = _oid(safes, body)
        if content_type == _OID_ENCRYPTED_DATA:
            encrypted += 1
        elif content_type == _OID_DATA:
            yield from _bags(file, _content_octets(safes, info))
    if encrypted:
        yield file.skipped(f"PKCS#12 store: {encrypted} encrypted container(s) (no password given), "
                           "with the certificates and entries in them, not read")


def _bags(file: ScannedFile, data: bytes) -> Iterator[Finding]:
    _, start, end = _tlv(data, 0, 0x30)
    for bag_start in _children(data, start, end):
        _, body, bag_end = _tlv(data, bag_start, 0x30)
        parts = list(_children(data, body, bag_end))
        if len(parts) < 2:
            raise DamagedStore("a bag without a value")
        kind = _BAGS.get(_oid(data, parts[0]), "other")
        attributes = _attributes(data, parts[2]) if len(parts) > 2 else {}
        alias = _quoted(attributes.get(_OID_FRIENDLY_NAME, "(no alias)"))
        _, value, value_end = _tlv(data, parts[1], 0xA0)
        if kind == "certificate":
            yield from _certificate_bag(file, data, value, alias, _OID_JAVA_TRUSTED in attributes)
        elif kind == "key":
            yield KeyMaterial()
            try:
                key = serialization.load_der_private_key(data[value:value_end], password=None)
            except (ValueError, TypeError, UnsupportedAlgorithm):
                yield file.skipped(f"PKCS#12 private key entry {alias}: not a readable key encoding")
                continue
            yield key_asset(key, private=True, evidence=file.evidence(None, f"PKCS#12 private key entry {alias}"))
        elif kind in ("shrouded key", "secret"):
            yield KeyMaterial()
            what = "private key" if kind == "shrouded key" else "secret key"
            yield file.skipped(f"PKCS#12 {what} entry {alias} is encrypted (no password given): type and size not read")


def _certificate_bag(file: ScannedFile, data: bytes, value: int, alias: str, trusted: bool) -> Iterator[Finding]:
    _, body, end = _tlv(data, value, 0x30)
    parts = list(_children(data, body, end))
    if len(parts) < 2 or _oid(data, parts[0]) != _OID_X509_CERTIFICATE:
        return
    _, inner, _ = _tlv(data, parts[1], 0xA0)
    _, der_start, der_end = _tlv(data, inner, 0x04)
    entry = f"PKCS#12 {'trusted certificate' if trusted else 'certificate'} entry {alias}"
    try:
        cert = x509.load_der_x509_certificate(data[der_start:der_end])
    except _UNREADABLE:
        cert = None
    asset = _certificate(cert, file, entry)
    yield asset if asset is not None else file.skipped(f"{entry}: not a readable X.509 certificate")


def _attributes(data: bytes, start: int) -> dict[str, str]:
    """Bag attributes: OID -> the first value, as text for a friendly name ("" for others)."""
    found: dict[str, str] = {}
    _, body, end = _tlv(data, start, 0x31)
    for attribute in _children(data, body, end):
        _, a_body, a_end = _tlv(data, attribute, 0x30)
        parts = list(_children(data, a_body, a_end))
        if len(parts) < 2:
            continue
        oid = _oid(data, parts[0])
        found[oid] = ""
        if oid == _OID_FRIENDLY_NAME:
            _, values, values_end = _tlv(data, parts[1], 0x31)
            for value in _children(data, values, values_end):
                _, text, text_end = _tlv(data, value, 0x1E)  # BMPString
                found[oid] = data[text:text_end].decode("utf-16-be", "replace")
                break
    return found


def _content_octets(data: bytes, info_start: int) -> bytes:
    """The OCTET STRING inside a ContentInfo of type data: [0] EXPLICIT OCTET STRING."""
    _, body, end = _tlv(data, info_start, 0x30)
    parts = list(_children(data, body, end))
    if len(parts) < 2 or _oid(data, parts[0]) != _OID_DATA:
        raise DamagedStore("content that is not PKCS#7 data")
    _, inner, _ = _tlv(data, parts[1], 0xA0)
    _, octets, octets_end = _tlv(data, inner, 0x04)
    return data[octets:octets_end]


def _tlv(data: bytes, pos: int, expected: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the DER item at `pos`, which must have `expected` tag."""
    tag, start, end = _tlv_span(data, pos)
    if tag != expected:
        raise DamagedStore(f"DER tag 0x{tag:02x} where 0x{expected:02x} belongs")
    return tag, start, end


def _tlv_span(data: bytes, pos: int) -> tuple[int, int, int]:
    if pos + 2 > len(data):
        raise DamagedStore("ends inside a DER item")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        size = length & 0x7F
        if not 1 <= size <= 4 or pos + size > len(data):
            raise DamagedStore("indefinite or oversized DER length")
        length = int.from_bytes(data[pos:pos + size], "big")
        pos += size
    if pos + length > len(data):
        raise DamagedStore("a DER item longer than the store")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> Iterator[int]:
    """The positions of the DER items between `start` and `end`."""
    pos = start
    while pos < end:
        yield pos
        _, _, pos = _tlv_span(data, pos)


def _oid(data: bytes, pos: int) -> str:
    _, start, end = _tlv(data, pos, 0x06)
    if start == end:
        raise DamagedStore("an empty OID")
    first = data[start]
    arcs = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    value = 0
    for byte in data[start + 1:end]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    return ".".join(map(str, arcs))


def _quoted(text: str | None) -> str:
    """An alias read from the store, quoted and bounded (a hostile store can hold a 64 KiB alias)."""
    return repr((text or "")[:64])
