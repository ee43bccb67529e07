# legacy-cipher: RC4, DES, 3DES and friends as algorithms or keys, and legacy TLS cipher suites.
package carnot.rules.legacy_cipher


violations contains {"bom_ref": a.ref, "message": msg} if {
	some a in array.concat(data.carnot.assets.algorithms, data.carnot.assets.keys)
	a.family in data.carnot.lib.crypto.legacy_ciphers
	msg := sprintf("legacy cipher %s in use ('%s')", [a.family, a.name])
}

violations contains {"bom_ref": p.ref, "message": msg} if {
	some p in data.carnot.assets.tls
	legacy := [s | some s in p.suites; data.carnot.lib.crypto.is_legacy_suite(s)]
	count(legacy) > 0
	msg := sprintf("TLS '%s' offers legacy cipher suites: %s", [p.name, concat(", ", legacy)])
}
