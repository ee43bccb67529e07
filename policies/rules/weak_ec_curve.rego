# weak-ec-curve: elliptic curves below the profile's ec_min_bits, in keys, algorithms, certificates and TLS groups.
package carnot.rules.weak_ec_curve


min_bits := data.carnot.config.settings.ec_min_bits

violations contains {"bom_ref": a.ref, "message": msg} if {
	some a in array.concat(data.carnot.assets.algorithms, data.carnot.assets.keys)
	a.curve_bits != null
	a.curve_bits < min_bits
	msg := sprintf("'%s' uses curve %s (%d bits), below the %d-bit minimum", [a.name, a.curve, a.curve_bits, min_bits])
}

violations contains {"bom_ref": c.ref, "message": msg} if {
	some c in data.carnot.assets.certificates
	not c.key.from_ref
	c.key.curve_bits != null
	c.key.curve_bits < min_bits
	msg := sprintf("certificate '%s' has a key on curve %s, below the %d-bit minimum", [c.subject, c.key.curve, min_bits])
}

# Configurations and clients: every curve they offer. A server observed at runtime is judged by
# the curve it agreed to, not by what its clients merely offered.
violations contains {"bom_ref": p.ref, "message": msg} if {
	some p in data.carnot.assets.tls
	p.role != "server"
	small := [g.name | some g in p.groups; g.ec_bits != null; g.ec_bits < min_bits]
	count(small) > 0
	msg := sprintf("TLS '%s' offers curves below %d bits: %s", [p.name, min_bits, concat(", ", small)])
}

violations contains {"bom_ref": p.ref, "message": msg} if {
	some p in data.carnot.assets.tls
	p.role == "server"
	p.negotiated_group.ec_bits != null
	p.negotiated_group.ec_bits < min_bits
	msg := sprintf("TLS server '%s' agreed to curve %s, below %d bits", [p.name, p.negotiated_group.name, min_bits])
}
