# weak-dh-key: finite-field Diffie-Hellman below the profile's dh_min_bits, in keys, algorithms and TLS groups.
package carnot.rules.weak_dh_key


min_bits := data.carnot.config.settings.dh_min_bits

violations contains {"bom_ref": a.ref, "message": msg} if {
	some a in array.concat(data.carnot.assets.algorithms, data.carnot.assets.keys)
	a.family == "DH"
	a.bits != null
	a.bits < min_bits
	msg := sprintf("Diffie-Hellman '%s' uses a %d-bit group, below the %d-bit minimum", [a.name, a.bits, min_bits])
}

violations contains {"bom_ref": p.ref, "message": msg} if {
	some p in data.carnot.assets.tls
	small := [g.name | some g in p.groups; g.ffdhe_bits != null; g.ffdhe_bits < min_bits]
	count(small) > 0
	msg := sprintf("TLS '%s' offers finite-field groups below %d bits: %s", [p.name, min_bits, concat(", ", small)])
}
