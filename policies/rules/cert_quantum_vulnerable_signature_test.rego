package carnot.rules.cert_quantum_vulnerable_signature_test

import data.carnot.rules.cert_quantum_vulnerable_signature.violations

test_violation_rsa_and_ecdsa_certificates_valid_into_2031 if {
	result := violations with input as data.carnot.testing.assets({"certificates": [
		data.carnot.testing.certificate({"ref": "c1", "not_after": "2031-01-01T00:00:00Z", "signature": {"family": "RSA", "hash": "SHA-2"}}),
		data.carnot.testing.certificate({"ref": "c2", "not_after": "2034-06-01T00:00:00Z", "key": {"family": "EC"}}),
	]})
		with data.carnot.run as data.carnot.testing.run("balanced", "2026-01-01T00:00:00Z")
	data.carnot.testing.refs(result) == {"c1", "c2"}
}

test_compliant_ends_on_deadline_day_or_ml_dsa if {
	result := violations with input as data.carnot.testing.assets({"certificates": [
		data.carnot.testing.certificate({"ref": "c1", "not_after": "2030-12-31T23:59:59Z", "signature": {"family": "RSA"}}),
		data.carnot.testing.certificate({"ref": "c2", "not_after": "2036-01-01T00:00:00Z", "signature": {"family": "ML-DSA"}, "key": {"family": "ML-DSA"}}),
	]})
		with data.carnot.run as data.carnot.testing.run("balanced", "2026-01-01T00:00:00Z")
	count(result) == 0
}

test_compliant_dev_profile_deadline_is_2035 if {
	result := violations with input as data.carnot.testing.assets({"certificates": [data.carnot.testing.certificate({"ref": "c1", "not_after": "2034-01-01T00:00:00Z", "signature": {"family": "RSA"}})]})
		with data.carnot.run as data.carnot.testing.run("dev", "2026-01-01T00:00:00Z")
	count(result) == 0
}
