package carnot.rules.cert_expired_test

import data.carnot.rules.cert_expired.violations

test_violation_expired_yesterday if {
	result := violations with input as data.carnot.testing.assets({"certificates": [data.carnot.testing.certificate({"ref": "c1", "not_after": "2025-12-31T00:00:00Z"})]})
		with data.carnot.run as data.carnot.testing.run("balanced", "2026-01-01T00:00:00Z")
	data.carnot.testing.refs(result) == {"c1"}
}

test_compliant_still_valid_or_no_date if {
	result := violations with input as data.carnot.testing.assets({"certificates": [
		data.carnot.testing.certificate({"ref": "c1", "not_after": "2026-06-01T00:00:00Z"}),
		data.carnot.testing.certificate({"ref": "c2"}),
	]})
		with data.carnot.run as data.carnot.testing.run("balanced", "2026-01-01T00:00:00Z")
	count(result) == 0
}
