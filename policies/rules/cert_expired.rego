# cert-expired: certificates past their notValidAfter at evaluation time.
package carnot.rules.cert_expired


not_after_ns(c) := time.parse_rfc3339_ns(c.not_after) if c.not_after != null

violations contains {"bom_ref": c.ref, "message": msg} if {
	some c in data.carnot.assets.certificates
	not_after_ns(c) < data.carnot.config.now_ns
	msg := sprintf("certificate '%s' expired on %s", [c.subject, c.not_after])
}
