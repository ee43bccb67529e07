"""Run the policies' Rego unit tests (`test_` rules in `*_test.rego`) with the embedded engine.

`python -m assess.gate.policy_tests [POLICIES]` prints one line per test and exits 1 on any
failure, 2 when the policies cannot be loaded; `opa test POLICIES` runs the same tests under OPA.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from assess.errors import CarnotError
from assess.gate.engine import TEST_SUFFIX, load_policies
from assess.gate.regorus_engine import run_rules
from assess.resources import policies_dir

_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_\w+)\s+if\b", re.MULTILINE)


@dataclass(frozen=True)
class RegoTest:
    package: str
    name: str
    path: str

    @property
    def rule(self) -> str:
        return f"data.{self.package}.{self.name}"


@dataclass(frozen=True)
class RegoTestResult:
    test: RegoTest
    passed: bool
    error: str | None = None


def discover(root: str | Path) -> list[RegoTest]:
    tests = []
    for module in load_policies(root, include_tests=True).modules:
        if not module.path.endswith(TEST_SUFFIX):
            continue
        package = _PACKAGE.search(module.text)
        if package is None:
            continue
        tests += [RegoTest(package.group(1), name, module.path) for name in _TEST_RULE.findall(module.text)]
    return tests


def run_policy_tests(root: str | Path) -> list[RegoTestResult]:
    bundle = load_policies(root, include_tests=True)
    tests = discover(root)
    outcome = run_rules(bundle.modules, bundle.data, [t.rule for t in tests])
    results = []
    for test in tests:
        value = outcome[test.rule]
        results.append(RegoTestResult(test, value is True, value if isinstance(value, str) else None))
    return results


def main(argv: list[str]) -> int:
    try:
        results = run_policy_tests(argv[0] if argv else policies_dir())
    except CarnotError as e:
        print(f"policy tests: error: {e.one_line()}", file=sys.stderr)
        return 2
    for r in results:
        status = "PASS" if r.passed else "FAIL"
        print(f"{status} {r.test.package}.{r.test.name}" + (f": {r.error}" if r.error else ""))
    failed = [r for r in results if not r.passed]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed ({len(results)} Rego tests)")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
