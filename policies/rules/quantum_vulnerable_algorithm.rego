# quantum-vulnerable-algorithm: classical public-key algorithms and keys (an inventory finding per migration item).
package carnot.rules.quantum_vulnerable_algorithm


violations contains {"bom_ref": a.ref, "message": msg} if {
	some a in data.carnot.assets.algorithms
	a.family in data.carnot.lib.crypto.quantum_vulnerable
	msg := sprintf("'%s' uses %s, which a quantum computer breaks (Shor): plan its replacement", [a.name, a.family])
}

violations contains {"bom_ref": k.ref, "message": msg} if {
	some k in data.carnot.assets.keys
	k.family in data.carnot.lib.crypto.quantum_vulnerable
	msg := sprintf("%s key '%s' is quantum-vulnerable (Shor): plan its replacement", [k.family, k.name])
}
