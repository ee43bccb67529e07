package carnot.rules.weak_symmetric_key_test

import data.carnot.rules.weak_symmetric_key.violations

test_violation_aes_128_in_strict_profile if {
	result := violations with input as data.carnot.testing.assets({"algorithms": [data.carnot.testing.algorithm({"ref": "a1", "family": "AES", "bits": 128})]})
		with data.carnot.run as data.carnot.testing.run("strict", "2026-01-01T00:00:00Z")
	data.carnot.testing.refs(result) == {"a1"}
}

test_violation_64_bit_secret_key if {
	result := violations with input as data.carnot.testing.assets({"keys": [data.carnot.testing.key({"ref": "k1", "type": "secret-key", "bits": 64})]})
	data.carnot.testing.refs(result) == {"k1"}
}

test_compliant_aes_128_in_balanced_and_aes_256_in_strict if {
	balanced := violations with input as data.carnot.testing.assets({"algorithms": [data.carnot.testing.algorithm({"ref": "a1", "family": "AES", "bits": 128})]})
		with data.carnot.run as data.carnot.testing.run("balanced", "2026-01-01T00:00:00Z")
	strict := violations with input as data.carnot.testing.assets({"algorithms": [data.carnot.testing.algorithm({"ref": "a2", "family": "AES", "bits": 256})]})
		with data.carnot.run as data.carnot.testing.run("strict", "2026-01-01T00:00:00Z")
	count(balanced) + count(strict) == 0
}
