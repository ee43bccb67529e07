# weak-rsa-key: RSA moduli below the profile's rsa_min_bits.
package carnot.rules.weak_rsa_key


min_bits := data.carnot.config.settings.rsa_min_bits

violations contains {"bom_ref": a.ref, "message": msg} if {
	some a in data.carnot.assets.algorithms
	a.family == "RSA"
	a.bits != null
	a.bits < min_bits
	msg := sprintf("RSA algorithm '%s' uses a %d-bit key, below the %d-bit minimum", [a.name, a.bits, min_bits])
}

violations contains {"bom_ref": k.ref, "message": msg} if {
	some k in data.carnot.assets.keys
	k.family == "RSA"
	k.bits != null
	k.bits < min_bits
	msg := sprintf("RSA key '%s' is %d bits, below the %d-bit minimum", [k.name, k.bits, min_bits])
}

# A certificate whose key is its own asset is judged through that asset, not twice.
violations contains {"bom_ref": c.ref, "message": msg} if {
	some c in data.carnot.assets.certificates
	not c.key.from_ref
	c.key.family == "RSA"
	c.key.bits != null
	c.key.bits < min_bits
	msg := sprintf("certificate '%s' has a %d-bit RSA key, below the %d-bit minimum", [c.subject, c.key.bits, min_bits])
}
