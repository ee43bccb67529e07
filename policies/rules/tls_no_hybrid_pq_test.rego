package carnot.rules.tls_no_hybrid_pq_test

import data.carnot.rules.tls_no_hybrid_pq.violations

test_violation_runtime_handshake_with_x25519 if {
	result := violations with input as data.carnot.testing.cbom([data.carnot.testing.protocol("h1", "api.example:443", {"type": "tls", "version": "1.3"}, {
		"carnot:tls:negotiated_group": "x25519", "carnot:tls:pq_hybrid": "false", "carnot:runtime:handshakes": "12",
	})])
	data.carnot.testing.refs(result) == {"h1"}
}

test_violation_config_groups_without_pq if {
	result := violations with input as data.carnot.testing.cbom([data.carnot.testing.protocol("c1", "nginx.conf", {"type": "tls", "version": "1.3"}, {"carnot:tls:groups": "x25519,secp256r1"})])
	data.carnot.testing.refs(result) == {"c1"}
}

test_violation_tls12_only_endpoint if {
	result := violations with input as data.carnot.testing.cbom([data.carnot.testing.protocol("p1", "TLSv1.2", {"type": "tls", "version": "1.2"}, {})])
	data.carnot.testing.refs(result) == {"p1"}
}

test_compliant_hybrid_negotiated_offered_or_unknown if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.protocol("h1", "api", {"type": "tls", "version": "1.3"}, {"carnot:tls:negotiated_group": "X25519MLKEM768", "carnot:tls:pq_hybrid": "true"}),
		data.carnot.testing.protocol("c1", "nginx", {"type": "tls", "version": "1.3"}, {"carnot:tls:groups": "X25519MLKEM768,x25519"}),
		data.carnot.testing.protocol("c2", "apache", {"type": "tls", "version": "1.3"}, {}),
		data.carnot.testing.protocol("lb", "listener", {"type": "tls"}, {"carnot:tls:policy": "ELBSecurityPolicy-TLS13-1-2-2021-06", "carnot:aws:service": "elbv2", "carnot:tls:pq_hybrid": "false"}),
	])
	count(result) == 0
}
