# The run's settings: which profile, what time it is. Both are data, so tests pin them.
#
# `data.carnot.run` is supplied per run by `carnot gate` ({"profile", "now", "waivers"}); when it
# is absent (plain `opa eval` or conftest on a CBOM) the default profile and the clock are used.
package carnot.config

run := r if {
	r := data.carnot.run
} else := {}

profile_name := object.get(run, "profile", data.carnot.default_profile)

profile := data.carnot.profiles[profile_name]

settings := profile.settings

severity_rank := {"low": 1, "medium": 2, "high": 3, "critical": 4}

now_ns := time.parse_rfc3339_ns(run.now) if {
	run.now
} else := time.now_ns()

day_ns := 86400000000000

# A date (YYYY-MM-DD) or an RFC 3339 timestamp as nanoseconds since the epoch.
date_ns(value) := time.parse_rfc3339_ns(value) if {
	contains(value, "T")
} else := time.parse_ns("2006-01-02", value)
