package carnot.rules.weak_rsa_key_test

import data.carnot.rules.weak_rsa_key.violations

test_violation_rsa_1024_key if {
	result := violations with input as data.carnot.testing.cbom([data.carnot.testing.key("k1", "RSA-1024", {"type": "private-key", "size": 1024}, {"carnot:algorithm": "RSA"})])
	data.carnot.testing.refs(result) == {"k1"}
}

test_violation_rsa_2048_in_strict_profile if {
	result := violations with input as data.carnot.testing.cbom([data.carnot.testing.algorithm("a1", "RSA-2048", {"parameterSetIdentifier": "2048"}, {})])
		with data.carnot.run as data.carnot.testing.run("strict", "2026-01-01T00:00:00Z")
	data.carnot.testing.refs(result) == {"a1"}
}

test_violation_certificate_key_from_properties if {
	result := violations with input as data.carnot.testing.cbom([data.carnot.testing.certificate("c1", "old", {"subjectName": "CN=old"}, {"carnot:cert:public_key_algorithm": "RSA", "carnot:cert:public_key_bits": "1024"})])
	data.carnot.testing.refs(result) == {"c1"}
}

test_compliant_rsa_2048_in_balanced_profile if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.key("k1", "RSA-2048", {"size": 2048}, {"carnot:algorithm": "RSA"}),
		data.carnot.testing.algorithm("a1", "RSA-3072", {"parameterSetIdentifier": "3072"}, {}),
	])
		with data.carnot.run as data.carnot.testing.run("balanced", "2026-01-01T00:00:00Z")
	count(result) == 0
}

test_compliant_signature_scheme_hash_size_is_not_a_key_size if {
	result := violations with input as data.carnot.testing.cbom([data.carnot.testing.algorithm("a1", "SHA512withRSA", {"parameterSetIdentifier": "512"}, {})])
	count(result) == 0
}
