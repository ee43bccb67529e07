package carnot.rules.cloud_key_no_rotation_test

import data.carnot.rules.cloud_key_no_rotation.violations

test_violation_customer_symmetric_key_without_rotation if {
	result := violations with input as data.carnot.testing.cbom([data.carnot.testing.key("k1", "alias/app", {"type": "secret-key", "size": 256}, {
		"carnot:aws:service": "kms", "carnot:aws:key_manager": "CUSTOMER", "carnot:aws:key_spec": "SYMMETRIC_DEFAULT",
		"carnot:aws:rotation_enabled": "false", "carnot:aws:key_state": "Enabled",
	})])
	data.carnot.testing.refs(result) == {"k1"}
}

test_compliant_rotated_aws_managed_asymmetric_or_pending_deletion if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.key("k1", "rotated", {"type": "secret-key"}, {"carnot:aws:key_manager": "CUSTOMER", "carnot:aws:key_spec": "SYMMETRIC_DEFAULT", "carnot:aws:rotation_enabled": "true"}),
		data.carnot.testing.key("k2", "aws/s3", {"type": "secret-key"}, {"carnot:aws:key_manager": "AWS", "carnot:aws:key_spec": "SYMMETRIC_DEFAULT", "carnot:aws:rotation_enabled": "false"}),
		data.carnot.testing.key("k3", "signing", {"type": "private-key"}, {"carnot:aws:key_manager": "CUSTOMER", "carnot:aws:key_spec": "RSA_2048", "carnot:aws:rotation_enabled": "false"}),
		data.carnot.testing.key("k4", "doomed", {"type": "secret-key"}, {"carnot:aws:key_manager": "CUSTOMER", "carnot:aws:key_spec": "SYMMETRIC_DEFAULT", "carnot:aws:rotation_enabled": "false", "carnot:aws:key_state": "PendingDeletion"}),
	])
	count(result) == 0
}
