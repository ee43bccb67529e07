package carnot.rules.weak_dh_key_test

import data.carnot.rules.weak_dh_key.violations

test_violation_dh_1024_key if {
	result := violations with input as data.carnot.testing.assets({"keys": [data.carnot.testing.key({"ref": "k1", "family": "DH", "bits": 1024})]})
	data.carnot.testing.refs(result) == {"k1"}
}

test_violation_ffdhe2048_group_in_strict_profile if {
	groups := [object.union(data.carnot.testing.group("ffdhe2048", false), {"ffdhe_bits": 2048}), data.carnot.testing.group("x25519", false)]
	result := violations with input as data.carnot.testing.assets({"tls": [data.carnot.testing.tls({"ref": "p1", "groups": groups})]})
		with data.carnot.run as data.carnot.testing.run("strict", "2026-01-01T00:00:00Z")
	data.carnot.testing.refs(result) == {"p1"}
}

test_compliant_dh_3072_and_ffdhe3072 if {
	result := violations with input as data.carnot.testing.assets({
		"keys": [data.carnot.testing.key({"ref": "k1", "family": "DH", "bits": 3072})],
		"tls": [data.carnot.testing.tls({"ref": "p1", "groups": [object.union(data.carnot.testing.group("ffdhe3072", false), {"ffdhe_bits": 3072})]})],
	})
		with data.carnot.run as data.carnot.testing.run("strict", "2026-01-01T00:00:00Z")
	count(result) == 0
}
