package carnot.rules.legacy_cipher_test

import data.carnot.rules.legacy_cipher.violations

test_violation_3des_algorithm_rc4_suite_and_openssl_3des_suite if {
	result := violations with input as data.carnot.testing.assets({
		"algorithms": [data.carnot.testing.algorithm({"ref": "a1", "family": "3DES"})],
		"tls": [
			data.carnot.testing.tls({"ref": "p1", "suites": ["TLS_RSA_WITH_RC4_128_SHA"]}),
			data.carnot.testing.tls({"ref": "p2", "suites": ["ECDHE-RSA-AES128-GCM-SHA256", "DES-CBC3-SHA"]}),
		],
	})
	data.carnot.testing.refs(result) == {"a1", "p1", "p2"}
}

test_violation_null_and_export_suites if {
	result := violations with input as data.carnot.testing.assets({"tls": [
		data.carnot.testing.tls({"ref": "p1", "suites": ["TLS_RSA_WITH_NULL_SHA256"]}),
		data.carnot.testing.tls({"ref": "p2", "suites": ["TLS_RSA_EXPORT_WITH_RC4_40_MD5"]}),
	]})
	data.carnot.testing.refs(result) == {"p1", "p2"}
}

test_compliant_aead_suites_and_aes if {
	result := violations with input as data.carnot.testing.assets({
		"algorithms": [data.carnot.testing.algorithm({"ref": "a1", "family": "AES", "bits": 256})],
		"tls": [data.carnot.testing.tls({"ref": "p1", "suites": ["ECDHE+AESGCM", "TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]})],
	})
	count(result) == 0
}
