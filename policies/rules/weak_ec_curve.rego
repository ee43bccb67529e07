# weak-ec-curve: elliptic curves below the profile's ec_min_bits, in keys, algorithms, certificates and TLS groups.
package carnot.rules.weak_ec_curve

import data.carnot.assets
import data.carnot.config
import data.carnot.lib.crypto

min_bits := config.settings.ec_min_bits

violations contains {"bom_ref": a.ref, "message": msg} if {
	some a in array.concat(assets.algorithms, assets.keys)
	a.curve != null
	data.carnot.lib.crypto.curve_size(a.curve) < min_bits
	msg := sprintf("'%s' uses curve %s (%d bits), below the %d-bit minimum", [a.name, a.curve, data.carnot.lib.crypto.curve_size(a.curve), min_bits])
}

violations contains {"bom_ref": c.ref, "message": msg} if {
	some c in assets.certificates
	not c.key.from_ref
	c.key.curve != null
	data.carnot.lib.crypto.curve_size(c.key.curve) < min_bits
	msg := sprintf("certificate '%s' has a key on curve %s, below the %d-bit minimum", [c.subject, c.key.curve, min_bits])
}

violations contains {"bom_ref": p.ref, "message": msg} if {
	some p in assets.tls
	small := [g | some g in p.groups; data.carnot.lib.crypto.curve_size(g) < min_bits]
	count(small) > 0
	msg := sprintf("TLS '%s' offers curves below %d bits: %s", [p.name, min_bits, concat(", ", small)])
}
