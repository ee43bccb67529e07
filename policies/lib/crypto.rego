# What the policies know about algorithms: canonical family names, OIDs, curves, TLS and SSH names.
#
# Every function here is pure and total over strings, so a CBOM from any tool can be judged.
package carnot.lib.crypto

# Public-key algorithms broken by Shor's algorithm.
quantum_vulnerable := {"RSA", "DSA", "DH", "ECDH", "ECDSA", "EC", "ED25519", "ED448", "EDDSA", "X25519", "X448"}

signature_families := {"RSA", "DSA", "ECDSA", "EC", "ED25519", "ED448", "EDDSA"}

legacy_hashes := {"MD5", "MD4", "MD2", "SHA-1"}

legacy_ciphers := {"RC4", "DES", "3DES", "RC2", "BLOWFISH", "IDEA", "CAST5"}

symmetric_ciphers := {"AES", "CAMELLIA", "CHACHA20", "ARIA", "SEED", "SM4"}

# Name prefixes (upper case, '-' separated) in the order they are tried: the first match wins.
family_prefixes := [
	["ML-KEM", "ML-KEM"], ["MLKEM", "ML-KEM"], ["KYBER", "ML-KEM"],
	["ML-DSA", "ML-DSA"], ["MLDSA", "ML-DSA"], ["DILITHIUM", "ML-DSA"],
	["SLH-DSA", "SLH-DSA"], ["SPHINCS", "SLH-DSA"], ["FN-DSA", "FN-DSA"], ["FALCON", "FN-DSA"],
	["DES-EDE", "3DES"], ["DESEDE", "3DES"], ["TRIPLEDES", "3DES"], ["TRIPLE-DES", "3DES"],
	["3DES", "3DES"], ["DES3", "3DES"], ["TDEA", "3DES"], ["TDES", "3DES"],
	["ECDSA", "ECDSA"], ["ECDHE", "ECDH"], ["ECDH", "ECDH"],
	["ED25519", "ED25519"], ["ED448", "ED448"], ["EDDSA", "EDDSA"],
	["X25519", "X25519"], ["CURVE25519", "X25519"], ["X448", "X448"],
	["RSA", "RSA"], ["DSA", "DSA"], ["DHE", "DH"], ["FFDH", "DH"], ["DIFFIE", "DH"], ["DH", "DH"],
	["MD5", "MD5"], ["MD4", "MD4"], ["MD2", "MD2"],
	["SHA-1", "SHA-1"], ["SHA1", "SHA-1"],
	["SHA-224", "SHA-2"], ["SHA-256", "SHA-2"], ["SHA-384", "SHA-2"], ["SHA-512", "SHA-2"],
	["SHA224", "SHA-2"], ["SHA256", "SHA-2"], ["SHA384", "SHA-2"], ["SHA512", "SHA-2"],
	["SHA-2", "SHA-2"], ["SHA2", "SHA-2"], ["SHA-3", "SHA-3"], ["SHA3", "SHA-3"],
	["HMAC", "HMAC"], ["AES", "AES"], ["RIJNDAEL", "AES"], ["CAMELLIA", "CAMELLIA"], ["ARIA", "ARIA"],
	["CHACHA20", "CHACHA20"], ["CHACHA", "CHACHA20"], ["SEED", "SEED"], ["SM4", "SM4"],
	["DES", "DES"], ["RC4", "RC4"], ["ARC4", "RC4"], ["ARCFOUR", "RC4"], ["RC2", "RC2"],
	["BLOWFISH", "BLOWFISH"], ["BF-", "BLOWFISH"], ["IDEA", "IDEA"], ["CAST5", "CAST5"], ["CAST128", "CAST5"],
	["EC", "EC"],
]

# OIDs of algorithms; signature schemes also name their hash.
oids := {
	"1.2.840.113549.1.1.1": {"family": "RSA"},
	"1.2.840.113549.1.1.2": {"family": "RSA", "hash": "MD2"},
	"1.2.840.113549.1.1.4": {"family": "RSA", "hash": "MD5"},
	"1.2.840.113549.1.1.5": {"family": "RSA", "hash": "SHA-1"},
	"1.2.840.113549.1.1.7": {"family": "RSA"},
	"1.2.840.113549.1.1.10": {"family": "RSA", "hash": "SHA-2"},
	"1.2.840.113549.1.1.11": {"family": "RSA", "hash": "SHA-2"},
	"1.2.840.113549.1.1.12": {"family": "RSA", "hash": "SHA-2"},
	"1.2.840.113549.1.1.13": {"family": "RSA", "hash": "SHA-2"},
	"1.2.840.113549.1.1.14": {"family": "RSA", "hash": "SHA-2"},
	"1.2.840.10040.4.1": {"family": "DSA"},
	"1.2.840.10040.4.3": {"family": "DSA", "hash": "SHA-1"},
	"1.2.840.10045.2.1": {"family": "EC"},
	"1.2.840.10045.4.1": {"family": "ECDSA", "hash": "SHA-1"},
	"1.2.840.10045.4.3.1": {"family": "ECDSA", "hash": "SHA-2"},
	"1.2.840.10045.4.3.2": {"family": "ECDSA", "hash": "SHA-2"},
	"1.2.840.10045.4.3.3": {"family": "ECDSA", "hash": "SHA-2"},
	"1.2.840.10045.4.3.4": {"family": "ECDSA", "hash": "SHA-2"},
	"1.3.132.1.12": {"family": "ECDH"},
	"1.2.840.113549.1.3.1": {"family": "DH"},
	"1.2.840.10046.2.1": {"family": "DH"},
	"1.3.101.110": {"family": "X25519"},
	"1.3.101.111": {"family": "X448"},
	"1.3.101.112": {"family": "ED25519"},
	"1.3.101.113": {"family": "ED448"},
	"1.2.840.113549.2.2": {"family": "MD2"},
	"1.2.840.113549.2.4": {"family": "MD4"},
	"1.2.840.113549.2.5": {"family": "MD5"},
	"1.3.14.3.2.26": {"family": "SHA-1"},
	"1.3.14.3.2.7": {"family": "DES"},
	"1.2.840.113549.3.7": {"family": "3DES"},
	"1.2.840.113549.3.2": {"family": "RC2"},
	"1.2.840.113549.3.4": {"family": "RC4"},
	"2.16.840.1.101.3.4.4.1": {"family": "ML-KEM"},
	"2.16.840.1.101.3.4.4.2": {"family": "ML-KEM"},
	"2.16.840.1.101.3.4.4.3": {"family": "ML-KEM"},
	"2.16.840.1.101.3.4.3.17": {"family": "ML-DSA"},
	"2.16.840.1.101.3.4.3.18": {"family": "ML-DSA"},
	"2.16.840.1.101.3.4.3.19": {"family": "ML-DSA"},
}

oid_prefixes := [
	["2.16.840.1.101.3.4.1.", "AES"],
	["2.16.840.1.101.3.4.2.", "SHA-2"],
	["2.16.840.1.101.3.4.3.", "SLH-DSA"],
]

# Curve names in any common spelling -> size in bits (Curve25519 counts as 256: it gives P-256's strength).
curve_bits := {
	"secp112r1": 112, "secp128r1": 128, "secp160k1": 160, "secp160r1": 160, "secp160r2": 160,
	"secp192k1": 192, "secp192r1": 192, "prime192v1": 192, "p-192": 192, "p192": 192,
	"secp224k1": 224, "secp224r1": 224, "p-224": 224, "p224": 224,
	"secp256k1": 256, "secp256r1": 256, "prime256v1": 256, "p-256": 256, "p256": 256,
	"secp384r1": 384, "p-384": 384, "p384": 384, "secp521r1": 521, "p-521": 521, "p521": 521,
	"sect163k1": 163, "sect163r1": 163, "sect163r2": 163, "sect193r1": 193, "sect193r2": 193,
	"sect233k1": 233, "sect233r1": 233, "sect239k1": 239, "sect283k1": 283, "sect283r1": 283,
	"sect409k1": 409, "sect409r1": 409, "sect571k1": 571, "sect571r1": 571,
	"brainpoolp160r1": 160, "brainpoolp192r1": 192, "brainpoolp224r1": 224, "brainpoolp256r1": 256,
	"brainpoolp320r1": 320, "brainpoolp384r1": 384, "brainpoolp512r1": 512,
	"curve25519": 256, "x25519": 256, "ed25519": 256, "curve448": 448, "x448": 448, "ed448": 448,
}

curve_oids := {
	"1.2.840.10045.3.1.1": "secp192r1", "1.3.132.0.33": "secp224r1", "1.2.840.10045.3.1.7": "secp256r1",
	"1.3.132.0.34": "secp384r1", "1.3.132.0.35": "secp521r1", "1.3.132.0.8": "secp160r1",
}

# TLS groups that resist a quantum adversary (lower case; mirrors assess/tlsnames.py, a test keeps them equal).
pq_groups := {
	"x25519mlkem768", "secp256r1mlkem768", "secp384r1mlkem1024", "x25519kyber768draft00",
	"mlkem512", "mlkem768", "mlkem1024",
	"x25519_mlkem768", "mlkem768x25519", "secp256r1_mlkem768", "p256mlkem768", "secp384r1_mlkem1024",
	"p384mlkem1024", "ml-kem-512", "ml-kem-768", "ml-kem-1024", "x25519kyber768",
}

ffdhe_bits := {"ffdhe2048": 2048, "ffdhe3072": 3072, "ffdhe4096": 4096, "ffdhe6144": 6144, "ffdhe8192": 8192}

ssh_pq_kex := {
	"mlkem768x25519-sha256", "mlkem768nistp256-sha256", "mlkem1024nistp384-sha384",
	"sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com",
}

ssh_legacy := {
	"kex": {
		"diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1", "diffie-hellman-group-exchange-sha1",
		"rsa1024-sha1", "gss-group1-sha1-", "gss-group14-sha1-", "gss-gex-sha1-",
	},
	"ciphers": {
		"3des-cbc", "des-cbc", "blowfish-cbc", "cast128-cbc", "arcfour", "arcfour128", "arcfour256",
		"aes128-cbc", "aes192-cbc", "aes256-cbc", "rijndael-cbc@lysator.liu.se", "none",
	},
	"macs": {
		"hmac-md5", "hmac-md5-96", "hmac-md5-etm@openssh.com", "hmac-md5-96-etm@openssh.com",
		"hmac-sha1", "hmac-sha1-96", "hmac-sha1-etm@openssh.com", "hmac-sha1-96-etm@openssh.com",
		"umac-64@openssh.com", "umac-64-etm@openssh.com", "hmac-ripemd160", "hmac-ripemd160@openssh.com",
		"hmac-ripemd160-etm@openssh.com", "none",
	},
	"host_key_algorithms": {"ssh-dss", "ssh-rsa", "ssh-dss-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com"},
}

# --- canonical names -----------------------------------------------------------------------------

# Upper case with '_', ' ' and '/' turned into '-'.
normal_name(name) := replace(replace(replace(upper(trim_space(name)), "_", "-"), " ", "-"), "/", "-")

# The canonical family of an algorithm name, or "" when the name says nothing known.
family_of(name) := fams[0] if {
	n := normal_name(name)
	fams := [fam | some pair in family_prefixes; startswith(n, pair[0]); fam := pair[1]]
	count(fams) > 0
} else := ""

# Signature-scheme names: "SHA512withRSA", "sha256WithRSAEncryption", "ecdsa-with-SHA384".
scheme_parts(name) := [trim(parts[0], "-"), trim(parts[1], "-")] if {
	parts := split(normal_name(name), "WITH")
	count(parts) == 2
}

is_hash_family(fam) if fam in {"MD5", "MD4", "MD2", "SHA-1", "SHA-2", "SHA-3"}

# {"family", "hash"} of a signature-scheme name, whichever side the hash is written on.
scheme(name) := {"family": family_of(parts[1]), "hash": family_of(parts[0])} if {
	parts := scheme_parts(name)
	is_hash_family(family_of(parts[0]))
} else := {"family": family_of(parts[0]), "hash": family_of(parts[1])} if {
	parts := scheme_parts(name)
	is_hash_family(family_of(parts[1]))
}

oid_family(oid) := oids[oid].family

oid_family(oid) := fams[0] if {
	not oids[oid]
	fams := [fam | some pair in oid_prefixes; startswith(oid, pair[0]); fam := pair[1]]
	count(fams) > 0
}

# A curve name normalised for curve_bits: "nist/P-256" -> "p-256", "secg/secp256r1" -> "secp256r1".
normal_curve(name) := lower(parts[count(parts) - 1]) if {
	parts := split(trim_space(name), "/")
}

curve_size(name) := curve_bits[normal_curve(name)]

# TLS versions in any spelling ("TLSv1", "TLSv1.1", "TLS1_2", "1.3", "SSLv3") -> "SSLv2" | "SSLv3" | "1.0" ... "1.3".
tls_version(raw) := v if {
	s := replace(replace(lower(trim_space(raw)), "_", "."), " ", "")
	not startswith(s, "ssl")
	t := trim_prefix(trim_prefix(trim_prefix(s, "tlsv"), "tls"), "v")
	v := _short_version(t)
}

tls_version(raw) := "SSLv3" if {
	s := lower(trim_space(raw))
	s in {"sslv3", "ssl3", "ssl3.0", "sslv3.0", "ssl 3.0"}
}

tls_version(raw) := "SSLv2" if {
	s := lower(trim_space(raw))
	s in {"sslv2", "ssl2", "ssl2.0", "sslv2.0", "ssl 2.0"}
}

_short_version(t) := "1.0" if t in {"1", "1.0"}

_short_version(t) := t if t in {"1.1", "1.2", "1.3"}

legacy_tls_versions := {"SSLv2", "SSLv3", "1.0", "1.1"}

# A list property "a,b, c" (or a JSON-free space list) as trimmed, non-empty items.
list_items(value) := [item |
	some raw in split(value, ",")
	item := trim_space(raw)
	item != ""
]

# Cipher-suite name tokens, IANA (TLS_RSA_WITH_RC4_128_SHA) or OpenSSL (ECDHE-RSA-DES-CBC3-SHA).
suite_tokens(name) := split(normal_name(name), "-")

legacy_suite_tokens := {"RC4", "3DES", "DES", "DES40", "DES-CBC3", "NULL", "ENULL", "EXPORT", "EXPORT40", "EXP", "EXP1024", "ANON", "ADH", "AECDH", "RC2", "IDEA", "MD5"}

is_legacy_suite(name) if {
	some token in suite_tokens(name)
	token in legacy_suite_tokens
}

aead_suite_tokens := {"GCM", "CCM", "CCM8", "CHACHA20", "POLY1305"}

is_cbc_suite(name) if {
	not is_legacy_suite(name)
	tokens := suite_tokens(name)
	"CBC" in tokens
}

# OpenSSL names leave CBC implicit: a block cipher with no AEAD mode (ECDHE-RSA-AES128-SHA256).
is_cbc_suite(name) if {
	not is_legacy_suite(name)
	tokens := suite_tokens(name)
	not "WITH" in tokens
	some token in tokens
	strings.any_prefix_match(token, {"AES", "CAMELLIA", "ARIA", "SEED"})
	count({t | some t in tokens; t in aead_suite_tokens}) == 0
}

is_number_string(s) if regex.match(`^[0-9]+$`, s)

rfc3339_pattern := `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`

# A timestamp as nanoseconds since the epoch; undefined (never an error) when it is not RFC 3339.
timestamp_ns(value) := time.parse_rfc3339_ns(value) if {
	is_string(value)
	regex.match(rfc3339_pattern, value)
}
