# cert-expiring-soon: certificates whose notValidAfter falls within the profile's warning window.
package carnot.rules.cert_expiring_soon

import data.carnot.assets
import data.carnot.config
import data.carnot.lib.crypto

days := config.settings.cert_expiry_warning_days

violations contains {"bom_ref": c.ref, "message": msg} if {
	some c in assets.certificates
	not_after := data.carnot.lib.crypto.timestamp_ns(c.not_after)
	not_after >= config.now_ns
	not_after < config.now_ns + (days * config.day_ns)
	msg := sprintf("certificate '%s' expires on %s, within %d days", [c.subject, c.not_after, days])
}
