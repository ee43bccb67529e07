package carnot.rules.cert_quantum_vulnerable_signature_test

import data.carnot.rules.cert_quantum_vulnerable_signature.violations

test_violation_rsa_and_ecdsa_certificates_valid_into_2031 if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.certificate("c1", "rsa", {"subjectName": "CN=rsa", "notValidAfter": "2031-01-01T00:00:00Z"}, {"carnot:cert:signature_algorithm": "sha256WithRSAEncryption"}),
		data.carnot.testing.certificate("c2", "ec", {"subjectName": "CN=ec", "notValidAfter": "2034-06-01T00:00:00Z"}, {"carnot:cert:public_key_algorithm": "EC", "carnot:cert:signature_algorithm": "ecdsa-with-SHA256"}),
	])
		with data.carnot.run as data.carnot.testing.run("balanced", "2026-01-01T00:00:00Z")
	data.carnot.testing.refs(result) == {"c1", "c2"}
}

test_compliant_ends_on_deadline_day_or_ml_dsa if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.certificate("c1", "rsa", {"subjectName": "CN=rsa", "notValidAfter": "2030-12-31T23:59:59Z"}, {"carnot:cert:signature_algorithm": "sha256WithRSAEncryption"}),
		data.carnot.testing.certificate("c2", "pq", {"subjectName": "CN=pq", "notValidAfter": "2036-01-01T00:00:00Z"}, {"carnot:cert:signature_algorithm": "ML-DSA-65", "carnot:cert:public_key_algorithm": "ML-DSA"}),
	])
		with data.carnot.run as data.carnot.testing.run("balanced", "2026-01-01T00:00:00Z")
	count(result) == 0
}

test_compliant_dev_profile_deadline_is_2035 if {
	result := violations with input as data.carnot.testing.cbom([data.carnot.testing.certificate("c1", "rsa", {"notValidAfter": "2034-01-01T00:00:00Z"}, {"carnot:cert:signature_algorithm": "sha256WithRSAEncryption"})])
		with data.carnot.run as data.carnot.testing.run("dev", "2026-01-01T00:00:00Z")
	count(result) == 0
}
