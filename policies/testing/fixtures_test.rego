# Builders for the Rego unit tests: small CycloneDX components in the shapes of docs/CBOM_PROFILE.md.
package carnot.testing

cbom(components) := {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": components}

property_list(props) := [{"name": k, "value": v} | some k, v in props]

component(ref, name, crypto, props) := {
	"type": "cryptographic-asset",
	"bom-ref": ref,
	"name": name,
	"cryptoProperties": crypto,
	"properties": property_list(props),
}

algorithm(ref, name, fields, props) := component(ref, name, {"assetType": "algorithm", "algorithmProperties": fields}, props)

key(ref, name, fields, props) := component(ref, name, {"assetType": "related-crypto-material", "relatedCryptoMaterialProperties": fields}, props)

certificate(ref, name, fields, props) := component(ref, name, {"assetType": "certificate", "certificateProperties": fields}, props)

protocol(ref, name, fields, props) := component(ref, name, {"assetType": "protocol", "protocolProperties": fields}, props)

run(profile, now) := {"profile": profile, "now": now}

refs(violations) := {v.bom_ref | some v in violations}
