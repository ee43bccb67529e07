# legacy-hash: MD5, SHA-1, MD4, MD2 as algorithms, inside signature schemes, and as certificate signature hashes.
package carnot.rules.legacy_hash


violations contains {"bom_ref": a.ref, "message": msg} if {
	some a in data.carnot.assets.algorithms
	a.family in data.carnot.lib.crypto.legacy_hashes
	msg := sprintf("legacy hash %s in use ('%s')", [a.family, a.name])
}

violations contains {"bom_ref": a.ref, "message": msg} if {
	some a in data.carnot.assets.algorithms
	a.hash in data.carnot.lib.crypto.legacy_hashes
	msg := sprintf("signature scheme '%s' hashes with %s", [a.name, a.hash])
}

violations contains {"bom_ref": c.ref, "message": msg} if {
	some c in data.carnot.assets.certificates
	c.signature_hash in data.carnot.lib.crypto.legacy_hashes
	msg := sprintf("certificate '%s' is signed with %s", [c.subject, c.signature_hash])
}
