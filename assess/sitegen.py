"""The report site: static HTML from the bundles in dist/, safe against what it displays.

`build_site(dist, out)` verifies and opens every bundle the manifest lists and writes:

    index.html               what Carnot is, the pipeline, quick start, the latest status
    latest.html              the latest assessment
    assessments/<id>.html    one page per assessment (+ assessments/<id>/ with its PNGs)
    history.html             trends across assessments (+ trends/trends.png)
    downloads.html           every bundle with its SHA256 and verification status, the manifest
    policy-guide.html        docs/POLICY_GUIDE.md, which findings' remediation links point into
    dist/                    copies of the intact bundles and assessments_manifest.json
    assets/                  carnot.css, charts.js, plotly.min.js (the only scripts; all local)

Safety: templates autoescape (text and attributes); chart figures are JSON in
`<script type="application/json">` blocks with <, >, &, U+2028/2029 escaped; every href is built
here from validated ids and anchors, never copied from data; a Content-Security-Policy allows only
the site's own scripts. Observed strings are truncated for display and isolated with <bdi>.

`render_assessment_html(source, for_print=...)` renders the same assessment partial as a single
self-contained document (CSS inline, PNGs as data: URIs, no script) for the PDF report.

The site is built in a temporary folder beside `out` and swapped in at the end, so a failed build
never leaves half a site.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import multiprocessing
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markdown_it import MarkdownIt

from assess import __version__, sitedata
from assess.bundle import MANIFEST_NAME, verify_bundle
from assess.diff import CATEGORIES, AssetChange, Diff, FindingChange, Snapshot, diff, snapshot
from assess.errors import InputError, OutputError, VerificationError
from assess.fsio import pretty_json, read_json
from assess.resources import policy_guide, resource
from assess.signing import Trust
from assess.sitedata import remediation_anchor
from assess.viz import CHARTS, TRENDS, interactive
from assess.viz.data import SEVERITIES, TrendPoint, chart_data, trends_data
from assess.viz.estate import Estate, clip, finding_order, load_estate
from assess.viz.history import (
    ATTESTATION,
    GATE_RESULT,
    Assessment,
    BundleStatus,
    check_facts,
    facts_from_predicate,
    load_assessment,
    verify_dist,
    with_problem,
)

MARKER = ".carnot-site"  # marks a folder this module built, so a rebuild may replace it
TOP_FINDINGS = 25
TOP_EXPOSED = 15
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'none'; base-uri 'none'; form-action 'none'")
PRINT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


# --- the view of one assessment ----------------------------------------------------------------

def _finding_row(f: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "rule": clip(f.get("rule"), 80),
        "severity": str(f.get("severity")) if str(f.get("severity")) in SEVERITIES else "unknown",
        "bom_ref": clip(f.get("bom_ref"), 120),
        "message": clip(f.get("message")),
        "remediation": clip(f.get("remediation"), 120),
        "anchor": remediation_anchor(f),
        "waived": bool(f.get("waived")),
    }


def top_findings(findings: Iterable[Mapping[str, Any]], assets: Mapping[str, int] | None = None,
                 limit: int = TOP_FINDINGS) -> list[dict[str, Any]]:
    """The most severe findings, each with its row on the findings page and, given the inventory's
    bom-ref -> row, its asset's row (None where there is none)."""
    ordered = sorted(findings, key=finding_order)[:limit]
    return [{**_finding_row(f), "index": i, "asset": (assets or {}).get(str(f.get("bom_ref")))}
            for i, f in enumerate(ordered)]


def _number(value: Any, spec: str) -> str:
    return "—" if value is None else format(float(value), spec)


def flow_where(flow: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    """A flow's SNI or endpoint, with its protocol when it is not TLS over TCP (`SSH 10.0.0.5:22`)."""
    where = str(flow.get("sni") or flow.get("endpoint") or ", ".join(result.get("sources") or []))
    protocol = flow.get("protocol")
    return f"{str(protocol).upper()} {where}" if protocol in ("ssh", "quic") else where


def top_exposed(results: Iterable[Mapping[str, Any]], limit: int = TOP_EXPOSED) -> list[dict[str, Any]]:
    """Exposed assets and flows, worst first (the order ExposureReport.exposed() uses)."""
    hits = sorted((r for r in results if r.get("exposed")), key=lambda r: (
        -(r.get("exposure_years") or 0.0), -(r.get("probability_exposed") or 0.0),
        -(r.get("years_past_deadline") or 0.0), str(r.get("bom_ref"))))
    rows = []
    for r in hits[:limit]:
        flow = r.get("flow") or {}
        rows.append({
            "name": clip(r.get("name"), 160),
            "algorithm": clip(r.get("algorithm"), 60),
            "risk": clip(r.get("risk"), 40),
            "where": clip(flow_where(flow, r), 160),
            "years": _number(r.get("exposure_years") if r.get("risk") == "hndl" else r.get("years_past_deadline"),
                             "+.1f"),
            "probability": "—" if r.get("probability_exposed") is None
            else f"{100 * float(r['probability_exposed']):.0f}%",
        })
    return rows


def assumption_rows(assumptions: Mapping[str, Any]) -> list[dict[str, str]]:
    rows = []
    for name, value in sorted(assumptions.items()):
        if isinstance(value, Mapping):
            origin = str(value.get("origin", ""))
            shown = value.get("value", value.get("points"))
            if isinstance(shown, Mapping):
                shown = ", ".join(f"{k} {v:g}" if isinstance(v, (int, float)) else f"{k} {v}"
                                  for k, v in sorted(shown.items()))
            elif isinstance(shown, list):
                shown = ", ".join(f"{p[0]:g}y→{100 * p[1]:.0f}%" if isinstance(p, list) and len(p) == 2
                                  else str(p) for p in shown)
            note = value.get("source")
        else:
            origin, shown, note = "", value, None
        rows.append({"name": clip(name, 80), "value": clip(shown), "origin": clip(origin, 40),
                     "note": clip(note) if note else ""})
    return rows


@dataclass(frozen=True)
class ChartView:
    name: str
    title: str
    src: str  # a relative path we build, or a data: URI
    figure_json: str  # script-safe JSON of the plotly figure ("" when not interactive)


def _share_by_protocol(by_protocol: dict[str, dict[str, int]]) -> str:
    """`TLS 40.0% of 10, QUIC n/a of 0, SSH 50.0% of 2`: the hybrid PQ share of each protocol's handshakes."""
    parts = []
    for protocol, counts in by_protocol.items():
        decided = int(counts.get("hybrid_pq", 0)) + int(counts.get("classical", 0))
        share = f"{100 * int(counts.get('hybrid_pq', 0)) / decided:.1f}%" if decided else "n/a"
        parts.append(f"{clip(protocol, 8).upper()} {share} of {decided}")
    return ", ".join(parts) or "—"


def assessment_view(a: Assessment, charts: list[ChartView], estate: Estate | None = None) -> dict[str, Any]:
    """Everything the assessment partial shows, already bounded; the template escapes it. With the
    estate (on the site), findings link to their rows in the browsers and the browsers are listed."""
    p = a.predicate or {}
    summary, policy = p.get("summary") or {}, p.get("policy") or {}
    exposure = p.get("exposure") or {}
    ex_summary = exposure.get("summary") or {}
    violations, pq = a.charts["violations"], a.charts["pq_share"]
    share = pq["pq_share"]
    status = clip(policy.get("status") or summary.get("policy_status") or "not assessed", 40)
    return {
        "id": a.id,
        "created": clip(a.created, 40),
        "bundle": a.bundle,
        "sha256": a.sha256,
        "status": status,
        "status_class": status if status in ("pass", "warn", "fail") else "other",
        "profile": clip(policy.get("profile") or "—", 40),
        "mode": clip(policy.get("mode") or "—", 40),
        "engine": clip(policy.get("engine") or "—", 40),
        "facts": [
            ("crypto assets", summary.get("crypto_assets", len(a.results))),
            ("open findings", violations["total"]),
            ("waived findings", violations["total_waived"]),
            ("HNDL-exposed assets", ex_summary.get("hndl_exposed", "—")),
            ("signatures past deadline", ex_summary.get("signature_past_deadline", "—")),
            ("observed flows", ex_summary.get("flows", "—")),
            ("HNDL-exposed flows", a.charts["exposed_flows"]),
            ("handshakes on hybrid PQ", "n/a" if share is None else f"{100 * share:.1f}%"),
            ("... by protocol", _share_by_protocol(pq.get("handshakes_by_protocol") or {})),
            ("gaps", len(p.get("gaps") or [])),
        ],
        "by_severity": [(s, violations["by_severity"][s]) for s in SEVERITIES],
        "charts": charts,
        "findings": top_findings(a.findings, estate.index() if estate else None),
        "findings_total": len(a.findings),
        "exposed": top_exposed(a.results),
        "exposed_total": sum(1 for r in a.results if r.get("exposed")),
        "as_of": clip(exposure.get("as_of") or "—", 40),
        "model": clip((exposure.get("assumptions") or {}).get("model") or "", 200),
        "assumptions": assumption_rows({k: v for k, v in (exposure.get("assumptions") or {}).items()
                                        if k != "model"}),
        "gaps": [{k: clip(g.get(k), 200) for k in ("stage", "scope", "reason", "origin")}
                 for g in (p.get("gaps") or [])[:200] if isinstance(g, Mapping)],
        "gaps_total": len(p.get("gaps") or []),
        "notes": list(a.notes),
        "redaction": bool((p.get("redaction") or {}).get("enabled")),
        "browse": None if estate is None else {"assets": len(estate.assets), "flows": len(estate.flows),
                                               "findings": len(estate.findings)},
        "changes": None,  # set by the site once the previous assessment is known (changes_view)
    }


# --- templates ---------------------------------------------------------------------------------

def environment() -> Environment:
    templates = resource("site/templates")
    env = Environment(loader=FileSystemLoader(str(templates)), undefined=StrictUndefined,
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals.update(version=__version__, severities=SEVERITIES)
    return env


def _has_data(key: str, chart: Mapping[str, Any]) -> bool:
    if key == "sankey":
        return bool(chart["nodes"])
    if key == "violations":
        return bool(chart["rules"])
    return any(chart["handshakes"].values())


@dataclass(frozen=True)
class RenderedCharts:
    """One assessment's pictures: PNG bytes and plotly figure JSON ("" when there is nothing to explore)."""

    pngs: Mapping[str, bytes]
    figures: Mapping[str, str]


def render_charts(charts: Mapping[str, Any], interactive_charts: bool = True) -> RenderedCharts:
    """Draw every chart of one assessment (pure; runs in a worker process for big sites)."""
    pngs, figures = {}, {}
    for name, (key, draw_png, figure, _) in CHARTS.items():
        pngs[name] = draw_png(charts[key])
        live = interactive_charts and _has_data(key, charts[key])
        figures[name] = interactive.figure_json(figure(charts[key])) if live else ""
    return RenderedCharts(pngs, figures)


@dataclass(frozen=True)
class PreparedAssessment:
    """What the site needs of one assessment, small enough to pass back from a worker process."""

    id: str
    created: str
    charts: Mapping[str, Any]
    trend: TrendPoint
    view: dict[str, Any]
    pngs: Mapping[str, bytes]
    browsers: tuple[sitedata.Browser, ...]  # inventory, flows, findings, with their data files
    snapshot: Snapshot  # what the changes page compares
    estate_notes: tuple[str, ...]


@dataclass(frozen=True)
class Unrendered:
    """A verified bundle the site could not read: skipped, and listed on the downloads page with why."""

    bundle: str
    reason: str


def prepare_assessment(job: tuple[Path, Mapping[str, Any]]) -> PreparedAssessment | Unrendered:
    """Read one verified bundle, draw its charts and shape its page view; what fails is data."""
    path, entry = job
    try:
        a = load_assessment(path, entry)
        estate = load_estate(path, a)
        rendered = render_charts(a.charts)
        view = assessment_view(a, _chart_views(rendered, functools.partial(_chart_src, a.id)), estate)
        browsers = tuple(sitedata.browsers(estate))
    except InputError as e:
        return Unrendered(path.name, f"unreadable: {e.message}")
    except Exception as e:  # a value no check foresaw: this bundle is skipped, the site is still built
        return Unrendered(path.name, f"could not be rendered: {type(e).__name__}: {str(e)[:200]}")
    return PreparedAssessment(a.id, a.created, a.charts, a.trend, view, rendered.pngs, browsers,
                              snapshot(a.id, a.created, estate), estate.notes)


def _prepare_all(jobs: list[tuple[Path, Mapping[str, Any]]]) -> Iterator[PreparedAssessment | Unrendered]:
    """prepare_assessment over every bundle; parsing, matplotlib and plotly are CPU-bound, so processes."""
    workers = min(os.cpu_count() or 1, len(jobs))
    if workers < 2 or len(jobs) < 4:
        yield from map(prepare_assessment, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield from pool.map(prepare_assessment, jobs)


def _chart_views(rendered: RenderedCharts, src: Callable[[str], str]) -> list[ChartView]:
    return [ChartView(name, title, src(name), rendered.figures[name]) for name, (_, _, _, title) in CHARTS.items()]


def _write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def _guide_html() -> str:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

    def heading_open(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        title = tokens[idx + 1].content if idx + 1 < len(tokens) else ""
        slug = re.sub(r"[^a-z0-9 _-]", "", title.lower()).strip().replace(" ", "-")
        if slug:
            tokens[idx].attrSet("id", slug)
        return str(renderer.renderToken(tokens, idx, options, env))

    md.add_render_rule("heading_open", heading_open)
    return str(md.render(policy_guide().read_text(encoding="utf-8")))


# --- the site ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SiteResult:
    out: str
    assessments: int
    bundles: int
    tampered: tuple[str, ...]
    pages: int
    bytes: int

    def report(self) -> dict[str, Any]:
        return {"out": self.out, "assessments": self.assessments, "bundles": self.bundles,
                "tampered": list(self.tampered), "pages": self.pages, "bytes": self.bytes}


def build_site(dist: str | Path, out: str | Path, *, trust: Trust | None = None,
               progress: Callable[[int], None] | None = None) -> SiteResult:
    """Verify every bundle in dist (with trust, their signatures too) and write the site to out
    (replacing a site built here before). Bundles that fail, or verify but cannot be read, are listed
    with their reasons and not published."""
    dist_dir, out_dir = Path(dist), Path(out)
    intact, statuses = verify_dist(dist_dir, trust)
    _check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        pages, statuses, published = _render_site(staging, dist_dir, intact, statuses, environment(), progress)
        _swap_in(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    size = sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file())
    return SiteResult(out=str(out_dir), assessments=published, bundles=len(statuses),
                      tampered=tuple(s.bundle for s in statuses if not s.intact), pages=pages, bytes=size)


def _check_replaceable(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise OutputError("exists and is not a site Carnot built; choose an empty or new folder", path=out)


def _swap_in(staging: Path, out: Path) -> None:
    os.chmod(staging, 0o755)
    if out.exists():
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(out)


def _render_site(
    root: Path,
    dist: Path,
    intact: list[tuple[Path, Mapping[str, Any]]],
    statuses: list[BundleStatus],
    env: Environment,
    progress: Callable[[int], None] | None,
) -> tuple[int, list[BundleStatus], int]:
    """Write the site into root; (pages written, every bundle's status, assessments published)."""
    _write(root / MARKER, f"built by carnot {__version__}\n")
    for name in ("carnot.css", "charts.js", "explore.js"):
        _write(root / "assets" / name, resource(f"site/static/{name}").read_bytes())
    _write(root / "assets" / "plotly.min.js", interactive.plotly_js())
    pages = 0

    def page(rel: str, template: str, **context: Any) -> None:
        nonlocal pages
        prefix = "../" * rel.count("/")
        html = env.get_template(template).render(root=prefix, page=rel, csp=CSP, **context)
        _write(root / rel, html)
        pages += 1

    # Written as each arrives, so only one assessment's inventory data is held at a time.
    prepared: list[PreparedAssessment] = []
    for a in _prepare_all(intact):
        if isinstance(a, Unrendered):
            statuses = [with_problem(s, a.reason) if s.bundle == a.bundle else s for s in statuses]
        else:
            folder = root / "assessments" / a.id
            for name, png in a.pngs.items():
                _write(folder / f"{name}.png", png)
            _write(folder / "viz_data.json", json.dumps(a.charts, sort_keys=True, indent=1, ensure_ascii=False))
            for b in a.browsers:
                _browser_page(page, folder, a.id, b, a.view["browse"], a.estate_notes)
            prepared.append(dataclasses.replace(a, browsers=()))
        if progress:
            progress(1)

    ordered = sorted(prepared, key=lambda a: (a.created, a.id))
    assessments: list[PreparedAssessment] = []
    for a in ordered:
        previous = assessments[-1] if assessments else None
        change = diff(previous.snapshot, a.snapshot) if previous else None
        folder = root / "assessments" / a.id
        if change is not None:
            _write(folder / "changes.json", pretty_json(change.as_dict()))
        a = dataclasses.replace(a, view={**a.view, "changes": changes_view(change)})
        _browser_page(page, folder, a.id, sitedata.changes_browser(change), a.view["browse"], (),
                      changes=a.view["changes"])
        page(f"assessments/{a.id}.html", "assessment_page.html.j2", a=a.view)
        assessments.append(a)
    common = {"assessment_count": len(prepared)}

    latest = assessments[-1].view if assessments else None
    page("index.html", "index.html.j2", a=latest, **common)
    page("latest.html", "latest.html.j2", a=latest, **common)

    trends = trends_data(a.trend for a in assessments)
    trend_chart = None
    if assessments:
        _, draw_png, figure, title = TRENDS
        _write(root / "trends" / "trends.png", draw_png(trends))
        trend_chart = ChartView("trends", title, "trends/trends.png",
                                interactive.figure_json(figure(trends)))
    rows = [{"id": a.id, "created": a.view["created"], "status": a.view["status"],
             "by_severity": a.view["by_severity"], "pq": dict(a.view["facts"])["handshakes on hybrid PQ"],
             "exposed_flows": a.charts["exposed_flows"]} for a in reversed(assessments)]
    page("history.html", "history.html.j2", rows=rows, trend=trend_chart)

    for s in statuses:
        if s.intact:
            shutil.copyfile(dist / s.bundle, _mkparent(root / "dist" / s.bundle))
    shutil.copyfile(dist / MANIFEST_NAME, _mkparent(root / "dist" / MANIFEST_NAME))
    page("downloads.html", "downloads.html.j2", bundles=list(reversed(statuses)))
    page("policy-guide.html", "policy_guide.html.j2", guide=_guide_html())
    return pages, statuses, len(prepared)


def _browser_page(page: Callable[..., None], folder: Path, assessment_id: str, b: sitedata.Browser,
                  browse: Mapping[str, int], notes: Iterable[str], changes: Mapping[str, Any] | None = None) -> None:
    for name, data in b.files:
        _write(folder / "data" / name, data)
    page(f"assessments/{assessment_id}/{b.page}.html", "browser.html.j2", a_id=assessment_id, b=b, browse=browse,
         notes=list(notes), data_files=[name for name, _ in b.files], changes=changes)


def changes_view(d: Diff | None, listed: int = 0) -> dict[str, Any] | None:
    """What changed, as the changes page, the assessment page and the PDF show it: the before/after
    summary, the count per kind of change and (listed > 0) the first `listed` of each; None without an
    earlier assessment."""
    if d is None:
        return None

    def share(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.1f}%"

    old, new = d.old, d.new
    counts = d.counts()
    return {
        "old_id": old.id, "old_created": clip(old.created, 40),
        "rows": [("assets", old.assets, new.assets), ("open findings", old.open_findings, new.open_findings),
                 ("waived findings", old.waived_findings, new.waived_findings),
                 ("handshakes on hybrid PQ", share(old.pq_share["pq_share"]), share(new.pq_share["pq_share"])),
                 ("observed handshakes", sum(old.pq_share["handshakes"].values()),
                  sum(new.pq_share["handshakes"].values()))],
        "counts": [(label, counts[name]) for name, label in CATEGORIES.items()],
        "lists": [{"label": label, "total": counts[name], "more": max(0, counts[name] - listed),
                   "rows": [_change_row(c) for c in getattr(d, name)[:listed]]}
                  for name, label in CATEGORIES.items() if listed and counts[name]],
    }


def _change_row(c: AssetChange | FindingChange) -> dict[str, str]:
    if isinstance(c, AssetChange):
        return {"what": " → ".join(s for s in (c.before, c.after) if s is not None), "name": clip(c.name, 160),
                "ref": clip(c.ref, 120)}
    return {"what": f"{c.severity} · {clip(c.rule, 80)}", "name": clip(c.message, 160), "ref": clip(c.bom_ref, 120)}


def _chart_src(assessment_id: str, chart: str) -> str:
    return f"assessments/{assessment_id}/{chart}.png"


def _mkparent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# --- one assessment as a self-contained document (the PDF report) -----------------------------

def load_source(source: str | Path) -> Assessment:
    """An assessment from a bundle zip (verified when its manifest is beside it) or a folder."""
    path = Path(source)
    if path.is_dir():
        return _load_folder(path)
    if not path.is_file():
        raise InputError("no such bundle or assessment folder", path=path)
    manifest = path.parent / MANIFEST_NAME
    entry: dict[str, Any]
    if manifest.exists():
        result = verify_bundle(path, manifest)
        if not result.intact:
            raise VerificationError(f"bundle failed verification: {result.problems[0]}", path=path)
        entry = next(e for e in read_json(manifest)["entries"] if e["bundle"] == path.name)
    else:
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except zipfile.BadZipFile as e:
            raise InputError(f"not a zip bundle: {e}", path=path) from e
        entry = {"id": path.stem.removeprefix("assessment-"), "bundle": path.name, "sha256": "",
                 "files": {n: "" for n in names}}
    return load_assessment(path, entry)


def _load_folder(folder: Path) -> Assessment:
    statement = read_json(folder / ATTESTATION) if (folder / ATTESTATION).exists() else None
    predicate = statement.get("predicate") if isinstance(statement, dict) else None
    notes: list[str] = []
    if isinstance(predicate, dict):
        results, findings = facts_from_predicate(check_facts(predicate, f"{ATTESTATION}'s predicate", folder))
    else:
        predicate, results = None, []
        # `carnot assess` writes the gate's results under gate/; a hand-made folder may hold them at the top
        gate_path = next((p for p in (folder / GATE_RESULT, folder / "gate" / GATE_RESULT) if p.exists()), None)
        gate = check_facts(read_json(gate_path), GATE_RESULT, folder) if gate_path else {}
        findings = list(gate.get("findings") or [])
        notes.append("no attestation.json: exposure was not scored for this assessment")
        if gate_path is None:
            notes.append("no opa_result.json: the policy gate did not run")
    created = str((predicate or {}).get("generated_at", ""))
    return Assessment(id=folder.name, bundle="", sha256="", size=0, created=created,
                      files=tuple(sorted(p.name for p in folder.iterdir())), predicate=predicate,
                      results=tuple(results), findings=tuple(findings),
                      charts=chart_data(results, findings), notes=tuple(notes))


def render_assessment_html(source: str | Path | Assessment, *, for_print: bool = False) -> str:
    """One assessment as a self-contained HTML document: the site's partial, CSS inline, PNGs as
    data: URIs, no script. for_print adds the print layout (A4 pages, no screen chrome)."""
    a = source if isinstance(source, Assessment) else load_source(source)
    rendered = render_charts(a.charts, interactive_charts=False)
    charts = _chart_views(rendered, lambda n: "data:image/png;base64,"
                          + base64.b64encode(rendered.pngs[n]).decode("ascii"))
    css = resource("site/static/carnot.css").read_text(encoding="utf-8")
    return environment().get_template("standalone.html.j2").render(
        a=assessment_view(a, charts), css=css, for_print=for_print, csp=PRINT_CSP, root="")
