# cloud-tls-policy-not-pq: ELB, CloudFront and API Gateway TLS policies without post-quantum key exchange.
package carnot.rules.cloud_tls_policy_not_pq


cloud_policies := [p | some p in data.carnot.assets.tls; p.policy != null; p.cloud_service != null]

violations contains {"bom_ref": p.ref, "message": msg} if {
	some p in cloud_policies
	p.pq_hybrid == false
	msg := sprintf("%s TLS policy %s on '%s' has no post-quantum key exchange", [p.cloud_service, p.policy, p.name])
}

# Unknown to the producer: AWS names its post-quantum policies with "PQ".
violations contains {"bom_ref": p.ref, "message": msg} if {
	some p in cloud_policies
	p.pq_hybrid == null
	not contains(upper(p.policy), "PQ")
	msg := sprintf("%s TLS policy %s on '%s' is not a post-quantum policy", [p.cloud_service, p.policy, p.name])
}
