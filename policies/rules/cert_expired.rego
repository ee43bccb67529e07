# cert-expired: certificates past their notValidAfter at evaluation time.
package carnot.rules.cert_expired

import data.carnot.assets
import data.carnot.config
import data.carnot.lib.crypto

violations contains {"bom_ref": c.ref, "message": msg} if {
	some c in assets.certificates
	data.carnot.lib.crypto.timestamp_ns(c.not_after) < config.now_ns
	msg := sprintf("certificate '%s' expired on %s", [c.subject, c.not_after])
}
