package carnot.rules.weak_ec_curve_test

import data.carnot.rules.weak_ec_curve.violations

test_violation_p192_key_and_tls_group if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.key("k1", "ec key", {"size": 192}, {"carnot:algorithm": "ECDSA", "carnot:curve": "secp192r1"}),
		data.carnot.testing.protocol("p1", "tls", {"type": "tls"}, {"carnot:tls:groups": "sect163k1,x25519"}),
	])
	data.carnot.testing.refs(result) == {"k1", "p1"}
}

test_violation_p224_in_strict_profile if {
	result := violations with input as data.carnot.testing.cbom([data.carnot.testing.algorithm("a1", "ECDH", {"curve": "nist/P-224"}, {})])
		with data.carnot.run as data.carnot.testing.run("strict", "2026-01-01T00:00:00Z")
	data.carnot.testing.refs(result) == {"a1"}
}

test_compliant_p256_and_x25519 if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.algorithm("a1", "ECDH-P-256", {"ellipticCurve": "nist/P-256"}, {}),
		data.carnot.testing.protocol("p1", "tls", {"type": "tls"}, {"carnot:tls:groups": "x25519,secp256r1"}),
	])
		with data.carnot.run as data.carnot.testing.run("strict", "2026-01-01T00:00:00Z")
	count(result) == 0
}
