# cloud-key-untagged: cloud keys recorded without ownership tags.
package carnot.rules.cloud_key_untagged


service(k) := k.aws.service if {
	k.aws.service != null
} else := "cloud"

violations contains {"bom_ref": k.ref, "message": msg} if {
	some k in data.carnot.assets.keys
	k.aws.tagged == false
	msg := sprintf("%s key '%s' has no owner, data class or shelf-life tags", [service(k), k.name])
}
