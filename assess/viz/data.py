"""The numbers behind every chart, built by pure functions from an assessment's facts.

The facts are the JSON forms other stages already write: exposure results as
`ExposureResult.to_dict()` gives them (the attestation's `predicate.exposure.results`) and gate
findings as `opa_result.json` holds them. So the same functions serve `carnot viz` (fresh from a
CBOM) and the site (from a bundle's redacted attestation). Tests assert on these dicts, never on
pixels.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assess.exposure import Risk
from assess.model import parse_count

SEVERITIES = ("critical", "high", "medium", "low")
SANKEY_COLUMNS = ("source", "algorithm", "quantum risk", "policy outcome")
TOP_ALGORITHMS = 12  # the rest of the algorithm column folds into one "other" node

# The quantum-risk column: the exposure verdict, HNDL and signatures split by `exposed`.
RISK_LABELS: tuple[str, ...] = (
    "HNDL exposed",
    "HNDL within margin",
    "signature past deadline",
    "signature before deadline",
    "quantum-safe",
    "not quantum-relevant",
    "unknown",
)
OUTCOME_LABELS: tuple[str, ...] = (
    *(f"{s} finding" for s in SEVERITIES),
    "waived finding",
    "no finding",
)


def risk_label(result: Mapping[str, Any]) -> str:
    """The quantum-risk node an exposure result (ExposureResult.to_dict()) flows into."""
    risk, exposed = str(result.get("risk")), bool(result.get("exposed"))
    if risk == Risk.HNDL:
        return "HNDL exposed" if exposed else "HNDL within margin"
    if risk == Risk.SIGNATURE_DEADLINE:
        return "signature past deadline" if exposed else "signature before deadline"
    if risk == Risk.QUANTUM_SAFE:
        return "quantum-safe"
    if risk == Risk.NOT_APPLICABLE:
        return "not quantum-relevant"
    return "unknown"


def source_label(result: Mapping[str, Any]) -> str:
    """Where an asset was seen; an SSH or QUIC flow says so beside the TLS ones (`runtime (SSH)`)."""
    sources = sorted({str(s) for s in result.get("sources") or ()})
    label = "+".join(sources) if sources else "unknown source"
    protocol = (result.get("flow") or {}).get("protocol")
    return f"{label} ({str(protocol).upper()})" if protocol in ("ssh", "quic") else label


def outcomes_by_ref(findings: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Each bom-ref's policy outcome: its worst unwaived severity, else waived."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    worst: dict[str, int] = {}
    waived: set[str] = set()
    for f in findings:
        ref = str(f.get("bom_ref"))
        if f.get("waived"):
            waived.add(ref)
            continue
        r = rank.get(str(f.get("severity")), len(SEVERITIES) - 1)
        worst[ref] = min(r, worst.get(ref, r))
    out = {ref: "waived finding" for ref in waived}
    out.update({ref: f"{SEVERITIES[r]} finding" for ref, r in worst.items()})
    return out


@dataclass(frozen=True)
class SankeyNode:
    column: int
    label: str
    value: int


@dataclass(frozen=True)
class SankeyLink:
    source: int  # index into nodes
    target: int
    value: int


def sankey_data(
    results: Sequence[Mapping[str, Any]], findings: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """Assets flowing source -> algorithm/group -> quantum risk -> policy outcome, one unit per asset."""
    outcome = outcomes_by_ref(findings)
    algorithms = Counter(str(r.get("algorithm") or "unknown algorithm") for r in results)
    kept = {a for a, _ in sorted(algorithms.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_ALGORITHMS]}
    folded = len(algorithms) - len(kept)
    other = f"other ({folded} algorithms)"

    paths: Counter[tuple[str, str, str, str]] = Counter()
    for r in results:
        algorithm = str(r.get("algorithm") or "unknown algorithm")
        paths[(
            source_label(r),
            algorithm if algorithm in kept else other,
            risk_label(r),
            outcome.get(str(r.get("bom_ref")), "no finding"),
        )] += 1

    column_totals: list[Counter[str]] = [Counter() for _ in SANKEY_COLUMNS]
    pair_totals: list[Counter[tuple[str, str]]] = [Counter() for _ in SANKEY_COLUMNS[1:]]
    for path, count in paths.items():
        for column, label in enumerate(path):
            column_totals[column][label] += count
        for column in range(len(path) - 1):
            pair_totals[column][(path[column], path[column + 1])] += count

    fixed_order = {2: RISK_LABELS, 3: OUTCOME_LABELS}
    nodes: list[SankeyNode] = []
    index: dict[tuple[int, str], int] = {}
    for column, totals in enumerate(column_totals):
        if column in fixed_order:
            labels = [label for label in fixed_order[column] if totals[label]]
        else:
            labels = sorted(totals, key=lambda label: (label == other, -totals[label], label))
        for label in labels:
            index[(column, label)] = len(nodes)
            nodes.append(SankeyNode(column, label, totals[label]))
    links = [
        SankeyLink(index[(column, a)], index[(column + 1, b)], count)
        for column, pairs in enumerate(pair_totals)
        for (a, b), count in sorted(pairs.items(), key=lambda kv: (index[(column, kv[0][0])],
                                                                    index[(column + 1, kv[0][1])]))
    ]
    return {
        "columns": list(SANKEY_COLUMNS),
        "unit": "crypto assets",
        "assets": len(results),
        "nodes": [{"column": n.column, "label": n.label, "value": n.value} for n in nodes],
        "links": [{"source": link.source, "target": link.target, "value": link.value} for link in links],
        "algorithms_folded": folded,
    }


def violations_data(findings: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Unwaived findings counted by rule and severity (rules most-violated first); waived apart."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    waived: Counter[str] = Counter()
    for f in findings:
        rule = str(f.get("rule"))
        if f.get("waived"):
            waived[rule] += 1
        else:
            counts[rule][str(f.get("severity"))] += 1
    rules = sorted(set(counts) | set(waived), key=lambda r: (-sum(counts[r].values()), -waived[r], r))
    return {
        "severities": list(SEVERITIES),
        "rules": rules,
        "counts": {r: {s: counts[r].get(s, 0) for s in SEVERITIES} for r in rules},
        "waived": {r: waived.get(r, 0) for r in rules},
        "total": sum(sum(c.values()) for c in counts.values()),
        "total_waived": sum(waived.values()),
        "by_severity": {s: sum(counts[r].get(s, 0) for r in rules) for s in SEVERITIES},
    }


def _handshakes(result: Mapping[str, Any]) -> int:
    return parse_count(str((result.get("flow") or {}).get("handshakes", "0"))) or 0


def pq_share_data(results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Observed handshakes (runtime flows: TLS, QUIC and SSH) on hybrid/pure PQ key exchange versus
    classical, in all and per protocol."""
    kinds = ("hybrid_pq", "classical", "unknown")
    handshakes: Counter[str] = Counter()
    flows: Counter[str] = Counter()
    by_protocol: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        if not r.get("is_flow"):
            continue
        risk = str(r.get("risk"))
        kind = "hybrid_pq" if risk == Risk.QUANTUM_SAFE else "classical" if risk == Risk.HNDL else "unknown"
        handshakes[kind] += _handshakes(r)
        flows[kind] += 1
        by_protocol[str((r.get("flow") or {}).get("protocol", "tls"))][kind] += _handshakes(r)
    decided = handshakes["hybrid_pq"] + handshakes["classical"]
    return {
        "handshakes": {k: handshakes.get(k, 0) for k in kinds},
        "flows": {k: flows.get(k, 0) for k in kinds},
        "pq_share": round(handshakes["hybrid_pq"] / decided, 4) if decided else None,
        "handshakes_by_protocol": {p: {k: c.get(k, 0) for k in kinds} for p, c in sorted(by_protocol.items())},
    }


def chart_data(results: Sequence[Mapping[str, Any]], findings: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Everything one assessment's charts show."""
    exposed_flows = sum(1 for r in results if r.get("is_flow") and r.get("exposed")
                        and str(r.get("risk")) == Risk.HNDL)
    return {
        "sankey": sankey_data(results, findings),
        "violations": violations_data(findings),
        "pq_share": pq_share_data(results),
        "exposed_flows": exposed_flows,
    }


@dataclass(frozen=True)
class TrendPoint:
    """One assessment on the history axis."""

    id: str
    created: str
    by_severity: Mapping[str, int]
    pq_share: float | None
    exposed_flows: int


def trend_point(assessment_id: str, created: str, charts: Mapping[str, Any]) -> TrendPoint:
    return TrendPoint(
        id=assessment_id,
        created=created,
        by_severity=dict(charts["violations"]["by_severity"]),
        pq_share=charts["pq_share"]["pq_share"],
        exposed_flows=int(charts["exposed_flows"]),
    )


def trends_data(points: Iterable[TrendPoint]) -> dict[str, Any]:
    """Findings by severity, PQ handshake share and exposed flows across assessments, oldest first."""
    ordered = sorted(points, key=lambda p: (p.created, p.id))
    return {
        "assessments": [p.id for p in ordered],
        "created": [p.created for p in ordered],
        "findings_by_severity": {s: [int(p.by_severity.get(s, 0)) for p in ordered] for s in SEVERITIES},
        "pq_share": [p.pq_share for p in ordered],
        "exposed_flows": [p.exposed_flows for p in ordered],
    }
