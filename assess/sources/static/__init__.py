"""Static scan: certificates, keys, SSH and TLS configuration, and crypto API use in source code.

`scan(paths, rules)` walks files and returns a `ScanResult` whose shard is written with
`assess.cbom.write_shard`. Detectors (one module each: pki, ssh, tlsconf, code) implement the
`Detector` protocol of `interface.py`; `scanner.detectors` is their registry.
"""

from assess.sources.static.code import Rule, load_rules
from assess.sources.static.scanner import ScanResult, scan

__all__ = ["Rule", "ScanResult", "load_rules", "scan"]
