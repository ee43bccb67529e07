package carnot.rules.ssh_no_pq_kex_test

import data.carnot.rules.ssh_no_pq_kex.violations

test_violation_classical_kex_only if {
	result := violations with input as data.carnot.testing.assets({"ssh": [data.carnot.testing.ssh({"ref": "s1", "kex": ["curve25519-sha256", "ecdh-sha2-nistp256"]})]})
	data.carnot.testing.refs(result) == {"s1"}
}

test_compliant_mlkem_or_sntrup_offered if {
	result := violations with input as data.carnot.testing.assets({"ssh": [
		data.carnot.testing.ssh({"ref": "s1", "kex": ["mlkem768x25519-sha256", "curve25519-sha256"]}),
		data.carnot.testing.ssh({"ref": "s2", "kex": ["sntrup761x25519-sha512@openssh.com"]}),
	]})
	count(result) == 0
}

test_violation_observed_session_negotiated_classical_kex if {
	result := violations with input as data.carnot.testing.assets({"ssh": [
		data.carnot.testing.ssh({"ref": "o1", "kex": ["curve25519-sha256"], "observed": true}),
		data.carnot.testing.ssh({"ref": "o2", "kex": ["mlkem768x25519-sha256"], "observed": true}),
	]})
	data.carnot.testing.refs(result) == {"o1"}
	some v in result
	contains(v.message, "negotiated the classical key exchange curve25519-sha256")
}
