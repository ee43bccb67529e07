package carnot.rules.cloud_tls_policy_not_pq_test

import data.carnot.rules.cloud_tls_policy_not_pq.violations

test_violation_classical_elb_and_cloudfront_policies if {
	result := violations with input as data.carnot.testing.assets({"tls": [
		data.carnot.testing.tls({"ref": "lb", "policy": "ELBSecurityPolicy-TLS13-1-2-2021-06", "cloud_service": "elbv2", "pq_hybrid": false}),
		data.carnot.testing.tls({"ref": "cf", "policy": "TLSv1.2_2021", "cloud_service": "cloudfront"}),
	]})
	data.carnot.testing.refs(result) == {"lb", "cf"}
}

test_compliant_pq_policies if {
	result := violations with input as data.carnot.testing.assets({"tls": [
		data.carnot.testing.tls({"ref": "lb", "policy": "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09", "cloud_service": "elbv2", "pq_hybrid": true}),
		data.carnot.testing.tls({"ref": "lb2", "policy": "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09", "cloud_service": "elbv2"}),
	]})
	count(result) == 0
}
