package carnot.rules.cloud_tls_policy_not_pq_test

import data.carnot.rules.cloud_tls_policy_not_pq.violations

test_violation_classical_elb_and_cloudfront_policies if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.protocol("lb", "listener", {"type": "tls"}, {"carnot:tls:policy": "ELBSecurityPolicy-TLS13-1-2-2021-06", "carnot:aws:service": "elbv2", "carnot:tls:pq_hybrid": "false"}),
		data.carnot.testing.protocol("cf", "dist", {"type": "tls"}, {"carnot:tls:policy": "TLSv1.2_2021", "carnot:aws:service": "cloudfront"}),
	])
	data.carnot.testing.refs(result) == {"lb", "cf"}
}

test_compliant_pq_policy if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.protocol("lb", "listener", {"type": "tls"}, {"carnot:tls:policy": "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09", "carnot:aws:service": "elbv2", "carnot:tls:pq_hybrid": "true"}),
		data.carnot.testing.protocol("lb2", "listener", {"type": "tls"}, {"carnot:tls:policy": "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09", "carnot:aws:service": "elbv2"}),
	])
	count(result) == 0
}
