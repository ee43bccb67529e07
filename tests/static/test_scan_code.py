"""Crypto API use in source code, driven by the rules file: algorithms, sizes and curves as stated."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assess.errors import ConfigError
from assess.sources.static import scanner
from assess.sources.static.code import load_rules
from assess.sources.static.limits import MAX_MATCHES_PER_RULE, MAX_WINDOW_CHARS

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
        ("rules:\n  - id: x\n    languages: [c]\n    pattern: x\n    algorithm: A\n    jose: 'yes'\n", 2,
         "'jose' must be true or false"),
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


def test_matches_beyond_the_per_rule_limit_are_counted_in_a_skip_not_kept(tmp_path: Path, scan_tree) -> None:
    extra = 7
    _write(tmp_path, {"gen/digests.c": "MD5(x);\n" * (MAX_MATCHES_PER_RULE + extra)})

    scanned = scan_tree(tmp_path)

    occurrences = scanned.occurrences(scanned.by_name("MD5"))
    assert occurrences == [("gen/digests.c", line) for line in range(1, MAX_MATCHES_PER_RULE + 1)]
    reason = scanned.skip_reason(f"gen/digests.c:{MAX_MATCHES_PER_RULE + 1}")
    assert reason.startswith(f"limit: {extra} more matches of rule c-md5 from this line on not examined")


def test_a_minified_single_line_file_gets_one_occurrence_and_the_rest_counted(tmp_path: Path, scan_tree) -> None:
    calls = MAX_MATCHES_PER_RULE + 500
    _write(tmp_path, {"min.js": "var h=createHash('md5');" * calls})

    scanned = scan_tree(tmp_path)

    md5 = scanned.by_name("MD5")
    assert scanned.occurrences(md5) == [("min.js", 1)]
    [context] = {json.loads(o["additionalContext"])["context"] for o in md5["evidence"]["occurrences"]}
    assert context == "rule js-createhash: createHash('md5'"
    assert scanned.skip_reason("min.js:1").startswith("limit: 500 more matches of rule js-createhash")


def test_line_numbers_and_comment_lines_hold_after_long_lines_and_many_matches(tmp_path: Path, scan_tree) -> None:
    long_line = "x = 1; " * 20_000 + "hashlib.sha1(a)\n"
    _write(tmp_path, {"lines.py": (
        "import hashlib\n"
        + long_line
        + "    # hashlib.md5(in a comment)\n"
        + "\u3000hashlib.sha256(b)  # after full-width indentation\n"
        + "\r\n" * 3
        + "hashlib.md5(c); hashlib.md5(d)  # two on one line\n"
        + "  #\thashlib.sha256(commented)\n"
        + "hashlib.sha256(last)"
    )})

    scanned = scan_tree(tmp_path)

    assert _algorithms(scanned) == {
        "SHA-1": [("lines.py", 2)],
        "SHA-256": [("lines.py", 4), ("lines.py", 10)],
        "MD5": [("lines.py", 8)],
    }


def test_a_key_size_is_searched_in_a_bounded_window_after_the_call(tmp_path: Path, scan_tree) -> None:
    near = "rsa.generate_private_key(public_exponent=65537, key_size=3072)\n"
    far = "rsa.generate_private_key(" + " " * MAX_WINDOW_CHARS + "key_size=1024)\n"
    _write(tmp_path, {"near.py": near, "far.py": far})

    scanned = scan_tree(tmp_path)

    assert _algorithms(scanned) == {"RSA-3072": [("near.py", 1)], "RSA": [("far.py", 1)]}


def test_builtin_rule_patterns_bound_what_they_skip() -> None:
    # Python's regex engine backtracks: `[^,]+` after a call name that a file repeats without a comma
    # rescans to the end of the file from every call, quadratic in the file size.
    unbounded = re.compile(r"\[\^[^\]]*\][+*]|\.[+*]")
    # `\s*[(]?\s*`: two runs of blanks around an optional item split one run of blanks in every
    # way, quadratic in its length from every match (`algorithms=` and a megabyte of spaces).
    split_blanks = re.compile(r"\\s\*(?:\\?.|\[[^\]]*\])\?\\s\*")
    assert split_blanks.search(r"algorithms?\s*=\s*[\[(]?\s*['\"]")  # the shape it catches

    offenders = [r.id for r in load_rules() if unbounded.search(r.pattern.pattern)
                 or split_blanks.search(r.pattern.pattern)]

    assert offenders == []


def test_occurrences_beyond_the_per_asset_limit_are_counted_on_the_asset(
    tmp_path: Path, scan_tree, monkeypatch
) -> None:
    monkeypatch.setattr(scanner, "MAX_OCCURRENCES_PER_ASSET", 3)
    _write(tmp_path, {f"src/f{i}.go": 'import "crypto/md5"\nvar h = md5.New()\n' for i in range(3)})

    scanned = scan_tree(tmp_path)

    md5 = scanned.by_name("MD5")
    assert scanned.occurrences(md5) == [("src/f0.go", 1), ("src/f0.go", 2), ("src/f1.go", 1)]
    assert scanned.props(md5)["carnot:evidence_omitted"] == "3"


def test_go_post_quantum_and_x_crypto_apis(tmp_path: Path, scan_tree) -> None:
    _write(tmp_path, {"kem/kem.go": (
        "package kem\n"
        "\n"
        "import (\n"
        "\t\"crypto/ecdh\"\n"
        "\t\"crypto/hpke\"\n"
        "\t\"crypto/mlkem\"\n"
        "\t\"golang.org/x/crypto/chacha20poly1305\"\n"
        "\t\"golang.org/x/crypto/curve25519\"\n"
        ")\n"
        "\n"
        "func keys() {\n"
        "\tdk, _ := mlkem.GenerateKey768()\n"
        "\tbig, _ := mlkem.NewDecapsulationKey1024(seed)\n"
        "\tpriv, _ := ecdh.P384().GenerateKey(rand.Reader)\n"
        "\tx, _ := ecdh.X25519().GenerateKey(rand.Reader)\n"
        "\tshared, _ := curve25519.X25519(scalar, curve25519.Basepoint)\n"
        "\taead, _ := chacha20poly1305.NewX(key)\n"
        "\tpk, _ := hpke.MLKEM768X25519().GenerateKey()\n"
        "\tct, _ := hpke.Seal(pk.PublicKey(), hpke.HKDFSHA256(), hpke.AES256GCM(), info, msg)\n"
        "}\n"
    )})

    scanned = scan_tree(tmp_path)

    algorithms = _algorithms(scanned)
    assert algorithms["ML-KEM-768"] == [("kem/kem.go", 12)]
    assert algorithms["ML-KEM-1024"] == [("kem/kem.go", 13)]
    assert algorithms["ML-KEM-768-x25519"] == [("kem/kem.go", 18)]
    assert algorithms["ML-KEM"] == [("kem/kem.go", 6)]  # the import says only the family
    assert algorithms["ECDH-secp384r1"] == [("kem/kem.go", 14)]
    assert algorithms["X25519"] == [("kem/kem.go", 8), ("kem/kem.go", 15), ("kem/kem.go", 16)]
    assert algorithms["ChaCha20-Poly1305"] == [("kem/kem.go", 7), ("kem/kem.go", 17)]
    assert algorithms["AES-256-GCM"] == [("kem/kem.go", 19)]
    kem = scanned.by_name("ML-KEM-768")
    assert kem["cryptoProperties"]["algorithmProperties"]["primitive"] == "kem"
    assert kem["cryptoProperties"]["algorithmProperties"]["parameterSetIdentifier"] == "768"


JOSE_PYTHON = (
    "import jwt\n"
    "from jose import jwt as jose_jwt\n"
    "from jose.constants import ALGORITHMS\n"
    "from authlib.jose import JsonWebSignature\n"
    "\n"
    "token = jwt.encode(claims, private_key, algorithm=\"RS256\")\n"
    "claims = jwt.decode(token, public_key, algorithms=[\"RS256\", \"ES256\", 'PS384'])\n"
    "mac = jose_jwt.encode(claims, secret, algorithm=ALGORITHMS.HS256)\n"
    "jws = JsonWebSignature(algorithms=['EdDSA'])\n"
    "header = {'alg': 'ES512'}\n"
    "unsigned = jwt.decode(token, options={'verify_signature': False}, algorithms=['none'])\n"
    "status = 'none'\n"
)


def test_jose_algorithm_names_in_python_mean_their_algorithms(tmp_path: Path, scan_tree) -> None:
    _write(tmp_path, {"auth/tokens.py": JOSE_PYTHON})

    scanned = scan_tree(tmp_path)

    algorithms = _algorithms(scanned)
    assert algorithms == {
        "RSA (JOSE RS256)": [("auth/tokens.py", 6), ("auth/tokens.py", 7)],
        "ECDSA-secp256r1 (JOSE ES256)": [("auth/tokens.py", 7)],
        "RSA (JOSE PS384)": [("auth/tokens.py", 7)],
        "HMAC (JOSE HS256)": [("auth/tokens.py", 8)],
        "EdDSA (JOSE EdDSA)": [("auth/tokens.py", 9)],
        "ECDSA-secp521r1 (JOSE ES512)": [("auth/tokens.py", 10)],
        "none (JOSE none)": [("auth/tokens.py", 11)],  # line 12's 'none' is not an algorithm
    }
    rs256 = scanned.by_name("RSA (JOSE RS256)")
    assert rs256["cryptoProperties"]["oid"] == "1.2.840.113549.1.1.11"  # sha256WithRSAEncryption
    assert rs256["cryptoProperties"]["algorithmProperties"]["primitive"] == "signature"
    assert scanned.by_name("RSA (JOSE PS384)")["cryptoProperties"]["oid"] == "1.2.840.113549.1.1.10"  # PSS
    es256 = scanned.by_name("ECDSA-secp256r1 (JOSE ES256)")
    assert scanned.props(es256)["carnot:curve"] == "secp256r1"
    assert es256["cryptoProperties"]["oid"] == "1.2.840.10045.4.3.2"  # ecdsa-with-SHA256
    assert scanned.by_name("HMAC (JOSE HS256)")["cryptoProperties"]["algorithmProperties"]["primitive"] == "mac"


def test_jose_algorithm_names_in_go_java_and_javascript(tmp_path: Path, scan_tree) -> None:
    _write(tmp_path, {
        "sign.go": "token := jwt.NewWithClaims(jwt.SigningMethodPS256, claims)\n"
                   "sig, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES384, Key: k}, nil)\n",
        "Sign.java": "String jws = Jwts.builder().signWith(key, Jwts.SIG.EdDSA).compact();\n"
                     "JWSHeader h = new JWSHeader(JWSAlgorithm.ES256K);\n",
        "sign.js": "jwt.sign(payload, key, { algorithm: 'HS512' });\n"
                   "jwt.verify(token, key, { algorithms: ['RS384'] });\n"
                   "await new SignJWT(claims).setProtectedHeader({ alg: 'Ed25519' }).sign(key);\n"
                   "await crypto.subtle.generateKey({ name: 'RSA-OAEP', modulusLength: 4096 }, true, use);\n",
    })

    algorithms = _algorithms(scan_tree(tmp_path))

    assert algorithms == {
        "RSA (JOSE PS256)": [("sign.go", 1)],
        "ECDSA-secp384r1 (JOSE ES384)": [("sign.go", 2)],
        "EdDSA (JOSE EdDSA)": [("Sign.java", 1)],
        "ECDSA-secp256k1 (JOSE ES256K)": [("Sign.java", 2)],
        "HMAC (JOSE HS512)": [("sign.js", 1)],
        "RSA (JOSE RS384)": [("sign.js", 2)],
        "Ed25519 (JOSE Ed25519)": [("sign.js", 3)],
        "RSA-4096": [("sign.js", 4)],  # WebCrypto's RSA-OAEP is not a JOSE name there
    }

