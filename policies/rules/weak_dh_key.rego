# weak-dh-key: finite-field Diffie-Hellman below the profile's dh_min_bits, in keys, algorithms and TLS groups.
package carnot.rules.weak_dh_key

import data.carnot.assets
import data.carnot.config
import data.carnot.lib.crypto

min_bits := config.settings.dh_min_bits

violations contains {"bom_ref": a.ref, "message": msg} if {
	some a in array.concat(assets.algorithms, assets.keys)
	a.family == "DH"
	a.bits != null
	a.bits < min_bits
	msg := sprintf("Diffie-Hellman '%s' uses a %d-bit group, below the %d-bit minimum", [a.name, a.bits, min_bits])
}

violations contains {"bom_ref": p.ref, "message": msg} if {
	some p in assets.tls
	small := [g | some g in p.groups; crypto.ffdhe_bits[g] < min_bits]
	count(small) > 0
	msg := sprintf("TLS '%s' offers finite-field groups below %d bits: %s", [p.name, min_bits, concat(", ", small)])
}
