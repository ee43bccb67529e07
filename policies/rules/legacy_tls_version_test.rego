package carnot.rules.legacy_tls_version_test

import data.carnot.rules.legacy_tls_version.violations

test_violation_tls10_tls11_and_sslv3 if {
	result := violations with input as data.carnot.testing.assets({"tls": [
		data.carnot.testing.tls({"ref": "p1", "versions": ["1.0", "1.1", "1.2"]}),
		data.carnot.testing.tls({"ref": "p2", "versions": ["SSLv3"]}),
	]})
	data.carnot.testing.refs(result) == {"p1", "p2"}
}

test_compliant_tls12_and_tls13 if {
	result := violations with input as data.carnot.testing.assets({"tls": [data.carnot.testing.tls({"ref": "p1", "versions": ["1.2", "1.3"]})]})
	count(result) == 0
}
