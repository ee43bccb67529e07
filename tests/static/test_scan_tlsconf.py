"""TLS settings in nginx, Apache, HAProxy and openssl.cnf: versions, suites and groups as stated,
and for an endpoint, the server software's defaults for what it does not state, marked as assumed."""

from __future__ import annotations

from pathlib import Path

import pytest

from assess.sources.static.tlsdefaults import StatedReleases, server_defaults

OPENSSL_TLS13 = "TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256,TLS_AES_128_GCM_SHA256"
OPENSSL_30_GROUPS = "x25519,secp256r1,x448,secp521r1,secp384r1,ffdhe2048,ffdhe3072,ffdhe4096,ffdhe6144,ffdhe8192"
ASSUMED_OPENSSL = "OpenSSL 3.0-3.4 assumed (release not stated)"


def _tls(scanned) -> dict[str, tuple[dict[str, str], list]]:
    return {c["name"]: (scanned.props(c), scanned.occurrences(c)) for c in scanned.of_type("protocol")}


def test_nginx_servers_inherit_http_settings_and_state_groups(tmp_path: Path, scan_tree) -> None:
    (tmp_path / "nginx.conf").write_text(
        "events {}\n"
        "http {\n"
        "    ssl_protocols TLSv1.2 TLSv1.3;   # the estate default\n"
        "    ssl_ciphers 'ECDHE-RSA-AES128-GCM-SHA256:HIGH:!aNULL';\n"
        "    server {\n"
        "        listen 443 ssl;\n"
        "        server_name classic.test;\n"
        "        ssl_ecdh_curve prime256v1:X25519;\n"
        "    }\n"
        "    server {\n"
        "        listen 8443 ssl;\n"
        "        server_name pq.test;\n"
        "        ssl_protocols TLSv1.3;\n"
        "        ssl_conf_command Groups ?X25519MLKEM768:x25519;\n"
        "    }\n"
        "    server {\n"
        "        listen 80;\n"
        "        server_name plain.test;\n"
        "    }\n"
        "}\n"
    )

    tls = _tls(scan_tree(tmp_path))

    assert set(tls) == {"nginx TLS (classic.test)", "nginx TLS (pq.test)"}
    classic, classic_at = tls["nginx TLS (classic.test)"]
    assert classic["carnot:tls:versions"] == "TLSv1.2,TLSv1.3"
    assert classic["carnot:tls:cipher_suites"] == "ECDHE-RSA-AES128-GCM-SHA256,HIGH,!aNULL," + OPENSSL_TLS13
    assert classic["carnot:tls:groups"] == "secp256r1,x25519"
    assert classic["carnot:tls:pq_hybrid"] == "false"
    assert classic["carnot:tls:assumed_defaults"] == "ciphersuites"
    assert classic_at == [("nginx.conf", 3)]  # the inherited ssl_protocols line
    pq, pq_at = tls["nginx TLS (pq.test)"]
    assert pq["carnot:tls:versions"] == "TLSv1.3"
    assert pq["carnot:tls:groups"] == "X25519MLKEM768,x25519"
    assert pq["carnot:tls:pq_hybrid"] == "true"
    assert pq_at == [("nginx.conf", 13)]


def test_unstated_settings_of_an_endpoint_are_the_servers_defaults_marked_assumed(
    tmp_path: Path, scan_tree
) -> None:
    (tmp_path / "site.conf").write_text(
        "server {\n    listen 443 ssl;\n    server_name quiet.test;\n    ssl_protocols TLSv1.2;\n}\n"
    )

    scanned = scan_tree(tmp_path)

    [asset] = scanned.of_type("protocol")
    props = scanned.props(asset)
    assert props["carnot:tls:versions"] == "TLSv1.2"
    assert props["carnot:tls:cipher_suites"] == "HIGH,!aNULL,!MD5"  # no TLS 1.3, so no 1.3 suites
    assert props["carnot:tls:groups"] == OPENSSL_30_GROUPS
    assert props["carnot:tls:pq_hybrid"] == "false"
    assert props["carnot:tls:assumed_defaults"] == "ciphers,groups"
    assert props["carnot:tls:defaults_basis"] == (
        "nginx 1.23.4-1.27.2 assumed (release not stated); " + ASSUMED_OPENSSL
    )
    assert asset["cryptoProperties"]["protocolProperties"]["version"] == "1.2"
    assert scanned.occurrences(asset) == [("site.conf", 4)]


def test_apache_vhosts_protocol_arithmetic_suites_and_curves(tmp_path: Path, scan_tree) -> None:
    (tmp_path / "ssl.conf").write_text(
        "SSLProtocol all -SSLv3\n"
        "SSLCipherSuite HIGH:DES-CBC3-SHA:!aNULL\n"
        "<VirtualHost *:443>\n"
        "    ServerName old.test\n"
        "    SSLEngine on\n"
        "</VirtualHost>\n"
        "<VirtualHost *:8443>\n"
        "    ServerName new.test\n"
        "    SSLEngine on\n"
        "    SSLProtocol -all +TLSv1.2 \\\n"
        "        +TLSv1.3\n"
        "    SSLCipherSuite TLSv1.3 TLS_AES_256_GCM_SHA384\n"
        "    SSLOpenSSLConfCmd Curves X25519MLKEM768:P-384\n"
        "</VirtualHost>\n"
    )

    tls = _tls(scan_tree(tmp_path))

    old, old_at = tls["Apache httpd TLS (old.test)"]
    assert old["carnot:tls:versions"] == "TLSv1,TLSv1.1,TLSv1.2,TLSv1.3"
    assert old["carnot:tls:cipher_suites"] == "HIGH,DES-CBC3-SHA,!aNULL," + OPENSSL_TLS13
    assert old["carnot:tls:assumed_defaults"] == "ciphersuites,groups"
    assert old_at == [("ssl.conf", 1)]
    new, new_at = tls["Apache httpd TLS (new.test)"]
    assert new["carnot:tls:versions"] == "TLSv1.2,TLSv1.3"
    assert new["carnot:tls:cipher_suites"] == "HIGH,DES-CBC3-SHA,!aNULL,TLS_AES_256_GCM_SHA384"
    assert new["carnot:tls:groups"] == "X25519MLKEM768,secp384r1"
    assert "carnot:tls:assumed_defaults" not in new and "carnot:tls:defaults_basis" not in new
    assert new_at == [("ssl.conf", 10)]


def test_apache_cipher_suites_map_to_iana_names(tmp_path: Path, scan_tree) -> None:
    (tmp_path / "vhost.conf").write_text(
        "<VirtualHost *:443>\n  SSLEngine on\n  SSLCipherSuite DES-CBC3-SHA:ECDHE-RSA-AES128-GCM-SHA256\n"
        "</VirtualHost>\n"
    )

    [asset] = scan_tree(tmp_path).of_type("protocol")

    # cyclonedx-python-lib keeps cipherSuites sorted; the configured order is in carnot:tls:cipher_suites.
    suites = {s["name"] for s in asset["cryptoProperties"]["protocolProperties"]["cipherSuites"]}
    assert suites == {"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                      *OPENSSL_TLS13.split(",")}  # TLS 1.3 is allowed by default; its suites are OpenSSL's


def test_haproxy_binds_inherit_global_defaults(tmp_path: Path, scan_tree) -> None:
    (tmp_path / "haproxy.cfg").write_text(
        "global\n"
        "    ssl-default-bind-options no-sslv3 no-tlsv10\n"
        "    ssl-default-bind-curves P-256:X25519\n"
        "frontend web\n"
        "    bind :443 ssl crt /etc/haproxy/site.pem\n"
        "frontend pq\n"
        "    bind :8443 ssl crt /etc/haproxy/pq.pem ssl-min-ver TLSv1.3 curves X25519MLKEM768\n"
        "    bind :80\n"
    )

    tls = _tls(scan_tree(tmp_path))

    web, web_at = tls["HAProxy TLS (frontend web bind :443)"]
    assert web["carnot:tls:versions"] == "TLSv1.1,TLSv1.2,TLSv1.3"
    assert web["carnot:tls:groups"] == "secp256r1,x25519"
    assert web_at == [("haproxy.cfg", 2)]
    pq, pq_at = tls["HAProxy TLS (frontend pq bind :8443)"]
    assert pq["carnot:tls:versions"] == "TLSv1.3"
    assert pq["carnot:tls:groups"] == "X25519MLKEM768"
    assert pq["carnot:tls:pq_hybrid"] == "true"
    assert pq_at == [("haproxy.cfg", 7)]


def test_openssl_cnf_groups_are_normalised_and_pq_is_recognised(tmp_path: Path, scan_tree) -> None:
    (tmp_path / "openssl.cnf").write_text(
        "openssl_conf = init\n"
        "[init]\n"
        "ssl_conf = ssl_sect\n"
        "[ssl_sect]\n"
        "system_default = tls_defaults\n"
        "[tls_defaults]\n"
        "MinProtocol = TLSv1.2\n"
        "MaxProtocol = TLSv1.3\n"
        "CipherString = DEFAULT:@SECLEVEL=2\n"
        "Ciphersuites = TLS_AES_256_GCM_SHA384\n"
        "Groups = X25519MLKEM768:X25519:prime256v1\n"
    )

    tls = _tls(scan_tree(tmp_path))

    props, at = tls["OpenSSL config TLS ([tls_defaults])"]
    assert props["carnot:tls:groups"] == "X25519MLKEM768,x25519,secp256r1"
    assert props["carnot:tls:pq_hybrid"] == "true"
    assert props["carnot:tls:versions"] == "TLSv1.2,TLSv1.3"
    assert props["carnot:tls:cipher_suites"] == "DEFAULT,@SECLEVEL=2,TLS_AES_256_GCM_SHA384"
    assert at == [("openssl.cnf", 7)]


def test_identical_settings_in_two_files_are_one_asset_with_two_occurrences(
    tmp_path: Path, scan_tree
) -> None:
    body = "server {\n  listen 443 ssl;\n  server_name a.test;\n  ssl_protocols TLSv1 TLSv1.2;\n}\n"
    (tmp_path / "a.conf").write_text(body)
    (tmp_path / "b.conf").write_text("# copy\n" + body)

    [asset] = scan_tree(tmp_path).of_type("protocol")

    assert sorted((o["location"], o["line"]) for o in asset["evidence"]["occurrences"]) == [
        ("a.conf", 4), ("b.conf", 5)
    ]


def test_endpoints_that_configure_nothing_get_their_servers_defaults(tmp_path: Path, scan_tree) -> None:
    (tmp_path / "nginx.conf").write_text(
        "http {\n  server {\n    listen 443 ssl;\n    server_name bare.test;\n"
        "    ssl_certificate /etc/ssl/bare.pem;\n    ssl_certificate_key /etc/ssl/bare.key;\n  }\n}\n"
    )
    (tmp_path / "default-ssl.conf").write_text(
        "<VirtualHost *:443>\n  ServerName bare.test\n  SSLEngine on\n"
        "  SSLCertificateFile /etc/ssl/bare.pem\n</VirtualHost>\n"
    )
    (tmp_path / "haproxy.cfg").write_text("frontend web\n    bind :443 ssl crt /etc/haproxy/site.pem\n")

    tls = _tls(scan_tree(tmp_path))

    nginx, nginx_at = tls["nginx TLS (bare.test)"]
    assert nginx["carnot:tls:versions"] == "TLSv1,TLSv1.1,TLSv1.2,TLSv1.3"
    assert nginx["carnot:tls:cipher_suites"] == "HIGH,!aNULL,!MD5," + OPENSSL_TLS13
    assert nginx["carnot:tls:groups"] == OPENSSL_30_GROUPS
    assert nginx["carnot:tls:pq_hybrid"] == "false"
    assert nginx["carnot:tls:assumed_defaults"] == "versions,ciphers,ciphersuites,groups"
    assert nginx_at == [("nginx.conf", 2)]  # the server block
    apache, apache_at = tls["Apache httpd TLS (bare.test)"]
    assert apache["carnot:tls:versions"] == "TLSv1,TLSv1.1,TLSv1.2,TLSv1.3"
    assert apache["carnot:tls:cipher_suites"] == "DEFAULT," + OPENSSL_TLS13
    assert apache["carnot:tls:groups"] == OPENSSL_30_GROUPS
    assert apache["carnot:tls:defaults_basis"] == (
        "Apache httpd 2.4.36+ assumed (release not stated); " + ASSUMED_OPENSSL
    )
    assert apache_at == [("default-ssl.conf", 1)]
    haproxy, haproxy_at = tls["HAProxy TLS (frontend web bind :443)"]
    assert haproxy["carnot:tls:versions"] == "TLSv1.2,TLSv1.3"
    assert haproxy["carnot:tls:cipher_suites"] == "DEFAULT," + OPENSSL_TLS13
    assert haproxy["carnot:tls:groups"] == OPENSSL_30_GROUPS
    assert haproxy["carnot:tls:assumed_defaults"] == "versions,ciphers,ciphersuites,groups"
    assert haproxy["carnot:tls:defaults_basis"] == "HAProxy 2.2+ assumed (release not stated); " + ASSUMED_OPENSSL
    assert haproxy_at == [("haproxy.cfg", 2)]


def test_settings_without_an_endpoint_get_no_defaults(tmp_path: Path, scan_tree) -> None:
    (tmp_path / "ssl-params.conf").write_text("ssl_protocols TLSv1.2 TLSv1.3;\n")
    (tmp_path / "haproxy.cfg").write_text("global\n    ssl-default-bind-options ssl-min-ver TLSv1.2\n")

    tls = _tls(scan_tree(tmp_path))

    for props, _ in tls.values():
        assert "carnot:tls:assumed_defaults" not in props and "carnot:tls:groups" not in props
    assert set(tls) == {"nginx TLS (included settings)", "HAProxy TLS (global defaults)"}


def test_stated_and_assumed_alike_settings_are_two_assets(tmp_path: Path, scan_tree) -> None:
    (tmp_path / "a.conf").write_text(
        "server {\n  listen 443 ssl;\n  ssl_certificate a.pem;\n"
        "  ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;\n  ssl_ciphers HIGH:!aNULL:!MD5;\n"
        f"  ssl_conf_command Ciphersuites {OPENSSL_TLS13.replace(',', ':')};\n"
        f"  ssl_ecdh_curve {OPENSSL_30_GROUPS.replace(',', ':')};\n"
        "}\n"
    )
    (tmp_path / "b.conf").write_text("server {\n  listen 443 ssl;\n  ssl_certificate b.pem;\n}\n")

    assets = scan_tree(tmp_path).of_type("protocol")

    assert len(assets) == 2


def test_a_generator_header_names_the_releases_whose_defaults_apply(tmp_path: Path, scan_tree) -> None:
    (tmp_path / "nginx.conf").write_text(
        "# generated 2025-02-10, Mozilla Guideline v5.7, nginx 1.27.4, OpenSSL 3.5.0, intermediate config\n"
        "# https://ssl-config.mozilla.org/#server=nginx&version=1.27.4&config=intermediate&openssl=3.5.0\n"
        "server {\n    listen 443 ssl;\n    ssl_certificate /path/to/signed_cert_plus_intermediates;\n}\n"
    )

    [(props, at)] = _tls(scan_tree(tmp_path)).values()

    assert props["carnot:tls:versions"] == "TLSv1.2,TLSv1.3"
    assert props["carnot:tls:groups"].startswith("X25519MLKEM768,x25519,")
    assert props["carnot:tls:pq_hybrid"] == "true"
    assert props["carnot:tls:defaults_basis"] == (
        "nginx 1.27.4 (stated in the file's generator header, line 1); "
        "OpenSSL 3.5.0 (stated in the file's generator header, line 1)"
    )
    assert at == [("nginx.conf", 3)]


@pytest.mark.parametrize(("product", "release", "versions"), [
    ("nginx", (1, 9, 0), ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2")),
    ("nginx", (1, 22, 1), ("TLSv1", "TLSv1.1", "TLSv1.2")),  # Debian 12
    ("nginx", (1, 24, 0), ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")),  # Ubuntu 24.04
    ("nginx", (1, 27, 3), ("TLSv1.2", "TLSv1.3")),
    ("apache", (2, 4, 16), ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2")),
    ("apache", (2, 4, 17), ("TLSv1", "TLSv1.1", "TLSv1.2")),
    ("apache", (2, 4, 62), ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")),
    ("haproxy", (2, 1, 4), ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")),
    ("haproxy", (2, 2), ("TLSv1.2", "TLSv1.3")),
])
def test_documented_protocol_defaults_by_release(product: str, release: tuple[int, ...], versions) -> None:
    defaults = server_defaults(product, StatedReleases(release, (1, 1, 1), 1))

    assert defaults.versions == versions
    assert defaults.groups == ("x25519", "secp256r1", "x448", "secp521r1", "secp384r1")  # OpenSSL 1.1.1
    assert defaults.tls13_suites == (tuple(OPENSSL_TLS13.split(",")) if "TLSv1.3" in versions else ())


def test_apache_include_in_a_vhost_is_named_in_the_defaults_basis(tmp_path: Path, scan_tree) -> None:
    (tmp_path / "site.conf").write_text(
        "<VirtualHost *:443>\n  ServerName inc.test\n  SSLEngine on\n"
        "  Include /etc/letsencrypt/options-ssl-apache.conf\n</VirtualHost>\n"
    )

    [(props, _)] = _tls(scan_tree(tmp_path)).values()

    assert props["carnot:tls:defaults_basis"].endswith("; include at line 4 not followed")


def test_a_tls13_only_endpoint_gets_no_assumed_tls12_cipher_list(tmp_path: Path, scan_tree) -> None:
    (tmp_path / "site.conf").write_text(
        "server {\n  listen 443 ssl;\n  ssl_protocols TLSv1.3;\n  ssl_ecdh_curve X25519MLKEM768;\n}\n"
    )

    [(props, _)] = _tls(scan_tree(tmp_path)).values()

    assert props["carnot:tls:assumed_defaults"] == "ciphersuites"
    assert props["carnot:tls:cipher_suites"] == OPENSSL_TLS13
