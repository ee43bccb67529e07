# ssh-no-pq-kex: SSH key exchange lists without a post-quantum hybrid.
package carnot.rules.ssh_no_pq_kex


violations contains {"bom_ref": s.ref, "message": message(s)} if {
	some s in data.carnot.assets.ssh
	count(s.kex) > 0
	count([k | some k in s.kex; k in data.carnot.lib.crypto.ssh_pq_kex]) == 0
}

message(s) := sprintf("SSH '%s' has no post-quantum key exchange (offers %s)", [s.name, concat(", ", s.kex)]) if {
	not object.get(s, "observed", false)
}

message(s) := msg if {
	object.get(s, "observed", false)
	msg := sprintf("SSH session '%s' negotiated the classical key exchange %s: open to harvest-now-decrypt-later", [s.name, concat(", ", s.kex)])
}
