"""The scan on real files from public projects (tests/data/configs and tests/data/code, origins in
their NOTICE): what it reports for each, field by field, is what the file itself says, and where
the file says nothing, the server's defaults marked as assumed.

Each expected value quotes the file; each evidence line is checked to hold the statement quoted.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
OPENSSL_30_GROUPS = "x25519,secp256r1,x448,secp521r1,secp384r1,ffdhe2048,ffdhe3072,ffdhe4096,ffdhe6144,ffdhe8192"
OPENSSL_TLS13 = "TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256,TLS_AES_128_GCM_SHA256"
ASSUMED_OPENSSL = "OpenSSL 3.0-3.4 assumed (release not stated)"


@pytest.fixture
def corpus(tmp_path: Path, scan_tree):
    """Scan a copy of one corpus folder (so locations are relative to it)."""

    def run(*relative: str):
        tree = tmp_path / "tree"
        for rel in relative:
            target = tree / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(DATA / rel, target)
        return scan_tree(tree)

    return run


def _tls(scanned) -> dict[str, tuple[dict[str, str], list]]:
    return {c["name"]: (scanned.props(c), scanned.occurrences(c)) for c in scanned.of_type("protocol")}


def _line(rel: str, number: int) -> str:
    return (DATA / rel).read_text().splitlines()[number - 1].strip()


def test_upstream_nginx_conf_configures_tls_only_in_comments(corpus) -> None:
    scanned = corpus("configs/nginx/nginx.conf")

    # "# HTTPS server ... #    listen 443 ssl; ... #    ssl_ciphers  HIGH:!aNULL:!MD5;": all commented out.
    assert scanned.components() == []
    assert scanned.skipped == []


def test_linuxserver_nginx_site_and_its_ssl_snippet(corpus) -> None:
    site, snippet = "configs/nginx/linuxserver/default.conf", "configs/nginx/linuxserver/ssl.conf"
    scanned = corpus(site, snippet)

    tls = _tls(scanned)
    assert set(tls) == {"nginx TLS (_)", "nginx TLS (included settings)"}
    # ssl.conf, lines 17-19.
    stated, stated_at = tls["nginx TLS (included settings)"]
    assert stated["carnot:tls:versions"] == "TLSv1.2,TLSv1.3"  # ssl_protocols TLSv1.2 TLSv1.3;
    assert stated["carnot:tls:groups"] == "x25519,secp256r1,secp384r1"  # ssl_ecdh_curve X25519:prime256v1:secp384r1;
    assert stated["carnot:tls:pq_hybrid"] == "false"
    assert stated["carnot:tls:cipher_suites"] == (
        "ECDHE-ECDSA-AES128-GCM-SHA256,ECDHE-RSA-AES128-GCM-SHA256,ECDHE-ECDSA-AES256-GCM-SHA384,"
        "ECDHE-RSA-AES256-GCM-SHA384,ECDHE-ECDSA-CHACHA20-POLY1305,ECDHE-RSA-CHACHA20-POLY1305,"
        "DHE-RSA-AES128-GCM-SHA256,DHE-RSA-AES256-GCM-SHA384,DHE-RSA-CHACHA20-POLY1305"
    )
    assert "carnot:tls:assumed_defaults" not in stated  # a snippet is no endpoint: nothing assumed
    assert stated_at == [("configs/nginx/linuxserver/ssl.conf", 17)]
    assert _line(snippet, 17) == "ssl_protocols TLSv1.2 TLSv1.3;"
    # default.conf: `listen 443 ssl default_server;` and `include /config/nginx/ssl.conf;`, nothing else.
    served, served_at = tls["nginx TLS (_)"]
    assert served["carnot:tls:assumed_defaults"] == "versions,ciphers,ciphersuites,groups"
    assert served["carnot:tls:versions"] == "TLSv1,TLSv1.1,TLSv1.2,TLSv1.3"
    assert served["carnot:tls:groups"] == OPENSSL_30_GROUPS
    assert served["carnot:tls:defaults_basis"] == (
        "nginx 1.23.4-1.27.2 assumed (release not stated); " + ASSUMED_OPENSSL + "; include at line 13 not followed"
    )
    assert _line(site, 13) == "include /config/nginx/ssl.conf;"
    assert served_at == [("configs/nginx/linuxserver/default.conf", 3)]
    assert _line(site, 3) == "server {"


def test_apache_httpd_ssl_conf_vhost_inherits_the_server_settings(corpus) -> None:
    rel = "configs/apache/httpd-ssl.conf"
    scanned = corpus(rel)

    [(name, (props, at))] = _tls(scanned).items()
    assert name == "Apache httpd TLS (www.example.com:@@SSLPort@@)"  # ServerName www.example.com:@@SSLPort@@
    assert props["carnot:tls:versions"] == "TLSv1,TLSv1.1,TLSv1.2,TLSv1.3"  # SSLProtocol all -SSLv3
    assert _line(rel, 79) == "SSLProtocol all -SSLv3"
    # SSLCipherSuite HIGH:MEDIUM:!MD5:!RC4:!3DES (line 52), then OpenSSL's TLS 1.3 suites, unstated.
    assert props["carnot:tls:cipher_suites"] == "HIGH,MEDIUM,!MD5,!RC4,!3DES," + OPENSSL_TLS13
    assert _line(rel, 52) == "SSLCipherSuite HIGH:MEDIUM:!MD5:!RC4:!3DES"
    assert props["carnot:tls:assumed_defaults"] == "ciphersuites,groups"
    assert props["carnot:tls:groups"] == OPENSSL_30_GROUPS
    assert props["carnot:tls:pq_hybrid"] == "false"
    assert at == [(rel, 79)]


def test_haproxy_examples_bind_lines_with_global_and_assumed_settings(corpus) -> None:
    edge, keylog = "configs/haproxy/basic-config-edge.cfg", "configs/haproxy/keylog-test.cfg"
    scanned = corpus(edge, keylog)

    tls = _tls(scanned)
    assert set(tls) == {"HAProxy TLS (frontend pub1 bind :443)", "HAProxy TLS (frontend https-in bind :443)"}
    # basic-config-edge.cfg: `bind :443 name secure ssl crt pub1.pem` and the QUIC bind, both
    # under global ssl-default-bind-* (lines 38-40): one configuration, two occurrences.
    pub1, pub1_at = tls["HAProxy TLS (frontend pub1 bind :443)"]
    assert pub1["carnot:tls:versions"] == "TLSv1.2,TLSv1.3"  # no-sslv3 no-tlsv10 no-tlsv11
    assert pub1["carnot:tls:cipher_suites"] == (
        "ECDHE-ECDSA-AES128-GCM-SHA256,ECDHE-RSA-AES128-GCM-SHA256,ECDHE-ECDSA-AES256-GCM-SHA384,"
        "ECDHE-RSA-AES256-GCM-SHA384,ECDHE-ECDSA-CHACHA20-POLY1305,ECDHE-RSA-CHACHA20-POLY1305,"
        "DHE-RSA-AES128-GCM-SHA256,DHE-RSA-AES256-GCM-SHA384,"
        "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256"
    )
    assert pub1["carnot:tls:assumed_defaults"] == "groups"  # no curves anywhere
    assert pub1["carnot:tls:groups"] == OPENSSL_30_GROUPS
    assert pub1_at == [("configs/haproxy/basic-config-edge.cfg", 40)] * 2
    assert _line(edge, 40).startswith("ssl-default-bind-options prefer-client-ciphers no-sslv3 no-tlsv10 no-tlsv11")
    # keylog-test.cfg: `bind :443 ssl crt "common.pem"`, nothing else: HAProxy's defaults.
    https_in, https_in_at = tls["HAProxy TLS (frontend https-in bind :443)"]
    assert https_in["carnot:tls:assumed_defaults"] == "versions,ciphers,ciphersuites,groups"
    assert https_in["carnot:tls:versions"] == "TLSv1.2,TLSv1.3"
    assert https_in["carnot:tls:cipher_suites"] == "DEFAULT," + OPENSSL_TLS13
    assert https_in["carnot:tls:defaults_basis"] == "HAProxy 2.2+ assumed (release not stated); " + ASSUMED_OPENSSL
    assert https_in_at == [("configs/haproxy/keylog-test.cfg", 55)]
    assert _line(keylog, 55) == 'bind :443 ssl crt "common.pem"'


def test_upstream_openssh_configs_state_no_algorithms(corpus) -> None:
    scanned = corpus("configs/openssh/sshd_config", "configs/openssh/ssh_config")

    # sshd_config's "# Ciphers and keying" section holds only a commented RekeyLimit; ssh_config's
    # algorithms are commented out (line 36). OpenSSH's own defaults then apply, marked assumed.
    protocols = {c["name"]: scanned.props(c) for c in scanned.of_type("protocol")}
    assert set(protocols) == {"SSH server configuration (defaults assumed)",
                              "SSH client configuration (defaults assumed)"}
    for props in protocols.values():
        assert props["carnot:ssh:assumed_defaults"] == "kex,host_key_algorithms,ciphers,macs"
        assert props["carnot:ssh:kex"].startswith("sntrup761x25519-sha512,")
    assert _line("configs/openssh/ssh_config", 36) == "#   Ciphers aes128-ctr,aes192-ctr,aes256-ctr,aes128-cbc,3des-cbc"


def test_go_examples_use_ml_kem_and_rs256(corpus) -> None:
    mlkem, jwt_example = "code/go/mlkem_example_test.go", "code/go/jwt_http_example_test.go"
    scanned = corpus(mlkem, jwt_example)

    algorithms = {c["name"]: scanned.occurrences(c) for c in scanned.of_type("algorithm")}
    assert algorithms == {
        "ML-KEM": [(mlkem, 8)],  # "crypto/mlkem"
        "ML-KEM-768": [(mlkem, 14), (mlkem, 36)],  # mlkem.GenerateKey768(), mlkem.NewEncapsulationKey768(...)
        "RSA": [(jwt_example, 7)],  # "crypto/rsa"
        "RSA (JOSE RS256)": [(jwt_example, 137)],  # jwt.New(jwt.GetSigningMethod("RS256"))
    }
    assert _line(mlkem, 14) == "dk, err := mlkem.GenerateKey768()"
    assert _line(jwt_example, 137) == 't := jwt.New(jwt.GetSigningMethod("RS256"))'
    kem = scanned.by_name("ML-KEM-768")
    assert kem["cryptoProperties"]["algorithmProperties"]["primitive"] == "kem"
