# weak-symmetric-key: symmetric ciphers and secret keys below the profile's symmetric_min_bits.
package carnot.rules.weak_symmetric_key


min_bits := data.carnot.config.settings.symmetric_min_bits

violations contains {"bom_ref": a.ref, "message": msg} if {
	some a in data.carnot.assets.algorithms
	a.family in data.carnot.lib.crypto.symmetric_ciphers
	a.bits != null
	a.bits < min_bits
	msg := sprintf("%s '%s' uses a %d-bit key, below the %d-bit minimum (Grover halves it against a quantum attacker)", [a.family, a.name, a.bits, min_bits])
}

violations contains {"bom_ref": k.ref, "message": msg} if {
	some k in data.carnot.assets.keys
	k.type == "secret-key"
	not k.family in data.carnot.lib.crypto.legacy_ciphers
	k.family != "HMAC"
	k.bits != null
	k.bits < min_bits
	msg := sprintf("secret key '%s' is %d bits, below the %d-bit minimum", [k.name, k.bits, min_bits])
}
