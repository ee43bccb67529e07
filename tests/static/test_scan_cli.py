"""`carnot scan` as a user runs it: exit codes, one-line errors, and the demo estate's headline assets."""

from __future__ import annotations

import json
from pathlib import Path

from assess.cbom import read_cbom

ROOT = Path(__file__).resolve().parents[2]
ESTATE = ROOT / "examples" / "estate"


def _one_line_error(result, *needles: str) -> str:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_missing_path_exits_2_naming_it_and_writes_nothing(tmp_path: Path, carnot) -> None:
    out = tmp_path / "static.cdx.json"

    result = carnot("scan", str(ESTATE), str(tmp_path / "no-such-dir"), "--out", str(out))

    _one_line_error(result, "no-such-dir", "no such file or directory")
    assert not out.exists()


def test_bad_rules_file_exits_2_naming_file_and_line(tmp_path: Path, carnot) -> None:
    rules = tmp_path / "team-rules.yaml"
    rules.write_text(
        "rules:\n  - id: broken\n    languages: [python]\n    pattern: '(unclosed'\n    algorithm: X\n"
    )

    result = carnot("scan", str(ESTATE), "--out", str(tmp_path / "o.json"), "--rules", str(rules))

    _one_line_error(result, f"{rules}:2:", "not a valid regular expression")


def test_missing_rules_file_exits_2(tmp_path: Path, carnot) -> None:
    missing = tmp_path / "nope.yaml"

    result = carnot("scan", str(ESTATE), "--out", str(tmp_path / "o.json"), "--rules", str(missing))

    _one_line_error(result, "nope.yaml", "rules file not found")


def test_several_roots_prefix_locations_with_the_root_as_given(tmp_path: Path, carnot) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.py").write_text("import hashlib\nhashlib.md5()\n")
    (tmp_path / "b" / "y.py").write_text("import hashlib\n\nhashlib.md5()\n")
    out = tmp_path / "static.cdx.json"

    result = carnot("scan", "a", "b", "--out", str(out), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    [md5] = read_cbom(out).components()
    found = sorted((o["location"], o["line"]) for o in md5["evidence"]["occurrences"])
    assert found == [("a/x.py", 2), ("b/y.py", 3)]


def test_demo_estate_yields_its_headline_assets(tmp_path: Path, carnot) -> None:
    out = tmp_path / "static.cdx.json"

    result = carnot("scan", str(ESTATE), "--out", str(out), "--json")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["skipped"] == 0
    doc = read_cbom(out)
    assert doc.metadata_properties("carnot:stage") == ["static"]
    components = {c["name"]: c for c in doc.components()}

    def props(name: str) -> dict[str, str]:
        return {p["name"]: p["value"] for p in components[name]["properties"]}

    legacy = props("legacy-intranet.example.internal")
    assert legacy["carnot:cert:public_key_algorithm"] == "RSA"
    assert legacy["carnot:cert:public_key_bits"] == "1024"
    shop = components["shop.example.com"]["cryptoProperties"]["certificateProperties"]
    assert shop["notValidAfter"].startswith("2027-01-10")
    assert props("api.example.com")["carnot:cert:curve"] == "secp256r1"
    assert len(components["api.example.com"]["evidence"]["occurrences"]) == 2  # PEM and DER
    assert props("Example Demo Root CA")["carnot:cert:is_ca"] == "true"
    assert props("nginx TLS (api.example.com)")["carnot:tls:groups"] == "X25519MLKEM768,x25519"
    assert props("nginx TLS (api.example.com)")["carnot:tls:pq_hybrid"] == "true"
    assert props("nginx TLS (shop.example.com)")["carnot:tls:pq_hybrid"] == "false"
    apache = props("Apache httpd TLS (legacy-intranet.example.internal)")
    assert apache["carnot:tls:versions"] == "TLSv1,TLSv1.1,TLSv1.2,TLSv1.3"
    assert "DES-CBC3-SHA" in apache["carnot:tls:cipher_suites"].split(",")
    openssl = props("OpenSSL config TLS ([system_default_sect])")
    assert openssl["carnot:tls:groups"] == "X25519MLKEM768,x25519,secp256r1"
    assert any(n.startswith("HAProxy TLS") for n in components)
    sshd = props("SSH server configuration")
    assert "diffie-hellman-group1-sha1" in sshd["carnot:ssh:kex"].split(",")
    assert sshd["carnot:ssh:kex"].startswith("mlkem768x25519-sha256")
    assert {"RSA-1024 private key", "RSA-2048 private key", "ECDSA-secp256r1 private key",
            "Ed25519 private key"} <= set(components)
    rsa1024 = {o["location"].rsplit(".", 1)[1] for o in components["RSA-1024"]["evidence"]["occurrences"]}
    assert rsa1024 == {"py", "go", "java", "c"}
    assert {"MD5", "SHA-1", "AES-GCM", "ECDSA-secp256r1"} <= set(components)


def test_same_tree_same_bytes(tmp_path: Path, carnot) -> None:
    first, second = tmp_path / "one.cdx.json", tmp_path / "two.cdx.json"
    epoch = {"SOURCE_DATE_EPOCH": "1790000000"}

    for out in (first, second):
        assert carnot("scan", str(ESTATE), "--out", str(out), env=epoch).returncode == 0

    assert first.read_bytes() == second.read_bytes()
    assert read_cbom(first).data["metadata"]["timestamp"].startswith("2026-09-21")
