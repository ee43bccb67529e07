package carnot.rules.legacy_hash_test

import data.carnot.rules.legacy_hash.violations

test_violation_md5_algorithm_and_sha1_certificate if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.algorithm("a1", "MD5", {"primitive": "hash"}, {}),
		data.carnot.testing.certificate("c1", "old", {"subjectName": "CN=old"}, {"carnot:cert:signature_algorithm": "sha1WithRSAEncryption"}),
		data.carnot.testing.certificate("c2", "older", {"subjectName": "CN=older"}, {"carnot:cert:signature_hash": "SHA-1"}),
	])
	data.carnot.testing.refs(result) == {"a1", "c1", "c2"}
}

test_violation_sha1_signature_scheme_by_oid if {
	result := violations with input as data.carnot.testing.cbom([{
		"type": "cryptographic-asset", "bom-ref": "a1", "name": "sig",
		"cryptoProperties": {"assetType": "algorithm", "oid": "1.2.840.113549.1.1.5"},
	}])
	data.carnot.testing.refs(result) == {"a1"}
}

test_compliant_sha256_everywhere if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.algorithm("a1", "SHA-256", {"primitive": "hash"}, {}),
		data.carnot.testing.algorithm("a2", "SHA512withRSA", {"primitive": "signature"}, {}),
		data.carnot.testing.certificate("c1", "new", {"subjectName": "CN=new"}, {"carnot:cert:signature_algorithm": "ecdsa-with-SHA384"}),
	])
	count(result) == 0
}
