# legacy-tls-version: SSL, TLS 1.0 or TLS 1.1 allowed or negotiated.
package carnot.rules.legacy_tls_version


violations contains {"bom_ref": p.ref, "message": msg} if {
	some p in data.carnot.assets.tls
	legacy := sort([v | some v in p.versions; v in data.carnot.lib.crypto.legacy_tls_versions])
	count(legacy) > 0
	msg := sprintf("TLS '%s' allows versions below TLS 1.2: %s", [p.name, concat(", ", legacy)])
}
