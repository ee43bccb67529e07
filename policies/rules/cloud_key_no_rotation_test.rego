package carnot.rules.cloud_key_no_rotation_test

import data.carnot.rules.cloud_key_no_rotation.violations

test_violation_customer_symmetric_key_without_rotation if {
	result := violations with input as data.carnot.testing.assets({"keys": [data.carnot.testing.key({"ref": "k1", "type": "secret-key", "aws": {
		"service": "kms", "key_manager": "CUSTOMER", "key_spec": "SYMMETRIC_DEFAULT", "rotation_enabled": false, "key_state": "Enabled",
	}})]})
	data.carnot.testing.refs(result) == {"k1"}
}

test_compliant_rotated_aws_managed_asymmetric_or_pending_deletion if {
	result := violations with input as data.carnot.testing.assets({"keys": [
		data.carnot.testing.key({"ref": "k1", "aws": {"key_manager": "CUSTOMER", "key_spec": "SYMMETRIC_DEFAULT", "rotation_enabled": true}}),
		data.carnot.testing.key({"ref": "k2", "aws": {"key_manager": "AWS", "key_spec": "SYMMETRIC_DEFAULT", "rotation_enabled": false}}),
		data.carnot.testing.key({"ref": "k3", "aws": {"key_manager": "CUSTOMER", "key_spec": "RSA_2048", "rotation_enabled": false}}),
		data.carnot.testing.key({"ref": "k4", "aws": {"key_manager": "CUSTOMER", "key_spec": "SYMMETRIC_DEFAULT", "rotation_enabled": false, "key_state": "PendingDeletion"}}),
	]})
	count(result) == 0
}
