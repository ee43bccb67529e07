package carnot.rules.legacy_tls_version_test

import data.carnot.rules.legacy_tls_version.violations

test_violation_tls10_in_versions_and_stated_version if {
	result := violations with input as data.carnot.testing.cbom([
		data.carnot.testing.protocol("p1", "nginx", {"type": "tls", "version": "1.2"}, {"carnot:tls:versions": "TLSv1,TLSv1.1,TLSv1.2"}),
		data.carnot.testing.protocol("p2", "old", {"type": "tls", "version": "1.1"}, {}),
		data.carnot.testing.protocol("p3", "older", {"type": "tls"}, {"carnot:tls:versions": "SSLv3"}),
	])
	data.carnot.testing.refs(result) == {"p1", "p2", "p3"}
}

test_compliant_tls12_and_tls13 if {
	result := violations with input as data.carnot.testing.cbom([data.carnot.testing.protocol("p1", "nginx", {"type": "tls", "version": "1.3"}, {"carnot:tls:versions": "TLSv1.2,TLSv1.3"})])
	count(result) == 0
}
