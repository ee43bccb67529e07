package carnot.rules.tls_no_hybrid_pq_test

import data.carnot.rules.tls_no_hybrid_pq.violations

test_violation_runtime_handshake_with_x25519 if {
	result := violations with input as data.carnot.testing.assets({"tls": [data.carnot.testing.tls({"ref": "h1", "versions": ["1.3"], "negotiated_group": data.carnot.testing.group("x25519", false), "pq_hybrid": false})]})
	data.carnot.testing.refs(result) == {"h1"}
}

test_violation_config_groups_without_pq if {
	result := violations with input as data.carnot.testing.assets({"tls": [data.carnot.testing.tls({"ref": "c1", "versions": ["1.3"], "groups": [data.carnot.testing.group("x25519", false), data.carnot.testing.group("secp256r1", false)]})]})
	data.carnot.testing.refs(result) == {"c1"}
}

test_violation_tls12_only_endpoint if {
	result := violations with input as data.carnot.testing.assets({"tls": [data.carnot.testing.tls({"ref": "p1", "versions": ["1.2"]})]})
	data.carnot.testing.refs(result) == {"p1"}
}

test_compliant_hybrid_negotiated_offered_unknown_or_cloud_policy if {
	result := violations with input as data.carnot.testing.assets({"tls": [
		data.carnot.testing.tls({"ref": "h1", "versions": ["1.3"], "negotiated_group": data.carnot.testing.group("X25519MLKEM768", true), "pq_hybrid": true}),
		data.carnot.testing.tls({"ref": "c1", "versions": ["1.3"], "groups": [data.carnot.testing.group("X25519MLKEM768", true), data.carnot.testing.group("x25519", false)]}),
		data.carnot.testing.tls({"ref": "c2", "versions": ["1.3"]}),
		data.carnot.testing.tls({"ref": "lb", "policy": "ELBSecurityPolicy-TLS13-1-2-2021-06", "cloud_service": "elbv2", "pq_hybrid": false}),
	]})
	count(result) == 0
}
