# cert-quantum-vulnerable-signature: classical signatures on certificates valid beyond the profile's deadline.
package carnot.rules.cert_quantum_vulnerable_signature


deadline := data.carnot.config.settings.pq_signature_deadline

# Valid beyond the deadline day, in UTC.
deadline_end_ns := data.carnot.config.date_ns(deadline) + data.carnot.config.day_ns

classical(c) := c.signature.family if {
	c.signature.family in data.carnot.lib.crypto.quantum_vulnerable
} else := c.key.family if {
	c.key.family in data.carnot.lib.crypto.quantum_vulnerable
}

not_after_ns(c) := time.parse_rfc3339_ns(c.not_after) if c.not_after != null

violations contains {"bom_ref": c.ref, "message": msg} if {
	some c in data.carnot.assets.certificates
	not_after := not_after_ns(c)
	not_after >= deadline_end_ns
	family := classical(c)
	msg := sprintf("certificate '%s' uses quantum-vulnerable %s and is valid until %s, beyond %s", [c.subject, family, c.not_after, deadline])
}
