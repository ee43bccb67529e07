# The assets the rules judge: `input.assets`, the facts `carnot gate` reads from a CBOM
# (assess/gate/facts.py: standard CycloneDX fields first, `carnot:*` properties second).
#
# Shapes (null where the CBOM does not say):
#   algorithms:   {ref, name, family, hash, bits, curve, curve_bits, primitive}
#   keys:         {ref, name, family, bits, curve, curve_bits, type, state,
#                  aws: {service, key_manager, key_spec, key_state, rotation_enabled, tagged}}
#   certificates: {ref, name, subject, not_after (RFC 3339, UTC), signature: {family, hash, name},
#                  signature_hash, key: {family, bits, curve, curve_bits, from_ref}}
#   tls:          {ref, name, versions ("SSLv3", "1.0" ... "1.3"), suites, groups: [{name, pq, ec_bits, ffdhe_bits}],
#                  negotiated_group: {name, pq, ...}, pq_hybrid, policy, cloud_service, sni,
#                  role ("server" or "client" where observed at runtime, else null)}
#   ssh:          {ref, name, kex, ciphers, macs, host_key_algorithms, observed}
#                 (observed: a session seen on the wire, whose lists hold what it negotiated)
package carnot.assets

assets := object.get(input, "assets", {})

algorithms := object.get(assets, "algorithms", [])

keys := object.get(assets, "keys", [])

certificates := object.get(assets, "certificates", [])

tls := object.get(assets, "tls", [])

ssh := object.get(assets, "ssh", [])
