# tls-no-hybrid-pq: TLS handshakes, configurations and endpoints whose key exchange is classical only.
# Cloud TLS policies are judged by cloud-tls-policy-not-pq instead.
package carnot.rules.tls_no_hybrid_pq


not_cloud_policy(p) if p.policy == null

not_cloud_policy(p) if p.cloud_service == null

# Runtime: what was actually negotiated.
violations contains {"bom_ref": p.ref, "message": msg} if {
	some p in data.carnot.assets.tls
	not_cloud_policy(p)
	p.negotiated_group != null
	not p.negotiated_group.pq
	msg := sprintf("TLS '%s' negotiated the classical group %s: the session is open to harvest-now-decrypt-later", [p.name, p.negotiated_group.name])
}

# Configurations: the groups offered contain no post-quantum one.
violations contains {"bom_ref": p.ref, "message": msg} if {
	some p in data.carnot.assets.tls
	not_cloud_policy(p)
	p.negotiated_group == null
	count(p.groups) > 0
	p.pq_hybrid != true
	count([g | some g in p.groups; g.pq]) == 0
	msg := sprintf("TLS '%s' offers no post-quantum key exchange group (offers %s)", [p.name, concat(", ", [g.name | some g in p.groups])])
}

# Groups not stated: a TLS 1.2-only endpoint cannot negotiate a hybrid group at all.
violations contains {"bom_ref": p.ref, "message": msg} if {
	some p in data.carnot.assets.tls
	not_cloud_policy(p)
	p.negotiated_group == null
	count(p.groups) == 0
	p.pq_hybrid != true
	count(p.versions) > 0
	not "1.3" in p.versions
	msg := sprintf("TLS '%s' allows only TLS 1.2 or lower, which cannot negotiate a hybrid post-quantum group", [p.name])
}

# Groups not stated, but the producer observed the key exchange is not post-quantum.
violations contains {"bom_ref": p.ref, "message": msg} if {
	some p in data.carnot.assets.tls
	not_cloud_policy(p)
	p.negotiated_group == null
	count(p.groups) == 0
	p.pq_hybrid == false
	"1.3" in p.versions
	msg := sprintf("TLS '%s' has no post-quantum key exchange", [p.name])
}
