package carnot.rules.cloud_key_untagged_test

import data.carnot.rules.cloud_key_untagged.violations

test_violation_untagged_kms_key if {
	result := violations with input as data.carnot.testing.cbom([data.carnot.testing.key("k1", "alias/app", {"type": "secret-key", "size": 256}, {"carnot:aws:service": "kms", "carnot:aws:tagged": "false"})])
	data.carnot.testing.refs(result) == {"k1"}
}

test_compliant_tagged_or_not_a_cloud_key if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.key("k1", "alias/app", {"type": "secret-key"}, {"carnot:aws:service": "kms", "carnot:aws:tagged": "true", "carnot:tag:owner": "payments"}),
		data.carnot.testing.key("k2", "server.key", {"type": "private-key", "size": 2048}, {"carnot:algorithm": "RSA"}),
	])
	count(result) == 0
}
