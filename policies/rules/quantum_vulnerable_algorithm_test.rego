package carnot.rules.quantum_vulnerable_algorithm_test

import data.carnot.rules.quantum_vulnerable_algorithm.violations

test_violation_ecdh_algorithm_and_rsa_key if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.algorithm("a1", "ECDH-P-256", {"algorithmFamily": "ECDH", "primitive": "key-agree"}, {}),
		data.carnot.testing.key("k1", "server.key", {"type": "private-key", "size": 3072}, {"carnot:algorithm": "RSA"}),
	])
	data.carnot.testing.refs(result) == {"a1", "k1"}
}

test_compliant_ml_kem_ml_dsa_and_aes if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.algorithm("a1", "ML-KEM-768", {"algorithmFamily": "ML-KEM", "primitive": "kem"}, {}),
		data.carnot.testing.algorithm("a2", "ML-DSA-65", {"primitive": "signature"}, {}),
		data.carnot.testing.algorithm("a3", "AES-256-GCM", {"primitive": "ae"}, {}),
	])
	count(result) == 0
}
