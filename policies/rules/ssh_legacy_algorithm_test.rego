package carnot.rules.ssh_legacy_algorithm_test

import data.carnot.rules.ssh_legacy_algorithm.violations

test_violation_sha1_kex_cbc_cipher_md5_mac_dss_host_key if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.protocol("s1", "sshd_config", {"type": "ssh"}, {"carnot:ssh:kex": "diffie-hellman-group1-sha1"}),
		data.carnot.testing.protocol("s2", "sshd_config", {"type": "ssh"}, {"carnot:ssh:ciphers": "aes128-ctr,+3des-cbc"}),
		data.carnot.testing.protocol("s3", "sshd_config", {"type": "ssh"}, {"carnot:ssh:macs": "hmac-md5"}),
		data.carnot.testing.protocol("s4", "sshd_config", {"type": "ssh"}, {"carnot:ssh:host_key_algorithms": "ssh-dss"}),
	])
	data.carnot.testing.refs(result) == {"s1", "s2", "s3", "s4"}
}

test_compliant_modern_lists_and_removals if {
	result := violations with input as data.carnot.testing.cbom([data.carnot.testing.protocol("s1", "sshd_config", {"type": "ssh"}, {
		"carnot:ssh:kex": "mlkem768x25519-sha256,curve25519-sha256",
		"carnot:ssh:ciphers": "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,-aes128-cbc",
		"carnot:ssh:macs": "hmac-sha2-256-etm@openssh.com",
		"carnot:ssh:host_key_algorithms": "ssh-ed25519,rsa-sha2-512",
	})])
	count(result) == 0
}
