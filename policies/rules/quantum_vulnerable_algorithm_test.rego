package carnot.rules.quantum_vulnerable_algorithm_test

import data.carnot.rules.quantum_vulnerable_algorithm.violations

test_violation_ecdh_algorithm_and_rsa_key if {
	result := violations with input as data.carnot.testing.assets({
		"algorithms": [data.carnot.testing.algorithm({"ref": "a1", "family": "ECDH"})],
		"keys": [data.carnot.testing.key({"ref": "k1", "family": "RSA", "bits": 3072})],
	})
	data.carnot.testing.refs(result) == {"a1", "k1"}
}

test_compliant_ml_kem_ml_dsa_and_aes if {
	result := violations with input as data.carnot.testing.assets({"algorithms": [
		data.carnot.testing.algorithm({"ref": "a1", "family": "ML-KEM"}),
		data.carnot.testing.algorithm({"ref": "a2", "family": "ML-DSA"}),
		data.carnot.testing.algorithm({"ref": "a3", "family": "AES", "bits": 256}),
	]})
	count(result) == 0
}
