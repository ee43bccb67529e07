"""The policies themselves: their Rego unit tests pass, every rule is tested both ways, profiles are
complete, the guide matches the catalog, and the test runner really reports failures."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from gate_fixtures import POLICIES

from assess.gate import PolicyError, load_policies
from assess.gate.guide import render
from assess.gate.policy_tests import discover, main, run_policy_tests
from assess.tlsnames import PQ_GROUPS, group_name

DOCS = POLICIES.parent / "docs" / "POLICY_GUIDE.md"


def test_every_rego_unit_test_passes_under_the_embedded_engine() -> None:
    results = run_policy_tests(POLICIES)
    failed = [f"{r.test.package}.{r.test.name}: {r.error}" for r in results if not r.passed]
    assert not failed
    assert len(results) >= 2 * len(load_policies(POLICIES).catalog)


def test_every_rule_has_a_violating_and_a_compliant_rego_test() -> None:
    tests = discover(POLICIES)
    for rule, meta in load_policies(POLICIES).catalog.items():
        names = [t.name for t in tests if t.package == f"carnot.rules.{meta['package']}_test"]
        assert any(n.startswith("test_violation") for n in names), rule
        assert any(n.startswith("test_compliant") for n in names), rule


def test_catalog_and_rule_packages_match_one_to_one() -> None:
    catalog = load_policies(POLICIES).catalog
    packages = {m["package"] for m in catalog.values()}
    files = {p.stem for p in (POLICIES / "rules").glob("*.rego") if not p.stem.endswith("_test")}
    assert files == packages
    for package in packages:
        text = (POLICIES / "rules" / f"{package}.rego").read_text()
        assert re.search(rf"^package carnot\.rules\.{package}$", text, re.MULTILINE)
    for rule in catalog:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule)


def test_every_profile_sets_a_known_severity_for_every_rule() -> None:
    bundle = load_policies(POLICIES)
    assert set(bundle.profiles) == {"strict", "balanced", "dev"}
    for name, profile in bundle.profiles.items():
        assert set(profile["severity"]) == set(bundle.catalog), name
        assert set(profile["severity"].values()) <= {"critical", "high", "medium", "low", "off"}
        assert profile["fail_at"] in {"critical", "high", "medium", "low"}
    assert bundle.profiles["strict"]["settings"]["rsa_min_bits"] == 3072
    assert bundle.profiles["balanced"]["settings"]["rsa_min_bits"] == 2048


def test_policy_guide_is_generated_from_the_catalog_with_one_anchor_per_rule() -> None:
    bundle = load_policies(POLICIES)
    text = DOCS.read_text()
    assert text == render(bundle), "regenerate with: python -m assess.gate.guide"
    for rule in bundle.catalog:
        assert f"\n## {rule}\n" in text


def test_a_failing_rego_test_is_reported_and_fails_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    (policies / "rules" / "legacy_hash_test.rego").open("a").write(
        "\ntest_violation_that_is_wrong if {\n\tcount(violations) == 99\n}\n")
    results = run_policy_tests(policies)
    assert [r.test.name for r in results if not r.passed] == ["test_violation_that_is_wrong"]
    assert main([str(policies)]) == 1
    assert "FAIL carnot.rules.legacy_hash_test.test_violation_that_is_wrong" in capsys.readouterr().out


def test_rego_syntax_error_names_the_module_and_line(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    gate = policies / "gate.rego"
    gate.write_text(gate.read_text() + "\nbroken if {\n\tx :=\n}\n")
    with pytest.raises(PolicyError) as caught:
        run_policy_tests(policies)
    assert caught.value.path == str(gate) and caught.value.line is not None
    assert caught.value.line > len(gate.read_text().splitlines()) - 4


def test_policy_digest_changes_with_any_policy_byte(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    before = load_policies(policies).digest
    data = policies / "data.json"
    data.write_text(data.read_text().replace('"rsa_min_bits": 3072', '"rsa_min_bits": 4096'))
    assert load_policies(policies).digest != before


def test_pq_groups_the_facts_mark_are_tlsnames_pq_groups() -> None:
    from assess.gate.facts import _Facts

    for code in PQ_GROUPS:
        assert _Facts.group(group_name(code))["pq"] is True
    assert _Facts.group("x25519")["pq"] is False and _Facts.group("x25519_mlkem768")["name"] == "X25519MLKEM768"
