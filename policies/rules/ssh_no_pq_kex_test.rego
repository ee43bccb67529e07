package carnot.rules.ssh_no_pq_kex_test

import data.carnot.rules.ssh_no_pq_kex.violations

test_violation_classical_kex_only if {
	result := violations with input as data.carnot.testing.cbom([data.carnot.testing.protocol("s1", "sshd_config", {"type": "ssh"}, {"carnot:ssh:kex": "curve25519-sha256,ecdh-sha2-nistp256"})])
	data.carnot.testing.refs(result) == {"s1"}
}

test_compliant_mlkem_or_sntrup_offered if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.protocol("s1", "sshd_config", {"type": "ssh"}, {"carnot:ssh:kex": "mlkem768x25519-sha256,curve25519-sha256"}),
		data.carnot.testing.protocol("s2", "ssh_config", {"type": "ssh"}, {"carnot:ssh:kex": "+sntrup761x25519-sha512@openssh.com"}),
	])
	count(result) == 0
}
