"""SSH: algorithm lists with OpenSSH's +/-/^ modifiers, Host blocks, authorized_keys and .pub files."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from assess.sources.static.ssh import OPENSSH_DEFAULTS, resolve_list


def _openssh_public(key) -> str:
    public = key.public_key()
    return public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def test_modifiers_append_remove_by_pattern_and_prepend() -> None:
    default = ("a-1", "b-2", "b-3", "c-4")
    assert resolve_list("+x,a-1", default) == ["a-1", "b-2", "b-3", "c-4", "x"]
    assert resolve_list("-b-*", default) == ["a-1", "c-4"]
    assert resolve_list("^c-4,z", default) == ["c-4", "z", "a-1", "b-2", "b-3"]
    assert resolve_list("z,y", default) == ["z", "y"]


def test_sshd_config_lists_become_one_protocol_asset_with_the_stated_lines(tmp_path: Path, scan_tree) -> None:
    etc = tmp_path / "etc" / "ssh"
    etc.mkdir(parents=True)
    (etc / "sshd_config").write_text(
        "# hardened, mostly\n"
        "Port 22\n"
        "KexAlgorithms mlkem768x25519-sha256,curve25519-sha256,diffie-hellman-group1-sha1\n"
        "ciphers=aes256-gcm@openssh.com,3des-cbc\n"
        "MACs -hmac-sha1*,umac-64*\n"
        "HostKeyAlgorithms ^ssh-ed25519\n"
        "KexAlgorithms curve25519-sha256\n"  # the first value wins, as in sshd
    )

    scanned = scan_tree(tmp_path)

    [asset] = scanned.of_type("protocol")
    assert asset["name"] == "SSH server configuration"
    assert asset["cryptoProperties"]["protocolProperties"]["type"] == "ssh"
    props = scanned.props(asset)
    assert props["carnot:ssh:kex"] == "mlkem768x25519-sha256,curve25519-sha256,diffie-hellman-group1-sha1"
    assert props["carnot:ssh:ciphers"] == "aes256-gcm@openssh.com,3des-cbc"
    macs = props["carnot:ssh:macs"].split(",")
    assert "hmac-sha1" not in macs and "umac-64@openssh.com" not in macs and "hmac-sha2-256" in macs
    host_keys = props["carnot:ssh:host_key_algorithms"].split(",")
    assert host_keys[0] == "ssh-ed25519" and host_keys.count("ssh-ed25519") == 1
    assert len(host_keys) == len(OPENSSH_DEFAULTS["hostkeyalgorithms"])
    assert scanned.occurrences(asset) == [("etc/ssh/sshd_config", 3)]
    context = asset["evidence"]["occurrences"][0]["additionalContext"]
    assert "MACs line 5" in context and "OpenSSH 9.9 defaults" in context


def test_ssh_config_host_block_is_layered_over_global_settings(tmp_path: Path, scan_tree) -> None:
    (tmp_path / "ssh_config").write_text(
        "Ciphers aes256-ctr\n"
        "\n"
        "Host old-router\n"
        "    KexAlgorithms +diffie-hellman-group1-sha1\n"
        "Host *\n"
        "    MACs hmac-sha2-512\n"
    )

    scanned = scan_tree(tmp_path)

    by_name = {c["name"]: c for c in scanned.of_type("protocol")}
    assert set(by_name) == {"SSH client configuration", "SSH client configuration (Host old-router)"}
    general = scanned.props(by_name["SSH client configuration"])
    assert general == {"carnot:ssh:ciphers": "aes256-ctr", "carnot:ssh:macs": "hmac-sha2-512",
                       "carnot:source": "static"}
    router = scanned.props(by_name["SSH client configuration (Host old-router)"])
    assert router["carnot:ssh:kex"].endswith(",diffie-hellman-group1-sha1")
    assert router["carnot:ssh:ciphers"] == "aes256-ctr"
    assert scanned.occurrences(by_name["SSH client configuration (Host old-router)"]) == [("ssh_config", 1)]


def test_authorized_keys_and_pub_files_report_each_public_key(tmp_path: Path, scan_tree) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    ec_key = ec.generate_private_key(ec.SECP521R1())
    ed_key = ed25519.Ed25519PrivateKey.generate()
    home = tmp_path / "home" / "alice" / ".ssh"
    home.mkdir(parents=True)
    (home / "authorized_keys").write_text(
        "# alice's keys\n"
        f"{_openssh_public(rsa_key)} alice@laptop\n"
        f'command="/usr/bin/backup",no-pty {_openssh_public(ec_key)} backup@nas\n'
        "this line is not a key\n"
    )
    (home / "id_ed25519.pub").write_text(f"{_openssh_public(ed_key)} alice@desktop\n")

    scanned = scan_tree(tmp_path)

    rsa_asset = scanned.by_name("RSA-3072 public key")
    assert scanned.occurrences(rsa_asset) == [("home/alice/.ssh/authorized_keys", 2)]
    ec_asset = scanned.by_name("ECDSA-secp521r1 public key")
    assert scanned.props(ec_asset)["carnot:key_bits"] == "521"
    assert scanned.occurrences(ec_asset) == [("home/alice/.ssh/authorized_keys", 3)]
    ed_asset = scanned.by_name("Ed25519 public key")
    assert scanned.occurrences(ed_asset) == [("home/alice/.ssh/id_ed25519.pub", 1)]
    assert scanned.skip_reason("home/alice/.ssh/authorized_keys:4") == "not an SSH public key line"


def test_openssh_certificate_line_reports_the_certified_key(tmp_path: Path, scan_tree) -> None:
    ca = ed25519.Ed25519PrivateKey.generate()
    user = ec.generate_private_key(ec.SECP384R1())
    cert = (
        serialization.SSHCertificateBuilder()
        .public_key(user.public_key())
        .serial(7)
        .type(serialization.SSHCertificateType.USER)
        .key_id(b"alice")
        .valid_principals([b"alice"])
        .valid_after(0)
        .valid_before(2**63)
        .sign(ca)
    )
    (tmp_path / "id_ecdsa-cert.pub").write_bytes(cert.public_bytes() + b" alice-cert\n")

    scanned = scan_tree(tmp_path)

    asset = scanned.by_name("ECDSA-secp384r1 public key")
    assert scanned.occurrences(asset) == [("id_ecdsa-cert.pub", 1)]


def test_sshd_config_without_algorithm_lines_gets_openssh_defaults_marked_assumed(tmp_path: Path, scan_tree) -> None:
    (tmp_path / "sshd_config").write_text("Port 22\nPermitRootLogin no\n")

    scanned = scan_tree(tmp_path)

    [asset] = scanned.of_type("protocol")
    assert asset["name"] == "SSH server configuration (defaults assumed)"
    props = scanned.props(asset)
    assert props["carnot:ssh:kex"] == ",".join(OPENSSH_DEFAULTS["kexalgorithms"])
    assert props["carnot:ssh:assumed_defaults"] == "kex,host_key_algorithms,ciphers,macs"
    assert props["carnot:ssh:defaults_basis"] == "OpenSSH 9.9 assumed (release not stated)"
