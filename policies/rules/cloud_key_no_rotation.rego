# cloud-key-no-rotation: customer-managed symmetric cloud keys with automatic rotation off.
package carnot.rules.cloud_key_no_rotation


symmetric(k) if k.aws.key_spec == "SYMMETRIC_DEFAULT"

symmetric(k) if {
	k.aws.key_spec == null
	k.type == "secret-key"
}

inactive_states := {"PendingDeletion", "Disabled", "PendingImport", "Unavailable"}

violations contains {"bom_ref": k.ref, "message": msg} if {
	some k in data.carnot.assets.keys
	k.aws.key_manager == "CUSTOMER"
	symmetric(k)
	k.aws.rotation_enabled == false
	not k.aws.key_state in inactive_states
	msg := sprintf("customer-managed symmetric key '%s' has automatic rotation off", [k.name])
}
