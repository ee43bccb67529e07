# ssh-legacy-algorithm: deprecated SSH key exchange, ciphers, MACs and host key algorithms.
package carnot.rules.ssh_legacy_algorithm


is_legacy(list_name, item) if item in data.carnot.lib.crypto.ssh_legacy[list_name]

# GSS-API key exchange names carry a suffix after the listed prefix.
is_legacy("kex", item) if {
	some prefix in data.carnot.lib.crypto.ssh_legacy.kex
	endswith(prefix, "-")
	startswith(item, prefix)
}

violations contains {"bom_ref": s.ref, "message": msg} if {
	some s in data.carnot.assets.ssh
	legacy := [sprintf("%s %s", [list_name, item]) |
		some list_name in ["kex", "ciphers", "macs", "host_key_algorithms"]
		some item in s[list_name]
		is_legacy(list_name, item)
	]
	count(legacy) > 0
	verb := {true: "negotiated", false: "allows"}[object.get(s, "observed", false)]
	msg := sprintf("SSH '%s' %s legacy algorithms: %s", [s.name, verb, concat(", ", legacy)])
}
