package carnot.rules.weak_ec_curve_test

import data.carnot.rules.weak_ec_curve.violations

test_violation_p192_key_and_sect163k1_tls_group if {
	result := violations with input as data.carnot.testing.assets({
		"keys": [data.carnot.testing.key({"ref": "k1", "family": "ECDSA", "curve": "secp192r1", "curve_bits": 192})],
		"tls": [data.carnot.testing.tls({"ref": "p1", "groups": [object.union(data.carnot.testing.group("sect163k1", false), {"ec_bits": 163})]})],
	})
	data.carnot.testing.refs(result) == {"k1", "p1"}
}

test_violation_p224_in_strict_profile if {
	result := violations with input as data.carnot.testing.assets({"algorithms": [data.carnot.testing.algorithm({"ref": "a1", "family": "ECDH", "curve": "nist/P-224", "curve_bits": 224})]})
		with data.carnot.run as data.carnot.testing.run("strict", "2026-01-01T00:00:00Z")
	data.carnot.testing.refs(result) == {"a1"}
}

test_compliant_p256_and_x25519 if {
	result := violations with input as data.carnot.testing.assets({
		"algorithms": [data.carnot.testing.algorithm({"ref": "a1", "family": "ECDH", "curve": "nist/P-256", "curve_bits": 256})],
		"tls": [data.carnot.testing.tls({"ref": "p1", "groups": [object.union(data.carnot.testing.group("x25519", false), {"ec_bits": 256})]})],
	})
		with data.carnot.run as data.carnot.testing.run("strict", "2026-01-01T00:00:00Z")
	count(result) == 0
}

test_a_server_is_judged_by_the_curve_it_agreed_to_not_by_what_a_client_offered if {
	weak := object.union(data.carnot.testing.group("secp192r1", false), {"ec_bits": 192})
	strong := object.union(data.carnot.testing.group("x25519", false), {"ec_bits": 256})
	result := violations with input as data.carnot.testing.assets({"tls": [
		data.carnot.testing.tls({"ref": "server-ok", "role": "server", "groups": [weak, strong], "negotiated_group": strong}),
		data.carnot.testing.tls({"ref": "server-weak", "role": "server", "groups": [weak, strong], "negotiated_group": weak}),
		data.carnot.testing.tls({"ref": "client", "role": "client", "groups": [weak, strong], "negotiated_group": strong}),
	]})
	data.carnot.testing.refs(result) == {"server-weak", "client"}
}
