# cert-quantum-vulnerable-signature: classical signatures on certificates valid beyond the profile's deadline.
package carnot.rules.cert_quantum_vulnerable_signature

import data.carnot.assets
import data.carnot.config
import data.carnot.lib.crypto

deadline := config.settings.pq_signature_deadline

# Valid beyond the deadline day, in UTC.
deadline_end_ns := data.carnot.config.date_ns(deadline) + config.day_ns

classical(c) := c.signature.family if {
	c.signature.family in crypto.quantum_vulnerable
} else := c.key.family if {
	c.key.family in crypto.quantum_vulnerable
}

violations contains {"bom_ref": c.ref, "message": msg} if {
	some c in assets.certificates
	not_after := data.carnot.lib.crypto.timestamp_ns(c.not_after)
	not_after >= deadline_end_ns
	family := classical(c)
	msg := sprintf("certificate '%s' uses quantum-vulnerable %s and is valid until %s, beyond %s", [c.subject, family, c.not_after, deadline])
}
