# What the policies hold against algorithms: which families are quantum-vulnerable or legacy,
# which TLS suites and SSH algorithms are deprecated. Facts (families, sizes) come from the input.
package carnot.lib.crypto

# Public-key algorithms broken by Shor's algorithm.
quantum_vulnerable := {"RSA", "DSA", "DH", "ECDH", "ECDSA", "EC", "ED25519", "ED448", "EDDSA", "X25519", "X448"}

legacy_hashes := {"MD5", "MD4", "MD2", "SHA-1"}

legacy_ciphers := {"RC4", "DES", "3DES", "RC2", "BLOWFISH", "IDEA", "CAST5"}

symmetric_ciphers := {"AES", "CAMELLIA", "CHACHA20", "ARIA", "SEED", "SM4"}

legacy_tls_versions := {"SSLv2", "SSLv3", "1.0", "1.1"}

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

# Cipher-suite name tokens, IANA (TLS_RSA_WITH_RC4_128_SHA) or OpenSSL (ECDHE-RSA-DES-CBC3-SHA).
suite_tokens(name) := split(replace(upper(name), "_", "-"), "-")

legacy_suite_tokens := {"RC4", "3DES", "DES", "DES40", "CBC3", "NULL", "ENULL", "EXPORT", "EXPORT40", "EXP", "EXP1024", "ANON", "ADH", "AECDH", "RC2", "IDEA", "MD5"}

is_legacy_suite(name) if {
	some token in suite_tokens(name)
	token in legacy_suite_tokens
}

aead_suite_tokens := {"GCM", "CCM", "CCM8", "CHACHA20", "POLY1305"}

block_cipher_prefixes := {"AES", "CAMELLIA", "ARIA", "SEED"}

is_cbc_suite(name) if {
	not is_legacy_suite(name)
	"CBC" in suite_tokens(name)
}

# OpenSSL names leave CBC implicit: a block cipher with no AEAD mode (ECDHE-RSA-AES128-SHA256).
is_cbc_suite(name) if {
	not is_legacy_suite(name)
	tokens := suite_tokens(name)
	not "WITH" in tokens
	some token in tokens
	some prefix in block_cipher_prefixes
	startswith(token, prefix)
	count({t | some t in tokens; t in aead_suite_tokens}) == 0
}
