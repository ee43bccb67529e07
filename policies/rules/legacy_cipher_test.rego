package carnot.rules.legacy_cipher_test

import data.carnot.rules.legacy_cipher.violations

test_violation_3des_algorithm_and_rc4_suite if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.algorithm("a1", "DESede", {"primitive": "block-cipher"}, {}),
		data.carnot.testing.protocol("p1", "tls", {"type": "tls", "cipherSuites": [{"name": "TLS_RSA_WITH_RC4_128_SHA"}]}, {}),
		data.carnot.testing.protocol("p2", "nginx", {"type": "tls"}, {"carnot:tls:cipher_suites": "ECDHE-RSA-AES128-GCM-SHA256,DES-CBC3-SHA"}),
	])
	data.carnot.testing.refs(result) == {"a1", "p1", "p2"}
}

test_violation_null_and_export_suites if {
	result := violations with input as data.carnot.testing.cbom([data.carnot.testing.protocol("p1", "tls", {"type": "tls", "cipherSuites": [
		{"name": "TLS_RSA_WITH_NULL_SHA256"},
		{"name": "TLS_RSA_EXPORT_WITH_RC4_40_MD5"},
	]}, {})])
	data.carnot.testing.refs(result) == {"p1"}
}

test_compliant_aead_suites_and_openssl_exclusions if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.algorithm("a1", "AES-256-GCM", {}, {}),
		data.carnot.testing.protocol("p1", "nginx", {"type": "tls"}, {"carnot:tls:cipher_suites": "ECDHE+AESGCM:!aNULL:!MD5:!RC4,TLS_AES_128_GCM_SHA256"}),
	])
	count(result) == 0
}
