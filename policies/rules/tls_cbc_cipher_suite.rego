# tls-cbc-cipher-suite: CBC-mode suites in TLS 1.2 configurations (enabled by the strict profile).
package carnot.rules.tls_cbc_cipher_suite


violations contains {"bom_ref": p.ref, "message": msg} if {
	some p in data.carnot.assets.tls
	cbc := [s | some s in p.suites; data.carnot.lib.crypto.is_cbc_suite(s)]
	count(cbc) > 0
	msg := sprintf("TLS '%s' offers CBC-mode cipher suites: %s", [p.name, concat(", ", cbc)])
}
