package carnot.rules.weak_dh_key_test

import data.carnot.rules.weak_dh_key.violations

test_violation_dh_1024_key if {
	result := violations with input as data.carnot.testing.cbom([data.carnot.testing.key("k1", "dh", {"size": 1024}, {"carnot:algorithm": "DH"})])
	data.carnot.testing.refs(result) == {"k1"}
}

test_violation_ffdhe2048_group_in_strict_profile if {
	result := violations with input as data.carnot.testing.cbom([data.carnot.testing.protocol("p1", "nginx", {"type": "tls"}, {"carnot:tls:groups": "ffdhe2048,x25519"})])
		with data.carnot.run as data.carnot.testing.run("strict", "2026-01-01T00:00:00Z")
	data.carnot.testing.refs(result) == {"p1"}
}

test_compliant_dh_3072_and_ffdhe3072 if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.key("k1", "dh", {"size": 3072}, {"carnot:algorithm": "DH"}),
		data.carnot.testing.protocol("p1", "nginx", {"type": "tls"}, {"carnot:tls:groups": "ffdhe3072"}),
	])
		with data.carnot.run as data.carnot.testing.run("strict", "2026-01-01T00:00:00Z")
	count(result) == 0
}
