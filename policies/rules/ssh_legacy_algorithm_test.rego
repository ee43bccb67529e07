package carnot.rules.ssh_legacy_algorithm_test

import data.carnot.rules.ssh_legacy_algorithm.violations

test_violation_sha1_kex_cbc_cipher_md5_mac_dss_host_key_gss_kex if {
	result := violations with input as data.carnot.testing.assets({"ssh": [
		data.carnot.testing.ssh({"ref": "s1", "kex": ["diffie-hellman-group1-sha1"]}),
		data.carnot.testing.ssh({"ref": "s2", "ciphers": ["aes128-ctr", "3des-cbc"]}),
		data.carnot.testing.ssh({"ref": "s3", "macs": ["hmac-md5"]}),
		data.carnot.testing.ssh({"ref": "s4", "host_key_algorithms": ["ssh-dss"]}),
		data.carnot.testing.ssh({"ref": "s5", "kex": ["gss-group1-sha1-toWM5Slw5Ew8Mqkay+al2g=="]}),
	]})
	data.carnot.testing.refs(result) == {"s1", "s2", "s3", "s4", "s5"}
}

test_compliant_modern_lists if {
	result := violations with input as data.carnot.testing.assets({"ssh": [data.carnot.testing.ssh({
		"ref": "s1",
		"kex": ["mlkem768x25519-sha256", "curve25519-sha256"],
		"ciphers": ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com"],
		"macs": ["hmac-sha2-256-etm@openssh.com"],
		"host_key_algorithms": ["ssh-ed25519", "rsa-sha2-512"],
	})]})
	count(result) == 0
}
