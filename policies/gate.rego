# The gate: every catalogued rule's violations, with the profile's severity, the remediation link
# and the waiver status, plus what an enforced run fails on.
#
# Query `data.carnot.gate.report`. conftest users get `deny` (at or above the profile's failing
# severity) and `warn` (below it) over the same findings: `conftest test CBOM -p policies -d policies
# --namespace carnot.gate`.
package carnot.gate


guide := "docs/POLICY_GUIDE.md"

waivers := object.get(data.carnot.config.run, "waivers", [])

# A waiver exempts through the whole of its `until` day (UTC) and stops after it.
waiver_active(w) if data.carnot.config.now_ns < data.carnot.config.date_ns(w.until) + data.carnot.config.day_ns

active_waivers contains [w.rule, w.bom_ref] if {
	some w in waivers
	waiver_active(w)
}

expired_waivers := [w | some w in waivers; not waiver_active(w)]

waived(rule_id, ref) if [rule_id, ref] in active_waivers

# The waiver that exempts a finding (the latest `until` when several do).
waiver_for(rule_id, ref) := sorted[count(sorted) - 1][1] if {
	sorted := sort([[w.until, w] | some w in waivers; w.rule == rule_id; w.bom_ref == ref; waiver_active(w)])
}

finding(rule_id, severity, v) := object.union(base, {"waived": true, "waiver": waiver_for(rule_id, v.bom_ref)}) if {
	base := {
		"rule": rule_id,
		"severity": severity,
		"bom_ref": v.bom_ref,
		"message": v.message,
		"remediation": sprintf("%s#%s", [guide, rule_id]),
	}
	waived(rule_id, v.bom_ref)
} else := {
	"rule": rule_id,
	"severity": severity,
	"bom_ref": v.bom_ref,
	"message": v.message,
	"remediation": sprintf("%s#%s", [guide, rule_id]),
	"waived": false,
}

all_findings contains f if {
	some rule_id, meta in data.carnot.catalog
	severity := data.carnot.config.profile.severity[rule_id]
	severity != "off"
	some v in data.carnot.rules[meta["package"]].violations
	f := finding(rule_id, severity, v)
}

fails(f) if {
	not f.waived
	data.carnot.config.severity_rank[f.severity] >= data.carnot.config.severity_rank[data.carnot.config.profile.fail_at]
}

report := {
	"profile": data.carnot.config.profile_name,
	"fail_at": data.carnot.config.profile.fail_at,
	"findings": [f | some f in all_findings],
	"failing": count([f | some f in all_findings; fails(f)]),
	"expired_waivers": expired_waivers,
	"rules_off": sort([id | some id, sev in data.carnot.config.profile.severity; sev == "off"]),
}

deny contains msg if {
	some f in all_findings
	fails(f)
	msg := sprintf("[%s] %s: %s", [f.rule, f.bom_ref, f.message])
}

warn contains msg if {
	some f in all_findings
	not f.waived
	not fails(f)
	msg := sprintf("[%s] %s: %s", [f.rule, f.bom_ref, f.message])
}
