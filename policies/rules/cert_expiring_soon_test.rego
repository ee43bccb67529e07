package carnot.rules.cert_expiring_soon_test

import data.carnot.rules.cert_expiring_soon.violations

test_violation_expires_in_ten_days if {
	result := violations with input as data.carnot.testing.assets({"certificates": [data.carnot.testing.certificate({"ref": "c1", "not_after": "2026-01-11T00:00:00Z"})]})
		with data.carnot.run as data.carnot.testing.run("balanced", "2026-01-01T00:00:00Z")
	data.carnot.testing.refs(result) == {"c1"}
}

test_compliant_outside_window_or_already_expired if {
	result := violations with input as data.carnot.testing.assets({"certificates": [
		data.carnot.testing.certificate({"ref": "c1", "not_after": "2026-03-01T00:00:00Z"}),
		data.carnot.testing.certificate({"ref": "c2", "not_after": "2025-01-01T00:00:00Z"}),
	]})
		with data.carnot.run as data.carnot.testing.run("balanced", "2026-01-01T00:00:00Z")
	count(result) == 0
}

test_compliant_dev_window_is_seven_days if {
	result := violations with input as data.carnot.testing.assets({"certificates": [data.carnot.testing.certificate({"ref": "c1", "not_after": "2026-01-11T00:00:00Z"})]})
		with data.carnot.run as data.carnot.testing.run("dev", "2026-01-01T00:00:00Z")
	count(result) == 0
}
