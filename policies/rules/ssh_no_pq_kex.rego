# ssh-no-pq-kex: SSH key exchange lists without a post-quantum hybrid.
package carnot.rules.ssh_no_pq_kex

import data.carnot.assets
import data.carnot.lib.crypto

violations contains {"bom_ref": s.ref, "message": msg} if {
	some s in assets.ssh
	count(s.kex) > 0
	count([k | some k in s.kex; k in crypto.ssh_pq_kex]) == 0
	msg := sprintf("SSH '%s' has no post-quantum key exchange (offers %s)", [s.name, concat(", ", s.kex)])
}
