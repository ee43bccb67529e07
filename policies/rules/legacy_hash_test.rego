package carnot.rules.legacy_hash_test

import data.carnot.rules.legacy_hash.violations

test_violation_md5_algorithm_sha1_scheme_and_sha1_certificate if {
	result := violations with input as data.carnot.testing.assets({
		"algorithms": [data.carnot.testing.algorithm({"ref": "a1", "family": "MD5"}), data.carnot.testing.algorithm({"ref": "a2", "family": "RSA", "hash": "SHA-1"})],
		"certificates": [data.carnot.testing.certificate({"ref": "c1", "signature_hash": "SHA-1"})],
	})
	data.carnot.testing.refs(result) == {"a1", "a2", "c1"}
}

test_compliant_sha2_everywhere if {
	result := violations with input as data.carnot.testing.assets({
		"algorithms": [data.carnot.testing.algorithm({"ref": "a1", "family": "SHA-2"}), data.carnot.testing.algorithm({"ref": "a2", "family": "RSA", "hash": "SHA-2"})],
		"certificates": [data.carnot.testing.certificate({"ref": "c1", "signature_hash": "SHA-2"})],
	})
	count(result) == 0
}
