"""The data behind the site's browsers: inventory, flows, every finding, and what changed.

Each browser page (`assessments/<id>/inventory.html`, `flows.html`, `findings.html`, `changes.html`)
is a small static HTML page; its rows are data files beside it (`data/<table>-<n>.js`), each one call

    window.carnotExplorer.add("<table>", [field names], [[row], [row], ...], {field: [shared values]});

that `assets/explore.js` (defined first, on every browser page) collects, then filters, searches and
pages in the browser. Script files rather than JSON files because `fetch()` of a file next to a page
fails under file://; the call's arguments are JSON (`interactive.script_safe`: no <, >, &, U+2028
or U+2029 even inside strings), so a data file can only ever be data. Rows are arrays, their field
names given once per file, so 100,000 assets stay a few tens of megabytes; explore.js puts every
value on the page with textContent and builds every link from a row index, never from a value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assess.diff import CATEGORIES, Diff
from assess.viz.data import SEVERITIES
from assess.viz.estate import STATUSES, Estate, clip
from assess.viz.interactive import script_safe

CHUNK_ROWS = 20_000  # rows per data file
_ANCHOR = re.compile(r"POLICY_GUIDE\.md#([a-z0-9][a-z0-9_-]{0,80})$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,80}$")


def remediation_anchor(finding: Mapping[str, Any]) -> str | None:
    """The policy-guide anchor a finding's remediation names, else one from its rule; never a URL."""
    match = _ANCHOR.search(str(finding.get("remediation") or ""))
    if match:
        return match.group(1)
    rule = str(finding.get("rule") or "").lower()
    return rule if _SLUG.match(rule) else None


@dataclass(frozen=True)
class Table:
    """One browser's rows: field names, then one array per row in that order. A shared field's values
    are written once per data file and each row holds the value's position (statuses, types, rules, the
    processes of many flows repeat on thousands of rows)."""

    name: str
    fields: tuple[str, ...]
    rows: list[list[Any]]
    shared: tuple[str, ...] = ()

    def files(self, chunk: int = CHUNK_ROWS) -> list[tuple[str, bytes]]:
        """(file name, bytes) of the data files, in the order the page loads them."""
        out = []
        columns = [self.fields.index(f) for f in self.shared]
        for n, start in enumerate(range(0, max(1, len(self.rows)), chunk)):
            rows = [list(row) for row in self.rows[start:start + chunk]]
            values: dict[str, list[Any]] = {}
            for field, column in zip(self.shared, columns, strict=True):
                seen: dict[Any, int] = {}
                shared_values: list[Any] = []
                for row in rows:
                    value = row[column]
                    key = _identity(value)
                    if key not in seen:
                        seen[key] = len(shared_values)
                        shared_values.append(value)
                    row[column] = seen[key]
                values[field] = shared_values
            args = json.dumps([self.name, list(self.fields), rows, values], ensure_ascii=False,
                              separators=(",", ":"))
            out.append((f"{self.name}-{n}.js",
                        f"window.carnotExplorer.add({script_safe(args)[1:-1]});\n".encode()))
        return out


def _identity(value: Any) -> Any:
    """A hashable key equal for equal JSON values only (True, 1 and 1.0 stay apart; lists by content)."""
    if isinstance(value, list):
        return ("list", tuple(_identity(v) for v in value))
    if isinstance(value, dict):
        return ("dict", json.dumps(value, sort_keys=True))
    return (type(value).__name__, value)


ASSET_FIELDS = ("ref", "name", "type", "algorithm", "bits", "group", "status", "sources", "evidence", "unlisted",
                "details", "reason", "findings", "flow")
FINDING_FIELDS = ("severity", "rule", "asset", "ref", "asset_name", "message", "anchor", "remediation", "waived")
FLOW_FIELDS = ("asset", "protocol", "process", "host", "role", "sni", "endpoint", "group", "pq", "handshakes", "failed",
               "first_seen", "last_seen", "status")
CHANGE_FIELDS = ("change", "label", "name", "ref", "side", "index")


def _severity(finding: Mapping[str, Any]) -> str:
    severity = str(finding.get("severity"))
    return severity if severity in SEVERITIES else "unknown"


def asset_table(estate: Estate) -> Table:
    index = estate.index()
    by_asset: dict[int, list[list[Any]]] = {}
    for i, f in enumerate(estate.findings):
        asset = index.get(str(f.get("bom_ref")))
        if asset is not None:
            by_asset.setdefault(asset, []).append([i, _severity(f), clip(f.get("rule"), 80),
                                                   int(bool(f.get("waived")))])
    rows = [[clip(a.ref), a.name, a.asset_type, a.algorithm, a.key_bits, a.group, a.status, list(a.sources),
             [[s.source, s.where, s.context] for s in a.evidence], a.evidence_unlisted,
             [list(d) for d in a.details], a.reason, by_asset.get(i, []), int(a.flow is not None)]
            for i, a in enumerate(estate.assets)]
    return Table("assets", ASSET_FIELDS, rows, ("type", "algorithm", "bits", "group", "status", "sources", "reason"))


def finding_table(estate: Estate) -> Table:
    index = estate.index()
    rows = []
    for f in estate.findings:
        ref = str(f.get("bom_ref"))
        asset = index.get(ref, -1)
        anchor = remediation_anchor(f)
        rows.append([_severity(f), clip(f.get("rule"), 80), asset, clip(ref),
                     estate.assets[asset].name if asset >= 0 else "", clip(f.get("message")), anchor or "",
                     "" if anchor else clip(f.get("remediation"), 200), int(bool(f.get("waived")))])
    return Table("findings", FINDING_FIELDS, rows, ("severity", "rule", "anchor", "remediation"))


def flow_table(estate: Estate) -> Table:
    rows = [[i, f.protocol, f.process, f.host, f.role, f.sni, f.endpoint, f.group, None if f.pq is None else int(f.pq),
             f.handshakes, f.failed, f.first_seen, f.last_seen, a.status]
            for i, a in estate.flows if (f := a.flow) is not None]
    return Table("flows", FLOW_FIELDS, rows, ("protocol", "process", "host", "role", "group", "status"))


def change_table(d: Diff) -> Table:
    """One row per change; side says which assessment's page index points into ("old" or "new")."""
    rows: list[list[Any]] = []
    for category in ("assets_added", "assets_removed", "status_changed"):  # AssetChange lists
        for c in getattr(d, category):
            label = " → ".join(s for s in (c.before, c.after) if s is not None)
            side, index = ("old", c.old_index) if c.new_index is None else ("new", c.new_index)
            rows.append([CATEGORIES[category], label, c.name, clip(c.ref), side, index])
    for category in ("findings_fixed", "findings_new", "findings_waived", "findings_reopened"):
        for f in getattr(d, category):
            side, index = ("old", f.old_index) if f.new_index is None else ("new", f.new_index)
            rows.append([CATEGORIES[category], f"{f.severity} · {clip(f.rule, 80)}", clip(f.message), clip(f.bom_ref),
                         side, index])
    return Table("changes", CHANGE_FIELDS, rows, ("change", "label"))


Filter = tuple[str, str, list[tuple[str, str]]]  # (row field, label, [(value, label)])


def _choices(values: Iterable[str], order: Sequence[str] = ()) -> list[tuple[str, str]]:
    """Distinct values for a filter: those in order first (in that order), then the rest sorted."""
    found = set(values)
    return [(v, v) for v in (*(v for v in order if v in found), *sorted(found - set(order)))]


def asset_filters(estate: Estate) -> list[Filter]:
    """The inventory's filters; "findings" is worked out in the browser from each row's findings."""
    return [
        ("status", "quantum status", _choices((a.status for a in estate.assets), STATUSES)),
        ("type", "type", _choices(a.asset_type for a in estate.assets)),
        ("sources", "source", _choices(s for a in estate.assets for s in a.sources)),
        ("findings", "findings", [("open", "with open findings"), ("waived", "with waived findings only"),
                                  ("none", "without findings")]),
    ]


def finding_filters(estate: Estate) -> list[Filter]:
    return [
        ("severity", "severity", _choices((_severity(f) for f in estate.findings), (*SEVERITIES, "unknown"))),
        ("rule", "rule", _choices(clip(f.get("rule"), 80) for f in estate.findings)),
        ("waived", "state", [("0", "open"), ("1", "waived")]),
    ]


def flow_filters(estate: Estate) -> list[Filter]:
    return [
        ("protocol", "protocol",
         _choices(f.protocol for _, a in estate.flows if (f := a.flow) is not None)),
        ("pq", "key exchange", [("1", "hybrid post-quantum"), ("0", "classical"), ("null", "not known")]),
        ("group", "negotiated group or SSH key exchange",
         _choices(f.group for _, a in estate.flows if (f := a.flow) is not None)),
        ("status", "quantum status", _choices((a.status for _, a in estate.flows), STATUSES)),
    ]


def change_filters(d: Diff) -> list[Filter]:
    counts = d.counts()
    return [("change", "change", [(label, f"{label} ({counts[c]})") for c, label in CATEGORIES.items() if counts[c]])]


@dataclass(frozen=True)
class Browser:
    """One browser page: what the template shows around the table, and the data files with its rows."""

    page: str  # the page's file name, without .html
    table: str  # the name its data files give their rows (explore.js renders by it)
    title: str
    intro: str
    columns: tuple[str, ...]  # the table's headers, in the order explore.js renders a row's cells
    placeholder: str
    filters: list[Filter]
    rows: int
    files: list[tuple[str, bytes]]


def _browser(page: str, title: str, intro: str, columns: tuple[str, ...], placeholder: str, filters: list[Filter],
             table: Table) -> Browser:
    return Browser(page, table.name, title, intro, columns, placeholder, filters, len(table.rows), table.files())


def browsers(estate: Estate) -> list[Browser]:
    """The inventory, flows and findings browsers of one assessment."""
    return [
        _browser("inventory", "Inventory",
                 "Every cryptographic asset, worst quantum exposure first, with its evidence and findings. Search "
                 "looks in names, bom-refs, file:line, hosts, processes, SNIs, endpoints, accounts, regions and ARNs; "
                 "open an asset for everything known about it.",
                 ("asset", "type", "algorithm", "quantum status", "source", "evidence", "findings"),
                 "SNI, process, file:line, ARN, algorithm…", asset_filters(estate), asset_table(estate)),
        _browser("flows", "Flows",
                 "Who talks to whom with what: every observed connection (TLS, QUIC, SSH), process → SNI and "
                 "endpoint → negotiated group or SSH key exchange, with its handshake counts and when it was first "
                 "and last seen.",
                 ("protocol", "process", "host", "SNI", "endpoint", "key exchange", "handshakes", "first → last seen",
                  "asset"),
                 "process, SNI, endpoint, group…", flow_filters(estate), flow_table(estate)),
        _browser("findings", "Findings",
                 "Every finding of the policy gate, open before waived, by severity, with how to fix it and a link "
                 "to its asset.",
                 ("severity", "rule", "asset", "message", "remediation", "state"),
                 "rule, asset, message…", finding_filters(estate), finding_table(estate)),
    ]


def changes_browser(d: Diff | None) -> Browser:
    """What changed since the previous assessment (no rows for the first one)."""
    table = change_table(d) if d is not None else Table("changes", CHANGE_FIELDS, [])
    return _browser("changes", "Changes",
                    "Every asset added, removed or whose quantum status changed, and every finding fixed, new, "
                    "waived or no longer waived, with a link to it in this assessment or the earlier one.",
                    ("change", "what", "asset or finding", "bom-ref", "where"),
                    "name, bom-ref, rule…", change_filters(d) if d is not None else [], table)
