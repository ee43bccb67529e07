"""TLS server configuration -> tls protocol assets: nginx, Apache httpd, HAProxy and openssl.cnf.

Each dialect is parsed into `TlsSettings` (what the file states, with the line of each statement)
for every place a TLS endpoint is configured: an nginx `server`, an Apache `<VirtualHost>`, a
HAProxy `bind ... ssl`, an openssl.cnf section. Settings stated at an outer level (nginx `http`,
Apache server config, HAProxy `global`) are inherited. What an endpoint that serves TLS does not
state is what its server software uses by default (`tlsdefaults`), and the asset names each such
setting in `carnot:tls:assumed_defaults` with the releases assumed in `carnot:tls:defaults_basis`;
settings with no endpoint (an nginx snippet, an openssl.cnf section) are reported as stated only.
Groups go through `assess.tlsnames`, so `X25519MLKEM768`, `x25519_mlkem768` and `?X25519MLKEM768`
are one group, and post-quantum.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from cyclonedx.model.crypto import (
    CryptoAssetType,
    CryptoProperties,
    ProtocolProperties,
    ProtocolPropertiesCipherSuite,
    ProtocolPropertiesType,
)

from assess.model import Asset, Prop, props, stable_ref
from assess.sources.static.interface import Finding, NotText, ScannedFile, suffix_of
from assess.sources.static.tlsdefaults import ServerDefaults, server_defaults, stated_releases
from assess.tlsnames import iana_cipher_suite, is_pq_group, normalise_group

VERSIONS: tuple[str, ...] = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_VERSION_NUMBER = {"SSLv2": "2.0", "SSLv3": "3.0", "TLSv1": "1.0", "TLSv1.1": "1.1", "TLSv1.2": "1.2",
                   "TLSv1.3": "1.3"}
_VERSION_ALIASES = {v.lower(): v for v in VERSIONS} | {
    "tlsv1.0": "TLSv1", "tls1": "TLSv1", "tls1.0": "TLSv1", "tls1.1": "TLSv1.1", "tls1.2": "TLSv1.2",
    "tls1.3": "TLSv1.3", "tlsv10": "TLSv1", "tlsv11": "TLSv1.1", "tlsv12": "TLSv1.2", "tlsv13": "TLSv1.3",
    "sslv30": "SSLv3",
}
_NAMES = frozenset({"nginx.conf", "httpd.conf", "apache2.conf", "ssl.conf", "haproxy.cfg", "openssl.cnf"})
_SUFFIXES = frozenset({".conf", ".cnf", ".cfg", ".vhost"})
# Lower-cased words that mark a file as TLS configuration (a substring test: much faster than a
# case-insensitive regex over every file's first 8 KiB): settings, and endpoints that state none
# (nginx `ssl_certificate`, Apache `SSLEngine`, HAProxy `bind ... ssl`).
_TLS_WORDS: tuple[bytes, ...] = (
    b"ssl_protocols", b"ssl_ciphers", b"ssl_ecdh_curve", b"ssl_conf_command", b"sslprotocol",
    b"sslciphersuite", b"sslopensslconfcmd", b"ssl-default-bind", b"minprotocol", b"cipherstring",
    b"ciphersuites", b"ssl_certificate", b"sslengine",
)


def mentions_tls(data: bytes) -> bool:
    lowered = data.lower()
    if any(word in lowered for word in _TLS_WORDS):
        return True
    # An nginx `listen 443 ssl` or HAProxy `bind :443 ssl` whose settings come from elsewhere.
    return (b"listen " in lowered or b"bind " in lowered) and (b" ssl" in lowered or b" quic" in lowered)


@dataclass(frozen=True)
class TlsSettings:
    """What one configured TLS endpoint states; None = not stated."""

    versions: tuple[str, ...] | None = None  # an explicit list (nginx ssl_protocols, Apache SSLProtocol)
    min_version: str | None = None  # or bounds (openssl.cnf MinProtocol, HAProxy ssl-min-ver)
    max_version: str | None = None
    ciphers: tuple[str, ...] | None = None
    tls13_suites: tuple[str, ...] | None = None
    groups: tuple[str, ...] | None = None
    lines: dict[str, int] = field(default_factory=dict)  # statement -> line, for the evidence

    def stated(self) -> bool:
        stated = (self.allowed_versions(), self.ciphers, self.tls13_suites, self.groups)
        return any(v is not None for v in stated)

    def stating(self, statement: str, line: int, **changes: object) -> TlsSettings:
        """A copy with changed fields, remembering the line that stated them."""
        return replace(self, **changes, lines=self.lines | {statement: line})  # type: ignore[arg-type]

    def allowed_versions(self) -> tuple[str, ...] | None:
        if self.versions is not None:
            return self.versions
        return version_range(self.min_version, self.max_version)

    def over(self, outer: TlsSettings) -> TlsSettings:
        """These settings layered over inherited ones."""
        own_bounds = self.versions is not None or self.min_version is not None or self.max_version is not None
        bounds = self if own_bounds else outer
        return TlsSettings(
            versions=bounds.versions,
            min_version=bounds.min_version,
            max_version=bounds.max_version,
            ciphers=self.ciphers if self.ciphers is not None else outer.ciphers,
            tls13_suites=self.tls13_suites if self.tls13_suites is not None else outer.tls13_suites,
            groups=self.groups if self.groups is not None else outer.groups,
            lines=outer.lines | self.lines,
        )


@dataclass(frozen=True)
class Endpoint:
    product: str  # nginx, apache, haproxy, openssl
    label: str  # server name, vhost, bind address, section
    line: int
    settings: TlsSettings
    serves: bool = True  # False: settings with no endpoint of their own (a snippet, global defaults)
    includes: tuple[int, ...] = ()  # lines of include directives around it, not followed


class TlsConfigDetector:
    name = "tls configuration"

    def wants(self, name: str, head: bytes) -> bool:
        return (
            name in _NAMES
            or suffix_of(name) in _SUFFIXES
            or (b"\x00" not in head and mentions_tls(head))
        )

    def detect(self, file: ScannedFile) -> Iterator[Finding]:
        if not mentions_tls(file.data):
            return
        try:
            text = file.text()
        except NotText as e:
            yield file.skipped(str(e))
            return
        found = endpoints(file.name, text)
        if not found:
            return
        defaults = None
        if any(e.serves for e in found):
            defaults = server_defaults(found[0].product, stated_releases(found[0].product, text))
        for endpoint in found:
            if endpoint.serves or endpoint.settings.stated():
                yield _asset(file, endpoint, defaults if endpoint.serves else None)


def endpoints(name: str, text: str) -> list[Endpoint]:
    """The TLS endpoints a configuration file describes, by its dialect."""
    openssl_keys = r"^\s*(MinProtocol|CipherString|Groups|Curves)\s*="
    if name.endswith(".cnf") or re.search(openssl_keys, text, re.M | re.I):
        return _openssl_cnf(text)
    if "haproxy" in name or re.search(r"^\s*(ssl-default-bind-|bind\s.*\bssl\b)", text, re.M):
        return _haproxy(text)
    if re.search(r"^\s*(SSLProtocol|SSLCipherSuite|SSLOpenSSLConfCmd|SSLEngine)\b", text, re.M | re.I):
        return _apache(text)
    if re.search(r"^\s*(ssl_|listen\s[^;\n]{0,200}\b(ssl|quic)\b)", text, re.M):
        return _nginx(text)
    return []


# --- shared value parsing -----------------------------------------------------------------------

def cipher_list(value: str) -> tuple[str, ...]:
    return tuple(t for t in re.split(r"[:,\s]+", value.strip().strip("\"'")) if t)


def group_list(value: str) -> tuple[str, ...]:
    """OpenSSL group lists: ':' or ',' between groups, '/' between 3.5 tuples, '?' and '*' prefixes."""
    groups: list[str] = []
    for token in re.split(r"[:,/\s]+", value.strip().strip("\"'")):
        token = token.lstrip("?*")
        if not token or token.startswith("-"):
            continue
        name = normalise_group(token)
        if name not in groups:
            groups.append(name)
    return tuple(groups)


def version_range(low: str | None, high: str | None) -> tuple[str, ...] | None:
    lo = _VERSION_ALIASES.get((low or "").lower())
    hi = _VERSION_ALIASES.get((high or "").lower())
    if lo is None and hi is None:
        return None
    start = VERSIONS.index(lo) if lo else VERSIONS.index("TLSv1")
    end = VERSIONS.index(hi) if hi else len(VERSIONS) - 1
    return VERSIONS[start:end + 1]


def _version(token: str) -> str | None:
    return _VERSION_ALIASES.get(token.strip().lower())


def _conf_command(settings: TlsSettings, command: str, value: str, line: int) -> TlsSettings:
    """One OpenSSL SSL_CONF command (nginx ssl_conf_command, Apache SSLOpenSSLConfCmd, openssl.cnf)."""
    command = command.lower()
    if command in ("groups", "curves"):
        return settings.stating("groups", line, groups=group_list(value))
    if command == "ciphersuites":
        return settings.stating("ciphersuites", line, tls13_suites=cipher_list(value))
    if command == "cipherstring":
        return settings.stating("ciphers", line, ciphers=cipher_list(value))
    if command == "minprotocol":
        return settings.stating("versions", line, versions=None, min_version=value.strip())
    if command == "maxprotocol":
        # MinProtocol's line stays the one cited when both are stated.
        return replace(settings, versions=None, max_version=value.strip(),
                       lines={"versions": line} | settings.lines)
    if command == "protocol":
        versions = _signed_versions(value.replace(",", " ").split(), ())
        return settings.stating("versions", line, versions=versions)
    return settings


def _signed_versions(tokens: list[str], start: tuple[str, ...]) -> tuple[str, ...]:
    """Apache SSLProtocol / openssl Protocol lists: `all`, `+X`, `-X`, bare X (added)."""
    allowed = list(start)
    for token in tokens:
        sign = token[0] if token[:1] in "+-" else "+"
        name = token.lstrip("+-")
        chosen = list(VERSIONS[2:]) if name.lower() == "all" else [v for v in [_version(name)] if v]
        for v in chosen:
            if sign == "-" and v in allowed:
                allowed.remove(v)
            elif sign == "+" and v not in allowed:
                allowed.append(v)
    return tuple(v for v in VERSIONS if v in allowed)


def _with_defaults(s: TlsSettings, defaults: ServerDefaults) -> tuple[TlsSettings, tuple[str, ...]]:
    """The settings with each unstated one taken from the server's defaults, and the names of those."""
    assumed: list[str] = []
    if s.allowed_versions() is None:
        s = replace(s, versions=defaults.versions)
        assumed.append("versions")
    # Each cipher setting only where a version that uses it is allowed (TLS 1.2 and below, TLS 1.3).
    allowed = s.allowed_versions() or ()
    if s.ciphers is None and any(v != "TLSv1.3" for v in allowed):
        s = replace(s, ciphers=defaults.ciphers)
        assumed.append("ciphers")
    if s.tls13_suites is None and "TLSv1.3" in allowed:
        s = replace(s, tls13_suites=defaults.tls13_suites)
        assumed.append("ciphersuites")
    if s.groups is None:
        s = replace(s, groups=defaults.groups)
        assumed.append("groups")
    return s, tuple(assumed)


def _asset(file: ScannedFile, endpoint: Endpoint, defaults: ServerDefaults | None) -> Asset:
    s, assumed = _with_defaults(endpoint.settings, defaults) if defaults else (endpoint.settings, ())
    basis = defaults.basis if defaults and assumed else None
    if basis and endpoint.includes:
        # What an included file states would replace some of these defaults.
        basis += f"; include at line {', '.join(map(str, endpoint.includes))} not followed"
    versions = s.allowed_versions()
    configured = (s.ciphers or ()) + (s.tls13_suites or ())
    iana: list[str] = []
    for token in configured:
        name = iana_cipher_suite(token)
        if name.startswith("TLS_") and name not in iana:
            iana.append(name)
    statements = ("versions", "groups", "ciphers", "ciphersuites")
    line = next((s.lines[k] for k in statements if k in s.lines), endpoint.line)
    stated = ", ".join(f"{k} line {n}" for k, n in sorted(s.lines.items(), key=lambda kv: kv[1]))
    if assumed:
        stated = "; ".join(p for p in (stated, f"defaults assumed: {', '.join(assumed)}") if p)
    # What was assumed is part of what the asset is: a stated TLSv1.2 and an assumed one differ.
    return Asset(
        bom_ref=stable_ref("tls-config", endpoint.product, versions, configured, s.groups,
                           *((assumed, basis) if assumed else ())),
        name=f"{_PRODUCTS[endpoint.product]} TLS ({endpoint.label})",
        crypto=CryptoProperties(
            asset_type=CryptoAssetType.PROTOCOL,
            protocol_properties=ProtocolProperties(
                type=ProtocolPropertiesType.TLS,
                version=_VERSION_NUMBER[versions[-1]] if versions else None,
                cipher_suites=[ProtocolPropertiesCipherSuite(name=n) for n in iana],
            ),
        ),
        evidence=(file.evidence(line, f"{endpoint.product} {endpoint.label}: {stated}"),),
        properties=props({
            Prop.TLS_VERSIONS: versions,
            Prop.TLS_CIPHER_SUITES: configured or None,
            Prop.TLS_GROUPS: s.groups,
            Prop.TLS_PQ_HYBRID: any(is_pq_group(g) for g in s.groups) if s.groups is not None else None,
            Prop.TLS_ASSUMED_DEFAULTS: assumed or None,
            Prop.TLS_DEFAULTS_BASIS: basis,
        }),
    )


_PRODUCTS = {"nginx": "nginx", "apache": "Apache httpd", "haproxy": "HAProxy", "openssl": "OpenSSL config"}


# --- nginx --------------------------------------------------------------------------------------

@dataclass
class _Block:
    name: str
    args: list[str]
    line: int
    children: list[_Block] | None = None


_NGINX_TOKEN = re.compile(r"#[^\n]*|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|[{};]|[^\s{};\"'#]+|\n")


def _nginx_tree(text: str) -> list[_Block]:
    root: list[_Block] = []
    stack: list[list[_Block]] = [root]
    words: list[tuple[str, int]] = []
    line = 1
    for m in _NGINX_TOKEN.finditer(text):
        token = m.group(0)
        if token == "\n":
            line += 1
            continue
        if token.startswith("#"):
            continue
        if token == ";" and words:
            stack[-1].append(_Block(words[0][0], [w for w, _ in words[1:]], words[0][1]))
            words = []
        elif token == "{":
            name, start = words[0] if words else ("", line)
            block = _Block(name, [w for w, _ in words[1:]], start, [])
            stack[-1].append(block)
            assert block.children is not None
            stack.append(block.children)
            words = []
        elif token == "}":
            if len(stack) > 1:
                stack.pop()
            words = []
        else:
            if token[:1] in "\"'":
                token = token[1:-1]
            words.append((token, line))
            line += token.count("\n")
    return root


def _nginx_settings(children: list[_Block]) -> TlsSettings:
    s = TlsSettings()
    for d in children:
        if d.children is not None or not d.args:
            continue
        if d.name == "ssl_protocols":
            s = s.stating("versions", d.line, versions=tuple(v for v in map(_version, d.args) if v))
        elif d.name == "ssl_ciphers":
            s = s.stating("ciphers", d.line, ciphers=cipher_list(d.args[0]))
        elif d.name == "ssl_ecdh_curve" and d.args[0].lower() != "auto":
            s = s.stating("groups", d.line, groups=group_list(d.args[0]))
        elif d.name == "ssl_conf_command" and len(d.args) >= 2:
            s = _conf_command(s, d.args[0], " ".join(d.args[1:]), d.line)
    return s


def _includes(children: list[_Block]) -> tuple[int, ...]:
    return tuple(d.line for d in children if d.name == "include" and d.children is None)


def _nginx_is_tls(server: _Block) -> bool:
    for d in server.children or []:
        if d.name == "listen" and any(a in ("ssl", "quic") for a in d.args):
            return True
        if d.name in ("ssl_certificate",) or (d.name == "ssl" and d.args[:1] == ["on"]):
            return True
    return False


def _nginx(text: str) -> list[Endpoint]:
    found: list[Endpoint] = []
    outer_settings: list[TlsSettings] = []

    def visit(children: list[_Block], inherited: TlsSettings, includes: tuple[int, ...]) -> None:
        here = _nginx_settings(children).over(inherited)
        outer_settings.append(here)
        includes += _includes(children)
        for block in children:
            if block.children is None:
                continue
            if block.name == "server":
                own = _nginx_settings(block.children)
                serves = _nginx_is_tls(block)
                if serves or own.stated():
                    names = [a for d in block.children if d.name == "server_name" for a in d.args]
                    label = names[0] if names else f"server at line {block.line}"
                    found.append(Endpoint("nginx", label, block.line, own.over(here), serves,
                                          includes + _includes(block.children)))
            elif block.name in ("http", "stream", "mail"):
                visit(block.children, here, includes)

    visit(_nginx_tree(text), TlsSettings(), ())
    if not found:
        # A snippet (e.g. ssl-params.conf included into servers): its own statements are the settings.
        merged = TlsSettings()
        for s in outer_settings:
            merged = s.over(merged)
        return [Endpoint("nginx", "included settings", 1, merged, serves=False)]
    return found


# --- Apache httpd -------------------------------------------------------------------------------

def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines with backslash continuations joined, comments dropped, numbered by their first line."""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        line = (pending + raw).strip()
        pending = ""
        if line and not line.startswith("#"):
            yield start, line


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=False, posix=True)
    except ValueError:
        return line.split()


def _apache(text: str) -> list[Endpoint]:
    server = TlsSettings()
    server_tls = False
    vhosts: list[tuple[str, int, TlsSettings, bool]] = []
    current: tuple[str, int, TlsSettings, bool] | None = None
    includes: dict[int | None, list[int]] = {}  # vhost start line (None: server config) -> Include lines
    for number, line in _logical_lines(text):
        words = _split(line)
        if not words:
            continue
        key = words[0].lower()
        if key.startswith("<virtualhost"):
            current = (" ".join(words[1:]).rstrip(">") or "vhost", number, TlsSettings(), False)
            continue
        if key == "</virtualhost>":
            if current is not None:
                vhosts.append(current)
            current = None
            continue
        label, start, s, tls = current if current is not None else ("server config", 1, server, server_tls)
        args = words[1:]
        if key in ("include", "includeoptional"):
            includes.setdefault(current[1] if current else None, []).append(number)
        elif key == "servername" and current is not None and args:
            label = args[0]
        elif key == "sslengine" and args:
            tls = tls or args[0].lower() == "on"
        elif key == "sslprotocol":
            s = s.stating("versions", number, versions=_signed_versions(args, ()))
        elif key == "sslciphersuite" and args:
            if len(args) >= 2 and args[0].lower() in ("tlsv1.3", "sslv3", "ssl"):
                if args[0].lower() == "tlsv1.3":
                    s = s.stating("ciphersuites", number, tls13_suites=cipher_list(args[1]))
                else:
                    s = s.stating("ciphers", number, ciphers=cipher_list(args[1]))
            else:
                s = s.stating("ciphers", number, ciphers=cipher_list(args[0]))
        elif key == "sslopensslconfcmd" and len(args) >= 2:
            s = _conf_command(s, args[0], " ".join(args[1:]), number)
        if current is not None:
            current = (label, start, s, tls)
        else:
            server, server_tls = s, tls
    outer = tuple(includes.get(None, ()))
    found = [Endpoint("apache", label, start, s.over(server), tls, outer + tuple(includes.get(start, ())))
             for label, start, s, tls in vhosts if tls or s.stated()]
    if not found and (server_tls or server.stated()):
        # The main server: an endpoint when it turns SSLEngine on, else defaults for vhosts elsewhere.
        found.append(Endpoint("apache", "server config", 1, server, server_tls, outer))
    return found


# --- HAProxy ------------------------------------------------------------------------------------

_HAPROXY_SECTIONS = ("global", "defaults", "frontend", "backend", "listen", "peers", "resolvers",
                     "userlist", "program", "http-errors", "ring", "cache", "mailers")


def _haproxy_options(options: list[str], s: TlsSettings, number: int) -> TlsSettings:
    disabled = {v for o in options if o.startswith("no-") and (v := _version(o[3:]))}
    forced = [v for o in options if o.startswith("force-") and (v := _version(o[6:]))]
    low = next((options[i + 1] for i, o in enumerate(options[:-1]) if o == "ssl-min-ver"), None)
    high = next((options[i + 1] for i, o in enumerate(options[:-1]) if o == "ssl-max-ver"), None)
    if forced:
        return s.stating("versions", number, versions=tuple(forced))
    if low or high or disabled:
        span = version_range(low, high) or VERSIONS[2:]
        return s.stating("versions", number, versions=tuple(v for v in span if v not in disabled))
    return s


def _haproxy_value(options: list[str], name: str) -> str | None:
    return next((options[i + 1] for i, o in enumerate(options[:-1]) if o == name), None)


def _haproxy(text: str) -> list[Endpoint]:
    defaults = TlsSettings()
    binds: list[Endpoint] = []
    section = ""
    for number, line in _logical_lines(text):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        key = words[0].lower()
        if key in _HAPROXY_SECTIONS:
            section = " ".join(words[:2])
            continue
        args = words[1:]
        if key == "ssl-default-bind-options":
            defaults = _haproxy_options(args, defaults, number)
        elif key == "ssl-default-bind-ciphers" and args:
            defaults = defaults.stating("ciphers", number, ciphers=cipher_list(args[0]))
        elif key == "ssl-default-bind-ciphersuites" and args:
            defaults = defaults.stating("ciphersuites", number, tls13_suites=cipher_list(args[0]))
        elif key == "ssl-default-bind-curves" and args:
            defaults = defaults.stating("groups", number, groups=group_list(args[0]))
        elif key == "bind" and "ssl" in args:
            own = _haproxy_options(args, TlsSettings(), number)
            if (ciphers := _haproxy_value(args, "ciphers")) is not None:
                own = own.stating("ciphers", number, ciphers=cipher_list(ciphers))
            if (suites := _haproxy_value(args, "ciphersuites")) is not None:
                own = own.stating("ciphersuites", number, tls13_suites=cipher_list(suites))
            if (curves := _haproxy_value(args, "curves")) is not None:
                own = own.stating("groups", number, groups=group_list(curves))
            label = f"{section} bind {args[0]}" if section else f"bind {args[0]}"
            binds.append(Endpoint("haproxy", label, number, own))
    found = [replace(b, settings=b.settings.over(defaults)) for b in binds]
    if not found and defaults.stated():
        found.append(Endpoint("haproxy", "global defaults", 1, defaults, serves=False))
    return found


# --- openssl.cnf --------------------------------------------------------------------------------

_OPENSSL_KEYS = frozenset({"minprotocol", "maxprotocol", "cipherstring", "ciphersuites", "groups", "curves",
                           "protocol"})


def _openssl_cnf(text: str) -> list[Endpoint]:
    sections: list[tuple[str, int, TlsSettings]] = [("default", 1, TlsSettings())]
    for number, line in _logical_lines(text):
        line = line.split("#", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            sections.append((line[1:-1].strip(), number, TlsSettings()))
            continue
        key, sep, value = line.partition("=")
        if not sep or key.strip().lower() not in _OPENSSL_KEYS:
            continue
        value = value.strip().strip("\"'")
        if value.upper().startswith("DTLS"):
            continue
        name, start, s = sections[-1]
        sections[-1] = (name, start, _conf_command(s, key.strip(), value, number))
    return [Endpoint("openssl", f"[{name}]", start, s, serves=False) for name, start, s in sections if s.stated()]
