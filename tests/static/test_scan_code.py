"""Crypto API use in source code, driven by the rules file: algorithms, sizes and curves as stated."""

from __future__ import annotations

from pathlib import Path

import pytest

from assess.errors import ConfigError
from assess.sources.static.code import load_rules

SOURCES = {
    "app/hashing.py": (
        "import hashlib\n"
        "from cryptography.hazmat.primitives.asymmetric import ec, rsa\n"
        "\n"
        "digest = hashlib.md5(b'x').hexdigest()\n"
        "# hashlib.sha1(b'in a comment') is not use\n"
        "key = rsa.generate_private_key(\n"
        "    public_exponent=65537,\n"
        "    key_size=1024,\n"
        ")\n"
        "other = ec.generate_private_key(ec.SECP384R1())\n"
        "legacy = hashlib.new('sha1')\n"
    ),
    "cmd/keys.go": (
        "package main\n"
        "\n"
        "import (\n"
        "\t\"crypto/rsa\"\n"
        "\t\"crypto/rand\"\n"
        ")\n"
        "\n"
        "func key() { rsa.GenerateKey(rand.Reader, 1024) }\n"
        "func ec() { ecdsa.GenerateKey(elliptic.P521(), rand.Reader) }\n"
    ),
    "src/Keys.java": (
        "class Keys {\n"
        "  void make() throws Exception {\n"
        "    KeyPairGenerator g = KeyPairGenerator.getInstance(\"RSA\");\n"
        "    // a comment between the two calls\n"
        "    g.initialize(1024);\n"
        "    KeyPairGenerator e = KeyPairGenerator.getInstance(\"EC\");\n"
        "    e.initialize(new ECGenParameterSpec(\"secp256r1\"));\n"
        "    Cipher c = Cipher.getInstance(\"DESede/CBC/PKCS5Padding\");\n"
        "  }\n"
        "}\n"
    ),
    "web/sign.ts": (
        "import { createHash, createCipheriv, generateKeyPairSync } from 'crypto';\n"
        "export const h = createHash('sha1');\n"
        "export const c = createCipheriv('aes-128-gcm', k, iv);\n"
        "export const kp = generateKeyPairSync('rsa', {\n"
        "  modulusLength: 2048,\n"
        "});\n"
    ),
    "native/keys.c": (
        "#include <openssl/rsa.h>\n"
        "int gen(RSA *r, BIGNUM *e) { return RSA_generate_key_ex(r, 1024, e, NULL); }\n"
        "EC_KEY *k(void) { return EC_KEY_new_by_curve_name(NID_X9_62_prime256v1); }\n"
        "/* MD5(data, len, out) in a comment */\n"
    ),
}


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _algorithms(scanned) -> dict[str, list]:
    return {c["name"]: scanned.occurrences(c) for c in scanned.of_type("algorithm")}


def test_each_language_reports_algorithms_with_stated_sizes_curves_and_lines(
    tmp_path: Path, scan_tree
) -> None:
    _write(tmp_path, SOURCES)

    scanned = scan_tree(tmp_path)

    assert _algorithms(scanned) == {
        "MD5": [("app/hashing.py", 4)],
        "SHA-1": [("app/hashing.py", 11), ("web/sign.ts", 2)],
        "RSA-1024": [("app/hashing.py", 6), ("cmd/keys.go", 8), ("native/keys.c", 2), ("src/Keys.java", 3)],
        "RSA": [("cmd/keys.go", 4)],
        "RSA-2048": [("web/sign.ts", 4)],
        "ECDSA-secp384r1": [("app/hashing.py", 10)],
        "ECDSA-secp521r1": [("cmd/keys.go", 9)],
        "ECDSA-secp256r1": [("native/keys.c", 3), ("src/Keys.java", 6)],
        "3DES-CBC": [("src/Keys.java", 8)],
        "AES-128-GCM": [("web/sign.ts", 3)],
    }
    rsa = scanned.by_name("RSA-1024")
    props = scanned.props(rsa)
    assert props["carnot:algorithm"] == "RSA" and props["carnot:key_bits"] == "1024"
    assert rsa["cryptoProperties"]["algorithmProperties"]["parameterSetIdentifier"] == "1024"
    curve = scanned.by_name("ECDSA-secp256r1")
    assert curve["cryptoProperties"]["algorithmProperties"]["curve"] == "secp256r1"
    aes = scanned.by_name("AES-128-GCM")["cryptoProperties"]["algorithmProperties"]
    assert (aes["primitive"], aes["mode"]) == ("block-cipher", "gcm")
    contexts = [o["additionalContext"] for o in scanned.by_name("MD5")["evidence"]["occurrences"]]
    assert "rule python-hashlib-constructor: hashlib.md5(" in contexts[0]


def test_user_rules_extend_the_builtin_ones(tmp_path: Path, scan_tree) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - id: internal-legacy-kdf\n"
        "    languages: [python]\n"
        "    pattern: '\\bcorp_crypto\\.weak_kdf\\('\n"
        "    algorithm: MD5\n"
        "    primitive: kdf\n"
        "  - id: corp-rsa\n"
        "    languages: [go]\n"
        "    pattern: 'corprsa\\.New\\((?P<bits>\\d+)\\)'\n"
        "    algorithm: RSA\n"
    )
    tree = tmp_path / "tree"
    _write(tree, {"a.py": "import hashlib\nk = corp_crypto.weak_kdf(pw)\nh = hashlib.md5(x)\n",
                  "b.go": "package b\nvar k = corprsa.New(1536)\n"})

    scanned = scan_tree(tree, rules=load_rules(rules))

    assert _algorithms(scanned)["RSA-1536"] == [("b.go", 2)]
    # Same algorithm, different primitive stated by the rule: still one MD5 asset, both places.
    assert _algorithms(scanned)["MD5"] == [("a.py", 2), ("a.py", 3)]


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("rules:\n  - id: x\n    languages: [python\n", 4, "invalid YAML"),
        ("rules:\n  - id: x\n    languages: [python]\n    pattern: 'md5('\n    algorithm: MD5\n", 2,
         "not a valid regular expression"),
        ("rules:\n  - id: ok\n    languages: [go]\n    pattern: x\n    algorithm: A\n"
         "  - id: nopattern\n    languages: [go]\n    algorithm: MD5\n", 6, "missing 'pattern'"),
        ("rules:\n  - id: x\n    languages: [cobol]\n    pattern: x\n    algorithm: A\n", 2, "'languages'"),
        ("rules:\n  - id: x\n    languages: [c]\n    pattern: x\n", 2, "needs 'algorithm'"),
        ("rules:\n  - id: x\n    languages: [c]\n    pattern: x\n    algorithm: A\n    colour: red\n", 2,
         "unknown field"),
        ("- just a list\n", 1, "a 'rules' list"),
    ],
)
def test_malformed_rules_file_names_file_and_line(tmp_path: Path, text: str, line: int, needle: str) -> None:
    rules = tmp_path / "bad-rules.yaml"
    rules.write_text(text)

    with pytest.raises(ConfigError) as caught:
        load_rules(rules)

    assert caught.value.path == str(rules)
    assert caught.value.line == line, caught.value.one_line()
    assert needle in caught.value.message
