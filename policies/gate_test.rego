package carnot.gate_test

import data.carnot.gate.report

md5_input := data.carnot.testing.assets({"algorithms": [data.carnot.testing.algorithm({"ref": "a1", "family": "MD5"})]})

waiver(until) := {"rule": "legacy-hash", "bom_ref": "a1", "until": until, "reason": "tracked"}

run_with(waivers) := {"profile": "balanced", "now": "2026-03-01T12:00:00Z", "waivers": waivers}

test_violation_finding_carries_profile_severity_and_remediation if {
	r := report with input as md5_input with data.carnot.run as run_with([])
	r.findings == [{
		"rule": "legacy-hash", "severity": "high", "bom_ref": "a1", "message": "legacy hash MD5 in use ('algorithm')",
		"remediation": "docs/POLICY_GUIDE.md#legacy-hash", "waived": false,
	}]
	r.failing == 1
}

test_compliant_waiver_exempts_through_its_until_day if {
	r := report with input as md5_input with data.carnot.run as run_with([waiver("2026-03-01"), waiver("2026-02-01")])
	r.findings[0].waived
	r.findings[0].waiver.until == "2026-03-01"
	r.failing == 0
	[w.until | some w in r.expired_waivers] == ["2026-02-01"]
}

test_violation_waiver_stops_the_day_after_until if {
	r := report with input as md5_input with data.carnot.run as run_with([waiver("2026-02-28")])
	not r.findings[0].waived
	r.failing == 1
	count(r.expired_waivers) == 1
}

test_compliant_rule_off_in_profile_reports_nothing if {
	r := report with input as data.carnot.testing.assets({"tls": [data.carnot.testing.tls({"ref": "t1", "versions": ["1.3"], "suites": ["ECDHE-RSA-AES128-SHA"]})]})
		with data.carnot.run as {"profile": "balanced", "now": "2026-03-01T12:00:00Z"}
	count(r.findings) == 0
	"tls-cbc-cipher-suite" in r.rules_off
}

test_violation_conftest_deny_and_warn_split_at_fail_at if {
	both := data.carnot.testing.assets({"algorithms": [
		data.carnot.testing.algorithm({"ref": "a1", "family": "MD5"}),
		data.carnot.testing.algorithm({"ref": "a2", "family": "RSA", "bits": 3072}),
	]})
	denied := data.carnot.gate.deny with input as both with data.carnot.run as run_with([])
	warned := data.carnot.gate.warn with input as both with data.carnot.run as run_with([])
	denied == {"[legacy-hash] a1: legacy hash MD5 in use ('algorithm')"}
	count(warned) == 1
}
