package carnot.rules.weak_rsa_key_test

import data.carnot.rules.weak_rsa_key.violations

test_violation_rsa_1024_key if {
	result := violations with input as data.carnot.testing.assets({"keys": [data.carnot.testing.key({"ref": "k1", "family": "RSA", "bits": 1024})]})
	data.carnot.testing.refs(result) == {"k1"}
}

test_violation_rsa_2048_in_strict_profile if {
	result := violations with input as data.carnot.testing.assets({"algorithms": [data.carnot.testing.algorithm({"ref": "a1", "family": "RSA", "bits": 2048})]})
		with data.carnot.run as data.carnot.testing.run("strict", "2026-01-01T00:00:00Z")
	data.carnot.testing.refs(result) == {"a1"}
}

test_violation_certificate_key_from_properties if {
	result := violations with input as data.carnot.testing.assets({"certificates": [data.carnot.testing.certificate({"ref": "c1", "key": {"family": "RSA", "bits": 1024}})]})
	data.carnot.testing.refs(result) == {"c1"}
}

test_compliant_rsa_2048_in_balanced_profile if {
	result := violations with input as data.carnot.testing.assets({
		"keys": [data.carnot.testing.key({"ref": "k1", "family": "RSA", "bits": 2048})],
		"algorithms": [data.carnot.testing.algorithm({"ref": "a1", "family": "RSA", "bits": 3072})],
	})
		with data.carnot.run as data.carnot.testing.run("balanced", "2026-01-01T00:00:00Z")
	count(result) == 0
}

test_compliant_certificate_key_judged_through_its_own_asset if {
	result := violations with input as data.carnot.testing.assets({"certificates": [data.carnot.testing.certificate({"ref": "c1", "key": {"family": "RSA", "bits": 1024, "from_ref": true}})]})
	count(result) == 0
}
