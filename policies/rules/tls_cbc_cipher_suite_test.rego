package carnot.rules.tls_cbc_cipher_suite_test

import data.carnot.rules.tls_cbc_cipher_suite.violations

test_violation_iana_and_openssl_cbc_suites if {
	result := violations with input as data.carnot.testing.assets({"tls": [
		data.carnot.testing.tls({"ref": "p1", "suites": ["TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"]}),
		data.carnot.testing.tls({"ref": "p2", "suites": ["ECDHE-RSA-AES256-SHA384"]}),
	]})
	data.carnot.testing.refs(result) == {"p1", "p2"}
}

test_compliant_aead_only if {
	result := violations with input as data.carnot.testing.assets({"tls": [data.carnot.testing.tls({"ref": "p1", "suites": [
		"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
	]})]})
	count(result) == 0
}
