"""What a TLS server uses for the settings its configuration leaves out: the documented defaults of
nginx, Apache httpd (mod_ssl) and HAProxy by release, and the OpenSSL built-in lists they fall back
to. Each table cites where the default is documented (docs/SCAN.md, "Defaults assumed", too).

A configuration file rarely says which release reads it. When it does not, the defaults assumed are
the widest (the least safe) among the releases that the supported LTS distributions ship — Debian
12/13, Ubuntu 22.04/24.04, RHEL 9: nginx 1.18-1.26, Apache httpd 2.4.52+, HAProxy 2.4+, OpenSSL 3.0
(Debian 13's OpenSSL 3.5 would offer X25519MLKEM768; assuming it would hide a classical endpoint).
The one version statement that is read is the header of Mozilla's (now TLSRef's) SSL configuration
generator, which names the server and OpenSSL releases the file was written for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Release = tuple[int, ...]

_TLS1_TO_13 = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_TLS1_TO_12 = ("TLSv1", "TLSv1.1", "TLSv1.2")

# Newest first: (first release with this default, the default). The last row covers older releases.
# nginx ssl_protocols (the same in the http, stream and mail modules):
# https://nginx.org/en/docs/http/ngx_http_ssl_module.html#ssl_protocols and
# https://nginx.org/en/docs/http/configuring_https_servers.html#compatibility ("Version 1.27.3 and
# later: ... TLSv1.2 and TLSv1.3"; "1.23.4 and later: TLSv1, TLSv1.1, TLSv1.2, and TLSv1.3"; "1.9.1
# and later: TLSv1, TLSv1.1, and TLSv1.2"); before 1.9.1 SSLv3 too.
_NGINX_PROTOCOLS: tuple[tuple[Release, tuple[str, ...]], ...] = (
    ((1, 27, 3), ("TLSv1.2", "TLSv1.3")),
    ((1, 23, 4), _TLS1_TO_13),
    ((1, 9, 1), _TLS1_TO_12),
    ((), ("SSLv3", *_TLS1_TO_12)),
)
# Apache httpd SSLProtocol, https://httpd.apache.org/docs/2.4/mod/mod_ssl.html#sslprotocol:
# "Default: SSLProtocol all -SSLv3 (up to 2.4.16: all)"; `all` has included TLSv1.3 since 2.4.36
# (with OpenSSL 1.1.1 or later).
_APACHE_PROTOCOLS: tuple[tuple[Release, tuple[str, ...]], ...] = (
    ((2, 4, 36), _TLS1_TO_13),
    ((2, 4, 17), _TLS1_TO_12),
    ((), ("SSLv3", *_TLS1_TO_12)),
)
# HAProxy bind ssl-min-ver, https://docs.haproxy.org/3.2/configuration.html#5.1-ssl-min-ver: "The
# default value is TLSv1.2" since 2.2 (CHANGELOG 2.2-dev9: "use TLSv1.2 as the minimum default on
# bind lines"); before, every version OpenSSL enables (SSLv3 "is disabled per default").
_HAPROXY_PROTOCOLS: tuple[tuple[Release, tuple[str, ...]], ...] = (
    ((2, 2), ("TLSv1.2", "TLSv1.3")),
    ((), _TLS1_TO_13),
)
# OpenSSL's built-in group list, which nginx (`ssl_ecdh_curve auto`), Apache (no `Curves`) and
# HAProxy (no `curves`; with OpenSSL 1.1.1+ it sets none of its own) leave in place. 3.5+:
# TLS_DEFAULT_GROUP_LIST in ssl/t1_lib.c, "?*X25519MLKEM768 / ?*X25519:?secp256r1 /
# ?X448:?secp384r1:?secp521r1 / ?ffdhe2048:?ffdhe3072"; 3.0-3.4: supported_groups_default in
# ssl/t1_lib.c (the GOST groups in it need a provider that is not loaded by default), as an OpenSSL
# 3.0.19 client offers them; 1.1.1: eccurves_default, no FFDHE groups in TLS.
_OPENSSL_GROUPS: tuple[tuple[Release, tuple[str, ...]], ...] = (
    ((3, 5), ("X25519MLKEM768", "x25519", "secp256r1", "x448", "secp384r1", "secp521r1", "ffdhe2048",
              "ffdhe3072")),
    ((3, 0), ("x25519", "secp256r1", "x448", "secp521r1", "secp384r1", "ffdhe2048", "ffdhe3072", "ffdhe4096",
              "ffdhe6144", "ffdhe8192")),
    ((), ("x25519", "secp256r1", "x448", "secp521r1", "secp384r1")),
)
# OpenSSL's default TLS 1.3 suites since 1.1.1 (quoted in HAProxy's "ssl-default-bind-ciphersuites"):
# https://docs.openssl.org/3.0/man3/SSL_CTX_set_cipher_list/
OPENSSL_TLS13_SUITES = ("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256")
# nginx ssl_ciphers "Default: HIGH:!aNULL:!MD5" (since 1.0.5); Apache "SSLCipherSuite DEFAULT
# (depends on OpenSSL version)"; HAProxy sets no list unless built with LISTEN_DEFAULT_CIPHERS
# (include/haproxy/defaults.h), so OpenSSL's DEFAULT applies.
_CIPHERS = {"nginx": ("HIGH", "!aNULL", "!MD5"), "apache": ("DEFAULT",), "haproxy": ("DEFAULT",)}
_PROTOCOLS = {"nginx": _NGINX_PROTOCOLS, "apache": _APACHE_PROTOCOLS, "haproxy": _HAPROXY_PROTOCOLS}
# The release assumed when a file does not say (module docstring): the widest default in use.
ASSUMED_RELEASE: dict[str, Release] = {"nginx": (1, 23, 4), "apache": (2, 4, 36), "haproxy": (2, 2),
                                       "openssl": (3, 0)}
_NAMES = {"nginx": "nginx", "apache": "Apache httpd", "haproxy": "HAProxy", "openssl": "OpenSSL"}

# Mozilla's generator (now TLSRef's) writes "# generated 2024-12-09, Mozilla Guideline v5.7, nginx
# 1.27.3, OpenSSL 3.4.0, intermediate config"; bounded, so it stays linear on any file.
_GENERATOR_HEADER = re.compile(
    r"^[ \t]{0,16}#[ \t]{0,4}generated [^,\n]{0,40}, (?:Mozilla|TLSRef) Guideline v[\d.]{1,8}, "
    r"(?P<product>nginx|Apache|HAProxy)"
    r" (?P<version>\d{1,3}(?:\.\d{1,4}){0,3})[^,\n]{0,20}, OpenSSL (?P<openssl>\d{1,3}(?:\.\d{1,4}){0,3})",
    re.MULTILINE | re.IGNORECASE,
)


@dataclass(frozen=True)
class StatedReleases:
    """The releases a file says it was written for, with the line that says so."""

    server: Release
    openssl: Release
    line: int


@dataclass(frozen=True)
class ServerDefaults:
    """What a server uses for unstated settings, and the releases that basis is for."""

    versions: tuple[str, ...]
    ciphers: tuple[str, ...]
    tls13_suites: tuple[str, ...]
    groups: tuple[str, ...]
    basis: str  # e.g. "nginx 1.23.4-1.27.2 assumed (release not stated); OpenSSL 3.0-3.4 assumed (...)"


def stated_releases(product: str, text: str) -> StatedReleases | None:
    """The server and OpenSSL releases a generator header in `text` names for `product`, if any."""
    for match in _GENERATOR_HEADER.finditer(text):
        if _product(match.group("product")) == product:
            line = text.count("\n", 0, match.start()) + 1
            return StatedReleases(_release(match.group("version")), _release(match.group("openssl")), line)
    return None


def server_defaults(product: str, stated: StatedReleases | None) -> ServerDefaults:
    """The defaults of `product` ("nginx", "apache", "haproxy") for the releases a file states, or
    for the assumed ones."""
    server = stated.server if stated else ASSUMED_RELEASE[product]
    openssl = stated.openssl if stated else ASSUMED_RELEASE["openssl"]
    versions, server_span = _pick(_PROTOCOLS[product], server)
    groups, openssl_span = _pick(_OPENSSL_GROUPS, openssl)
    if stated:
        where = f"stated in the file's generator header, line {stated.line}"
        basis = (f"{_NAMES[product]} {_dotted(server)} ({where}); "
                 f"OpenSSL {_dotted(openssl)} ({where})")
    else:
        basis = (f"{_NAMES[product]} {server_span} assumed (release not stated); "
                 f"OpenSSL {openssl_span} assumed (release not stated)")
    return ServerDefaults(
        versions=versions,
        ciphers=_CIPHERS[product],
        tls13_suites=OPENSSL_TLS13_SUITES if "TLSv1.3" in versions else (),
        groups=groups,
        basis=basis,
    )


def _pick(table: tuple[tuple[Release, tuple[str, ...]], ...], release: Release) -> tuple[tuple[str, ...], str]:
    """The row for `release`, and the span of releases that row covers ("1.23.4-1.27.2", "3.5+")."""
    newer: Release = ()
    for first, value in table:
        if release >= first:
            if not first:
                return value, f"before {_dotted(newer)}"
            return value, f"{_dotted(first)}+" if not newer else f"{_dotted(first)}-{_dotted(_previous(newer))}"
        newer = first
    raise AssertionError("every table ends with a row for all older releases")


def _previous(release: Release) -> Release:
    """The release before `release`, as the tables need it named: 1.27.3 -> 1.27.2, 3.5 -> 3.4."""
    *head, last = release
    return (*head, last - 1)


def _release(text: str) -> Release:
    return tuple(int(part) for part in text.split("."))


def _dotted(release: Release) -> str:
    return ".".join(map(str, release))


def _product(name: str) -> str:
    return {"nginx": "nginx", "apache": "apache", "haproxy": "haproxy"}[name.lower()]
