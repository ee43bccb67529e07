# weak-symmetric-key: symmetric ciphers and secret keys below the profile's symmetric_min_bits.
package carnot.rules.weak_symmetric_key

import data.carnot.assets
import data.carnot.config
import data.carnot.lib.crypto

min_bits := config.settings.symmetric_min_bits

violations contains {"bom_ref": a.ref, "message": msg} if {
	some a in assets.algorithms
	a.family in crypto.symmetric_ciphers
	a.bits != null
	a.bits < min_bits
	msg := sprintf("%s '%s' uses a %d-bit key, below the %d-bit minimum (Grover halves it against a quantum attacker)", [a.family, a.name, a.bits, min_bits])
}

violations contains {"bom_ref": k.ref, "message": msg} if {
	some k in assets.keys
	k.type == "secret-key"
	not k.family in crypto.legacy_ciphers
	k.family != "HMAC"
	k.bits != null
	k.bits < min_bits
	msg := sprintf("secret key '%s' is %d bits, below the %d-bit minimum", [k.name, k.bits, min_bits])
}
