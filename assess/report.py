"""`carnot report`: one assessment as a PDF a consultant hands to a client.

The content comes from the same place as the site: `sitegen.assessment_view` shapes the
assessment, the site's partial (`site/templates/assessment.html.j2`) renders the facts, the
exposure table with its assumptions, and the gaps, and the PNGs are drawn by the same
`assess.viz.CHARTS` functions. The report adds what only a document needs, in templates of its own
(`site/templates/report/`): a cover, an executive summary with the trend across earlier bundles,
findings grouped by severity with the policy catalog's remediation, what changed since the previous
assessment in the manifest (`assess.diff`, as on the site's changes page), a migration roadmap ordered
by exposure, an inventory appendix (the assets worst exposed first, bounded, the rest counted) and an
appendix of methods and tool versions.

WeasyPrint lays it out (CSS paged media: A4, running header and footer, page x of y). It runs no
script, fetches nothing but data: URIs, and the templates autoescape every observed string and
build no link from data, so hostile strings stay inert text. The PDF's dates come from
SOURCE_DATE_EPOCH (`clock.build_time`) and it carries no random identifier, so the same assessment
and SOURCE_DATE_EPOCH give the same document.

`assessment.json` (written by `carnot assess`) names the client, the scope and the date for the
cover; without it the cover says so rather than guessing.
"""

from __future__ import annotations

import base64
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from assess import __version__
from assess.assessment_info import read_assessment_info
from assess.bundle import MANIFEST_NAME, read_manifest, sha256_file, verify_bundle
from assess.clock import build_time, iso
from assess.diff import diff, snapshot
from assess.errors import ConfigError, InputError, OutputError
from assess.fsio import read_toml, toml_key_line, write_atomic
from assess.resources import resource
from assess.sitegen import ChartView, assessment_view, changes_view, environment, flow_where, load_source
from assess.viz import CHARTS, TRENDS
from assess.viz.data import SEVERITIES, trends_data
from assess.viz.estate import STATUSES, Estate, clip, folder_estate, load_estate
from assess.viz.history import Assessment, load_assessment

REPORT_NAME = "report.pdf"
ROADMAP_ROWS = 15  # per wave; the rest are counted, and every asset is in the bundle
ASSETS_PER_RULE = 20
CHANGES_LISTED = 15  # per kind of change; the rest are counted (`carnot diff --json` lists every one)
INVENTORY_ROWS = 50  # the inventory appendix: the assets worst exposed first; the rest are counted
_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_LOGO_MAX_BYTES = 2 * 1024 * 1024
_LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


# --- branding --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Brand:
    """Who hands the report over: a name, an optional logo, two colours, a contact line."""

    name: str = "Carnot"
    contact: str = ""
    primary: str = "#0f172a"
    accent: str = "#1d4ed8"
    logo: str | None = None  # a data: URI built here from a checked PNG or JPEG


def load_brand(path: str | Path | None) -> Brand:
    """The neutral default for None; else a TOML file of name, contact, logo and [colours]."""
    if path is None:
        return Brand()
    p = Path(path)
    if not p.is_file():
        raise ConfigError("no such brand file", path=p)
    text, data = read_toml(p)

    def error(key: str, message: str) -> ConfigError:
        return ConfigError(f"{key}: {message}", path=p, line=toml_key_line(text, key.split(".")[-1]))

    def string(table: Mapping[str, Any], key: str, default: str, where: str = "") -> str:
        value = table.get(key, default)
        if not isinstance(value, str):
            raise error(where + key, f"expected a string, got {type(value).__name__}")
        return value

    unknown = sorted(set(data) - {"name", "contact", "logo", "colours"})
    if unknown:
        raise error(unknown[0], "unknown setting (known: name, contact, logo, [colours])")
    colours = data.get("colours", {})
    if not isinstance(colours, dict):
        raise ConfigError("colours must be a table: [colours]", path=p, line=toml_key_line(text, "colours"))
    unknown = sorted(set(colours) - {"primary", "accent"})
    if unknown:
        raise error(f"colours.{unknown[0]}", "unknown colour (known: primary, accent)")
    default = Brand()
    picked = {}
    for key in ("primary", "accent"):
        value = string(colours, key, getattr(default, key), "colours.")
        if not _COLOUR.match(value):
            raise error(f"colours.{key}", f"expected a hex colour like #1d4ed8, got {value[:40]!r}")
        picked[key] = value
    logo = string(data, "logo", "")
    return Brand(name=string(data, "name", default.name)[:120], contact=string(data, "contact", "")[:300],
                 logo=_logo_uri(p.parent / logo, p, toml_key_line(text, "logo")) if logo else None, **picked)


def _logo_uri(path: Path, brand_file: Path, line: int | None) -> str:
    if not path.is_file():
        raise ConfigError(f"logo: no such file {str(path)[:200]}", path=brand_file, line=line)
    raw = path.read_bytes()
    if len(raw) > _LOGO_MAX_BYTES:
        raise ConfigError(f"logo: {path.name} is over {_LOGO_MAX_BYTES // 1024} KiB", path=brand_file, line=line)
    kind = next((mime for magic, mime in _LOGO_TYPES.items() if raw.startswith(magic)), None)
    if kind is None:  # SVG is refused: it can carry scripts and links into the PDF
        raise ConfigError(f"logo: {path.name} is not a PNG or JPEG", path=brand_file, line=line)
    return f"data:{kind};base64,{base64.b64encode(raw).decode('ascii')}"


# --- the bundle this folder became, and the ones before it -----------------------------------------

@dataclass(frozen=True)
class BundleMatch:
    entry: Mapping[str, Any] | None  # the newest manifest entry holding exactly this folder's files
    earlier: tuple[Assessment, ...]  # verified earlier bundles, oldest first
    notes: tuple[str, ...]


def folder_digests(folder: Path, leave_out: Iterable[Path] = ()) -> dict[str, str]:
    skip = {p.resolve() for p in leave_out}
    return {p.relative_to(folder).as_posix(): sha256_file(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.resolve() not in skip}


def find_bundle(folder: Path, dist: Path, leave_out: Iterable[Path] = ()) -> BundleMatch:
    """Match the folder to a manifest entry by its files' digests (the report being written aside)."""
    manifest = dist / MANIFEST_NAME
    if not manifest.exists():
        return BundleMatch(None, (), ())
    entries = read_manifest(manifest)
    skip = {p.resolve() for p in leave_out}
    skipped_names = {p.relative_to(folder.resolve()).as_posix() for p in skip if p.is_relative_to(folder.resolve())}
    mine = folder_digests(folder, leave_out)
    match_index = None
    for index, candidate in enumerate(entries):
        files = {k: v for k, v in candidate["files"].items() if k not in skipped_names}
        if files == mine:
            match_index = index
    entry = entries[match_index] if match_index is not None else None
    before = entries[:match_index] if match_index is not None else entries
    earlier: list[Assessment] = []
    notes: list[str] = []
    for e in before:
        path = dist / str(e["bundle"])
        if Path(str(e["bundle"])).name != str(e["bundle"]) or not path.is_file():
            notes.append(f"earlier bundle {clip(e['bundle'], 80)} is listed but missing; left out of the trend")
            continue
        if not verify_bundle(path, manifest).intact:
            notes.append(f"earlier bundle {clip(e['bundle'], 80)} fails verification; left out of the trend")
            continue
        try:
            earlier.append(load_assessment(path, e))
        except InputError as error:
            notes.append(f"earlier bundle {clip(e['bundle'], 80)} cannot be read ({clip(error.message, 160)}); "
                         "left out of the trend")
    return BundleMatch(entry, tuple(sorted(earlier, key=lambda a: (a.created, a.id))), tuple(notes))


# --- the report's view ---------------------------------------------------------------------------

def _png_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _charts(a: Assessment) -> dict[str, ChartView]:
    return {name: ChartView(name, title, _png_uri(draw(a.charts[key])), "")
            for name, (key, draw, _, title) in CHARTS.items()}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def key_numbers(a: Assessment) -> dict[str, Any]:
    """The three numbers that matter, and the ones the readiness paragraph quotes."""
    p = a.predicate or {}
    ex = (p.get("exposure") or {}).get("summary") or {}
    sev = a.charts["violations"]["by_severity"]
    share = a.charts["pq_share"]["pq_share"]
    handshakes = sum(_count(v) for v in a.charts["pq_share"]["handshakes"].values())
    return {
        "hndl_exposed": sum(1 for r in a.results if r.get("exposed") and r.get("risk") == "hndl"),
        "signature_past_deadline": sum(1 for r in a.results
                                       if r.get("exposed") and r.get("risk") == "signature_deadline"),
        "vulnerable": sum(1 for r in a.results if r.get("risk") in ("hndl", "signature_deadline")),
        "assets": _count((p.get("summary") or {}).get("crypto_assets")) or len(a.results),
        "pq_share": None if share is None else round(100 * float(share), 1),
        "handshakes": handshakes,
        "high_critical": _count(sev.get("critical")) + _count(sev.get("high")),
        "critical": _count(sev.get("critical")),
        "open": _count(a.charts["violations"]["total"]),
        "waived": _count(a.charts["violations"]["total_waived"]),
        "flows": _count(ex.get("flows")),
        "gaps": len(p.get("gaps") or []),
    }


def readiness(n: Mapping[str, Any], scored: bool) -> tuple[str, str, str]:
    """(verdict, css class, paragraph) from the key numbers; plain words, no score invented."""
    if not scored:
        return ("Not scored", "other", "This assessment holds no attestation, so its quantum exposure was not "
                "scored; the findings below come from the policy gate alone.")
    if n["hndl_exposed"] or n["critical"]:
        verdict, css = "Action needed now", "fail"
    elif n["high_critical"] or n["signature_past_deadline"]:
        verdict, css = "Action needed", "warn"
    elif n["vulnerable"]:
        verdict, css = "Migration to plan", "warn"
    else:
        verdict, css = "Ready", "pass"
    share = ("no TLS handshakes were observed" if n["pq_share"] is None else
             f"{n['pq_share']:.1f}% of the {n['handshakes']} observed TLS handshakes used a hybrid post-quantum "
             "key exchange")
    exposed, past = n["hndl_exposed"], n["signature_past_deadline"]
    parts = [
        f"Of {n['assets']} cryptographic assets inventoried, {n['vulnerable']} rely on algorithms a quantum "
        f"computer would break; {exposed} {'protects' if exposed == 1 else 'protect'} data whose confidentiality "
        "outlives the expected arrival of such a computer plus the time to migrate, so traffic recorded today is "
        "exposed (harvest now, decrypt later)"
        + (f", and {past} {'signature stays' if past == 1 else 'signatures stay'} valid past the deadline for "
           "quantum-vulnerable signatures" if past else "") + ".",
        f"{share[0].upper()}{share[1:]}.",
        f"The policy gate reports {n['open']} open findings, {n['high_critical']} of them high or critical"
        + (f" ({n['waived']} more are waived)" if n["waived"] else "") + ".",
        (f"{n['gaps']} parts of the estate could not be assessed; they are listed under what was not assessed."
         if n["gaps"] else "Every stage ran and every source answered."),
    ]
    return verdict, css, " ".join(parts)


def _trend(current: Assessment, earlier: tuple[Assessment, ...],
           entry: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not earlier:
        return None
    if entry is not None:  # dated like the earlier ones: by its bundle
        current = replace(current, id=str(entry["id"]), created=str(entry.get("created") or current.created))
    rows = []
    for a in (*earlier, current):
        n = key_numbers(a)
        label = a.id if a is not current or entry is not None else "this assessment"
        rows.append({"id": clip(label, 60), "created": clip(a.created or "—", 40), "open": n["open"],
                     "high_critical": n["high_critical"], "hndl_exposed": n["hndl_exposed"],
                     "pq_share": "n/a" if n["pq_share"] is None else f"{n['pq_share']:.1f}%",
                     "current": a is current})
    points = [*(e.trend for e in earlier), current.trend]
    _, draw, _, title = TRENDS
    return {"rows": rows, "chart": ChartView("trends", title, _png_uri(draw(trends_data(points))), "")}


def findings_by_severity(findings: Iterable[Mapping[str, Any]], catalog: Mapping[str, Any]) -> list[dict[str, Any]]:
    """severity -> rules (worst first) -> affected assets, with the catalog's why and fix per rule."""
    grouped: dict[str, dict[str, list[Mapping[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for f in findings:
        severity = str(f.get("severity"))
        grouped[severity if severity in SEVERITIES else "unknown"][str(f.get("rule"))].append(f)
    out = []
    for severity in (*SEVERITIES, "unknown"):
        rules = grouped.get(severity)
        if not rules:
            continue
        entries = []
        for rule, hits in sorted(rules.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            found = catalog.get(rule)
            meta: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
            hits = sorted(hits, key=lambda f: (bool(f.get("waived")), str(f.get("bom_ref"))))
            entries.append({
                "rule": clip(rule, 80), "title": clip(meta.get("title") or "", 200),
                "why": clip(meta.get("why") or "", 600), "fix": clip(meta.get("fix") or "", 600),
                "example": clip(meta.get("example") or "", 300),
                "open": sum(1 for f in hits if not f.get("waived")), "waived": sum(1 for f in hits if f.get("waived")),
                "assets": [{"bom_ref": clip(f.get("bom_ref"), 120), "message": clip(f.get("message")),
                            "waived": bool(f.get("waived"))} for f in hits[:ASSETS_PER_RULE]],
                "more": max(0, len(hits) - ASSETS_PER_RULE),
            })
        out.append({"severity": severity, "total": sum(len(h) for h in rules.values()), "rules": entries})
    return out


# (short label in the table, the sentence the wave's introduction says once)
_ACTIONS = {
    "kex": ("hybrid PQ group", "enable a hybrid post-quantum TLS group (X25519MLKEM768) on endpoints and clients"),
    "kem": ("ML-KEM", "replace RSA and classical Diffie-Hellman key establishment with ML-KEM (or a hybrid with it)"),
    "sig": ("ML-DSA / SLH-DSA", "re-issue quantum-vulnerable signatures and certificates with ML-DSA or SLH-DSA "
                                "(or a hybrid) before the signature deadline"),
}


def _action(r: Mapping[str, Any]) -> str:
    if r.get("risk") != "hndl":
        return "sig"
    return "kex" if r.get("is_flow") or r.get("asset_type") == "protocol" else "kem"


def roadmap(a: Assessment) -> list[dict[str, Any]]:
    """Quantum-vulnerable assets in migration waves, each ordered by exposure (worst first)."""
    open_by_ref = Counter(str(f.get("bom_ref")) for f in a.findings if not f.get("waived"))

    def row(r: Mapping[str, Any]) -> dict[str, Any]:
        flow = r.get("flow") or {}
        hndl = r.get("risk") == "hndl"
        years = r.get("exposure_years") if hndl else r.get("years_past_deadline")
        expected = r.get("expected_exposed_years")
        return {"name": clip(r.get("name"), 160), "algorithm": clip(r.get("algorithm") or "—", 60),
                "where": clip(flow_where(flow, r), 120),
                "risk": "HNDL" if hndl else "signature",
                "years": "—" if years is None else f"{float(years):+.1f}",
                "expected": "—" if expected is None else f"{float(expected):.1f}",
                "findings": open_by_ref.get(str(r.get("bom_ref")), 0), "action": _ACTIONS[_action(r)][0]}

    def worst(r: Mapping[str, Any]) -> tuple[Any, ...]:
        return (-float(r.get("exposure_years") or r.get("years_past_deadline") or 0.0),
                -float(r.get("expected_exposed_years") or 0.0), -float(r.get("probability_exposed") or 0.0),
                str(r.get("name")), str(r.get("bom_ref")))

    vulnerable = [r for r in a.results if r.get("risk") in ("hndl", "signature_deadline")]
    waves = [
        ("Now", "Exposed today: recorded traffic outlives the quantum timeline, or signatures stay valid past "
                "the deadline.", [r for r in vulnerable if r.get("exposed")]),
        ("Next", "Key exchange a quantum computer would break, within the margin today: migrate before the "
                 "margin closes, worst expected exposure first.",
         [r for r in vulnerable if not r.get("exposed") and r.get("risk") == "hndl"]),
        ("Plan", "Quantum-vulnerable signatures not yet past the deadline: re-issue at renewal.",
         [r for r in vulnerable if not r.get("exposed") and r.get("risk") != "hndl"]),
    ]
    return [{"name": name, "why": why, "total": len(rows),
             "actions": [_ACTIONS[k][1] for k in sorted({_action(r) for r in rows})],
             "rows": [row(r) for r in sorted(rows, key=worst)[:ROADMAP_ROWS]],
             "more": max(0, len(rows) - ROADMAP_ROWS)} for name, why, rows in waves]


def inventory_appendix(estate: Estate, limit: int = INVENTORY_ROWS) -> dict[str, Any]:
    """The first `limit` assets in exposure order (the estate's own), with where each was seen, and the
    count of the rest by quantum status."""
    open_by_ref = Counter(str(f.get("bom_ref")) for f in estate.findings if not f.get("waived"))

    def where(asset: Any) -> str:
        if asset.flow is not None:
            return clip(asset.flow.sni or asset.flow.endpoint or asset.flow.process, 120)
        return clip(asset.evidence[0].where, 120) if asset.evidence else ""

    shown, rest = estate.assets[:limit], estate.assets[limit:]
    by_status = Counter(asset.status for asset in rest)
    return {
        "total": len(estate.assets),
        "rows": [{"name": clip(asset.name, 160), "type": asset.asset_type,
                  "algorithm": " · ".join(v for v in (asset.algorithm, f"{asset.key_bits} bits" if asset.key_bits
                                                      else "") if v) or "—",
                  "status": asset.status, "where": where(asset), "sources": ", ".join(asset.sources),
                  "findings": open_by_ref.get(asset.ref, 0)} for asset in shown],
        "more": len(rest),
        "more_by_status": [(status, by_status[status]) for status in STATUSES if by_status[status]],
        "notes": list(estate.notes),
    }


def _changes(a: Assessment, estate: Estate, match: BundleMatch, dist: Path) -> dict[str, Any] | None:
    """What changed since the newest earlier bundle in the manifest; None when there is none."""
    if not match.earlier:
        return None
    previous = match.earlier[-1]
    current_id = str(match.entry["id"]) if match.entry else "this assessment"
    created = str(match.entry.get("created") or a.created) if match.entry else a.created
    before = snapshot(previous.id, previous.created, load_estate(dist / previous.bundle, previous))
    return changes_view(diff(before, snapshot(current_id, created, estate)), listed=CHANGES_LISTED)


def _appendix(a: Assessment) -> dict[str, Any]:
    p = a.predicate or {}
    prov, policy, summary = p.get("provenance") or {}, p.get("policy") or {}, p.get("summary") or {}
    tool = prov.get("tool") or {}
    versions = [("carnot (assessment)", tool.get("version")), ("carnot (report)", __version__),
                ("git commit", prov.get("git_commit")), ("python", prov.get("python")),
                ("policy engine", policy.get("engine")), ("policy digest", policy.get("policy_digest"))]
    versions += sorted((str(k), v) for k, v in (prov.get("libraries") or {}).items())
    versions.append(("renderer", f"WeasyPrint {_weasyprint_version()}"))
    sources = (summary.get("evidence_sources") or {})
    return {
        "versions": [(clip(k, 60), clip(v if v not in (None, "") else "not recorded", 120)) for k, v in versions],
        "stages": [{"stage": clip(name, 40), "status": clip((rec or {}).get("status"), 20),
                    "reason": clip((rec or {}).get("reason"), 300)}
                   for name, rec in sorted((p.get("stages") or {}).items()) if isinstance(rec, Mapping)],
        "sources": [(clip(k, 40), _count(v), _count((sources.get("evidence") or {}).get(k)))
                    for k, v in sorted((sources.get("assets") or {}).items())],
        "inputs": [{"role": clip(i.get("role"), 60), "name": clip(i.get("name"), 120),
                    "sha256": clip(i.get("sha256"), 64)} for i in prov.get("inputs") or [] if isinstance(i, Mapping)],
        "profile": clip(policy.get("profile") or "—", 40), "mode": clip(policy.get("mode") or "—", 40),
        "fail_at": clip(policy.get("fail_at") or "—", 20),
        "generated_at": clip(p.get("generated_at") or "—", 40),
        "source_date_epoch": p.get("source_date_epoch"),
    }


def _weasyprint_version() -> str:
    import weasyprint

    return str(weasyprint.__version__)


def _policy_catalog() -> Mapping[str, Any]:
    from assess.gate import load_policies
    from assess.gate.run import default_policies_dir

    try:
        return load_policies(default_policies_dir()).catalog
    except InputError:  # the report still lists every rule id without the guide's words
        return {}


def report_html(folder: str | Path, *, dist: str | Path | None = None, brand: Brand | None = None,
                leave_out: Iterable[Path] = ()) -> tuple[str, BundleMatch]:
    """The report as one self-contained HTML document (CSS inline, PNGs as data: URIs, no script),
    and the bundle the folder was matched to."""
    src = Path(folder)
    if not src.is_dir():
        raise InputError("no such assessment folder", path=src)
    a = load_source(src)
    dist_dir = Path(dist) if dist is not None else src.parent / "dist"
    match = find_bundle(src, dist_dir, leave_out)
    info = read_assessment_info(src)
    charts = _charts(a)
    estate = folder_estate(src, a)
    view = assessment_view(a, list(charts.values()))
    numbers = key_numbers(a)
    verdict, verdict_class, paragraph = readiness(numbers, a.predicate is not None)
    attestation = src / "attestation.json"
    assessment_id = str(match.entry["id"]) if match.entry else None
    context = {
        "a": view, "brand": brand or Brand(), "charts": charts, "numbers": numbers,
        "verdict": verdict, "verdict_class": verdict_class, "paragraph": paragraph,
        "cover": {
            "client": info.client, "scope": info.scope,
            "date": (info.date or view["created"] or "")[:10] or None,
            "assessment_id": clip(assessment_id, 80) if assessment_id else None,
            "bundle": clip(match.entry["bundle"], 120) if match.entry else None,
            "bundle_sha256": clip(match.entry["sha256"], 64) if match.entry else None,
            "attestation_sha256": sha256_file(attestation) if attestation.is_file() else None,
        },
        "trend": _trend(a, match.earlier, match.entry),
        "trend_notes": list(match.notes),
        "severity_groups": findings_by_severity(a.findings, _policy_catalog()),
        "roadmap": roadmap(a),
        "changes": _changes(a, estate, match, dist_dir),
        "inventory": inventory_appendix(estate),
        "appendix": _appendix(a),
        "generated": iso(build_time()),
        "css": resource("site/static/carnot.css").read_text(encoding="utf-8")
        + resource("site/templates/report/report.css").read_text(encoding="utf-8"),
    }
    return environment().get_template("report/report.html.j2").render(root="", **context), match


# --- the PDF -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportResult:
    out: str
    pages: int
    bytes: int
    sha256: str
    bundle: str | None

    def report(self) -> dict[str, Any]:
        return {"out": self.out, "pages": self.pages, "bytes": self.bytes, "sha256": self.sha256,
                "bundle": self.bundle}


def render_pdf(html: str) -> tuple[bytes, int]:
    """(PDF bytes, page count). Only data: URIs are fetched; nothing from disk or the network."""
    import logging

    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # its CSS warnings are not the user's problem
    document = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).render()
    pdf = document.write_pdf(pdf_identifier=False)
    return bytes(pdf), len(document.pages)


def write_report(folder: str | Path, out: str | Path, *, dist: str | Path | None = None,
                 brand: Brand | None = None) -> ReportResult:
    """Render the assessment in folder to a PDF at out (written atomically)."""
    target = Path(out)
    if target.is_dir():
        raise OutputError("is a folder; give the PDF's file name", path=target)
    html, match = report_html(folder, dist=dist, brand=brand, leave_out=[target])
    pdf, pages = render_pdf(html)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, pdf)
    return ReportResult(out=str(target), pages=pages, bytes=len(pdf), sha256=sha256_file(target),
                        bundle=str(match.entry["bundle"]) if match.entry else None)
