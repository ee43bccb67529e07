package carnot.rules.cloud_key_untagged_test

import data.carnot.rules.cloud_key_untagged.violations

test_violation_untagged_kms_key if {
	result := violations with input as data.carnot.testing.assets({"keys": [data.carnot.testing.key({"ref": "k1", "aws": {"service": "kms", "tagged": false}})]})
	data.carnot.testing.refs(result) == {"k1"}
}

test_compliant_tagged_or_not_a_cloud_key if {
	result := violations with input as data.carnot.testing.assets({"keys": [
		data.carnot.testing.key({"ref": "k1", "aws": {"service": "kms", "tagged": true}}),
		data.carnot.testing.key({"ref": "k2", "family": "RSA", "bits": 2048}),
	]})
	count(result) == 0
}
