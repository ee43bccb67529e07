# Builders for the Rego unit tests: asset facts in the shapes of lib/assets.rego, with defaults.
package carnot.testing

assets(kinds) := {"assets": kinds}

algorithm(fields) := object.union(
	{"ref": "a", "name": "algorithm", "family": "", "hash": null, "bits": null, "curve": null, "curve_bits": null, "primitive": null},
	fields,
)

aws_defaults := {"service": null, "key_manager": null, "key_spec": null, "key_state": null, "rotation_enabled": null, "tagged": null}

key(fields) := object.union(
	object.union(
		{"ref": "k", "name": "key", "family": "", "bits": null, "curve": null, "curve_bits": null, "type": null, "state": null},
		fields,
	),
	{"aws": object.union(aws_defaults, object.get(fields, "aws", {}))},
)

certificate(fields) := object.union(
	object.union({"ref": "c", "name": "certificate", "subject": "CN=test", "not_after": null, "signature_hash": null}, fields),
	{
		"signature": object.union({"family": "", "hash": null, "name": null}, object.get(fields, "signature", {})),
		"key": object.union({"family": "", "bits": null, "curve": null, "curve_bits": null, "from_ref": false}, object.get(fields, "key", {})),
	},
)

group(name, pq) := {"name": name, "pq": pq, "ec_bits": null, "ffdhe_bits": null}

tls(fields) := object.union(
	{"ref": "t", "name": "tls", "versions": [], "suites": [], "groups": [], "negotiated_group": null, "pq_hybrid": null, "policy": null, "cloud_service": null, "sni": null, "role": null},
	fields,
)

ssh(fields) := object.union({"ref": "s", "name": "ssh", "kex": [], "ciphers": [], "macs": [], "host_key_algorithms": [], "observed": false}, fields)

run(profile, now) := {"profile": profile, "now": now}

refs(violations) := {v.bom_ref | some v in violations}
