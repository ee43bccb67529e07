"""The numbers behind the charts, from known exposure results and findings (no pixels)."""

from __future__ import annotations

from typing import Any

from assess.viz.data import (
    TOP_ALGORITHMS,
    TrendPoint,
    chart_data,
    outcomes_by_ref,
    pq_share_data,
    sankey_data,
    trends_data,
    violations_data,
)


def result(ref: str, algorithm: str | None, risk: str, exposed: bool = False, sources: tuple[str, ...] = ("static",),
           handshakes: int | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {"bom_ref": ref, "algorithm": algorithm, "risk": risk, "exposed": exposed,
                         "sources": list(sources), "is_flow": handshakes is not None}
    if handshakes is not None:
        r["flow"] = {"handshakes": str(handshakes), "sni": f"{ref}.example"}
    return r


def finding(ref: str, rule: str, severity: str, waived: bool = False) -> dict[str, Any]:
    return {"bom_ref": ref, "rule": rule, "severity": severity, "waived": waived, "message": "m",
            "remediation": f"docs/POLICY_GUIDE.md#{rule}"}


RESULTS = [
    result("flow-classical", "x25519", "hndl", exposed=True, sources=("runtime",), handshakes=30),
    result("flow-hybrid", "X25519MLKEM768", "quantum_safe", sources=("runtime",), handshakes=70),
    result("cert-long", "RSA", "signature_deadline", exposed=True),
    result("key-rsa", "RSA", "hndl", exposed=False, sources=("static", "aws")),
    result("hash", "SHA-256", "not_applicable"),
]
FINDINGS = [
    finding("flow-classical", "tls-no-hybrid-pq", "medium"),
    finding("flow-classical", "legacy-tls-version", "high"),
    finding("cert-long", "cert-quantum-vulnerable-signature", "critical", waived=True),
    finding("key-rsa", "weak-rsa-key", "high"),
    finding("key-rsa", "quantum-vulnerable-algorithm", "low"),
    finding("not-in-inventory", "legacy-hash", "low"),
]


def flows(sankey: dict[str, Any]) -> set[tuple[str, str, int]]:
    nodes = sankey["nodes"]
    return {(f"{nodes[link['source']]['column']}:{nodes[link['source']]['label']}",
             f"{nodes[link['target']]['column']}:{nodes[link['target']]['label']}", link["value"])
            for link in sankey["links"]}


def test_sankey_follows_each_asset_from_source_to_policy_outcome() -> None:
    sankey = sankey_data(RESULTS, FINDINGS)
    assert sankey["assets"] == 5
    assert flows(sankey) == {
        ("0:runtime", "1:x25519", 1), ("0:runtime", "1:X25519MLKEM768", 1),
        ("0:static", "1:RSA", 1), ("0:aws+static", "1:RSA", 1), ("0:static", "1:SHA-256", 1),
        ("1:x25519", "2:HNDL exposed", 1), ("1:X25519MLKEM768", "2:quantum-safe", 1),
        ("1:RSA", "2:signature past deadline", 1), ("1:RSA", "2:HNDL within margin", 1),
        ("1:SHA-256", "2:not quantum-relevant", 1),
        ("2:HNDL exposed", "3:high finding", 1),  # the worst unwaived of its two findings
        ("2:quantum-safe", "3:no finding", 1),
        ("2:signature past deadline", "3:waived finding", 1),
        ("2:HNDL within margin", "3:high finding", 1),
        ("2:not quantum-relevant", "3:no finding", 1),
    }
    # every column carries every asset once
    for column in range(4):
        assert sum(n["value"] for n in sankey["nodes"] if n["column"] == column) == 5
    # risk and outcome columns keep their fixed order, worst first
    risk = [n["label"] for n in sankey["nodes"] if n["column"] == 2]
    assert risk == ["HNDL exposed", "HNDL within margin", "signature past deadline", "quantum-safe",
                    "not quantum-relevant"]
    outcome = [n["label"] for n in sankey["nodes"] if n["column"] == 3]
    assert outcome == ["high finding", "waived finding", "no finding"]


def test_sankey_links_conserve_flow_through_every_node() -> None:
    sankey = sankey_data(RESULTS, FINDINGS)
    for index, node in enumerate(sankey["nodes"]):
        into = sum(link["value"] for link in sankey["links"] if link["target"] == index)
        out = sum(link["value"] for link in sankey["links"] if link["source"] == index)
        if node["column"] > 0:
            assert into == node["value"]
        if node["column"] < 3:
            assert out == node["value"]


def test_algorithm_column_folds_the_long_tail_into_other() -> None:
    results = [result(f"a{i}", f"ALG-{i:02d}", "unknown") for i in range(TOP_ALGORITHMS + 5)]
    results += [result("b1", "ALG-00", "unknown")]  # ALG-00 is the most common
    sankey = sankey_data(results, [])
    algorithms = [n for n in sankey["nodes"] if n["column"] == 1]
    assert len(algorithms) == TOP_ALGORITHMS + 1
    assert algorithms[0] == {"column": 1, "label": "ALG-00", "value": 2}
    assert algorithms[-1] == {"column": 1, "label": "other (5 algorithms)", "value": 5}
    assert sankey["algorithms_folded"] == 5


def test_empty_assessment_has_empty_charts() -> None:
    data = chart_data([], [])
    assert data["sankey"]["nodes"] == [] and data["sankey"]["links"] == []
    assert data["violations"]["rules"] == [] and data["violations"]["total"] == 0
    assert data["pq_share"]["pq_share"] is None
    assert data["exposed_flows"] == 0


def test_violations_count_by_rule_and_severity_with_waived_apart() -> None:
    v = violations_data([*FINDINGS, finding("x", "weak-rsa-key", "high"), finding("y", "weak-rsa-key", "medium")])
    assert v["rules"][0] == "weak-rsa-key"  # most-violated first
    assert v["counts"]["weak-rsa-key"] == {"critical": 0, "high": 2, "medium": 1, "low": 0}
    assert v["counts"]["cert-quantum-vulnerable-signature"] == {"critical": 0, "high": 0, "medium": 0, "low": 0}
    assert v["waived"]["cert-quantum-vulnerable-signature"] == 1
    assert v["total"] == 7 and v["total_waived"] == 1
    assert v["by_severity"] == {"critical": 0, "high": 3, "medium": 2, "low": 2}


def test_pq_share_weights_flows_by_their_handshakes() -> None:
    pq = pq_share_data([*RESULTS, result("odd", None, "unknown", sources=("runtime",), handshakes=5)])
    assert pq["handshakes"] == {"hybrid_pq": 70, "classical": 30, "unknown": 5}
    assert pq["flows"] == {"hybrid_pq": 1, "classical": 1, "unknown": 1}
    assert pq["pq_share"] == 0.7  # of the handshakes whose key exchange is known


def test_outcomes_take_the_worst_unwaived_severity() -> None:
    assert outcomes_by_ref(FINDINGS) == {
        "flow-classical": "high finding", "cert-long": "waived finding", "key-rsa": "high finding",
        "not-in-inventory": "low finding",
    }


def test_trends_are_ordered_oldest_first() -> None:
    points = [
        TrendPoint("b", "2026-03-01T00:00:00Z", {"high": 2, "low": 1}, 0.5, 3),
        TrendPoint("a", "2026-01-01T00:00:00Z", {"critical": 1, "high": 5}, None, 9),
    ]
    trends = trends_data(points)
    assert trends["assessments"] == ["a", "b"]
    assert trends["findings_by_severity"] == {"critical": [1, 0], "high": [5, 2], "medium": [0, 0], "low": [0, 1]}
    assert trends["pq_share"] == [None, 0.5]
    assert trends["exposed_flows"] == [9, 3]
