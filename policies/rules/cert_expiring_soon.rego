# cert-expiring-soon: certificates whose notValidAfter falls within the profile's warning window.
package carnot.rules.cert_expiring_soon


days := data.carnot.config.settings.cert_expiry_warning_days

not_after_ns(c) := time.parse_rfc3339_ns(c.not_after) if c.not_after != null

violations contains {"bom_ref": c.ref, "message": msg} if {
	some c in data.carnot.assets.certificates
	not_after := not_after_ns(c)
	not_after >= data.carnot.config.now_ns
	not_after < data.carnot.config.now_ns + (days * data.carnot.config.day_ns)
	msg := sprintf("certificate '%s' expires on %s, within %d days", [c.subject, c.not_after, days])
}
