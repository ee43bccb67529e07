"""Pictures of an assessment: the exposure Sankey, violations, PQ handshake share, trends.

`data` builds the numbers (pure), `png` draws them with matplotlib, `interactive` with plotly,
`history` reads assessments back from bundles. `visualize(...)` is `carnot viz`: it scores the
CBOM with `exposure.assess_exposure`, joins the gate's findings, and writes

- `hndl_sankey.png`, `hndl_sankey.html` (sources → algorithms/groups → quantum risk → policy outcome)
- `violations.png`, `violations.html` (findings by rule and severity)
- `pq_share.png`, `pq_share.html` (observed handshakes on hybrid PQ versus classical groups)
- `trends.png`, `trends.html` (only given a dist/ of earlier bundles)
- `viz_data.json` (the data behind every chart; format `carnot-viz/1`)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from assess.attest import GateResults
from assess.cbom import document_assets, read_cbom
from assess.clock import build_time
from assess.exposure import ExposureConfig, assess_exposure
from assess.fsio import pretty_json, write_atomic
from assess.viz import interactive, png
from assess.viz.data import chart_data, trends_data
from assess.viz.history import read_dist

VIZ_FORMAT = "carnot-viz/1"
VIZ_DATA = "viz_data.json"

# chart name -> (key in the chart data, PNG renderer, plotly figure, title)
CHARTS: dict[str, tuple[str, Callable[[Mapping[str, Any]], bytes],
                        Callable[[Mapping[str, Any]], go.Figure], str]] = {
    "hndl_sankey": ("sankey", png.sankey_png, interactive.sankey_figure, "Quantum exposure (HNDL) Sankey"),
    "violations": ("violations", png.violations_png, interactive.violations_figure, "Findings by rule"),
    "pq_share": ("pq_share", png.pq_share_png, interactive.pq_share_figure, "PQ share of handshakes"),
}
TRENDS = ("trends", png.trends_png, interactive.trends_figure, "Trends across assessments")


@dataclass(frozen=True)
class VizResult:
    data: Mapping[str, Any]
    written: tuple[str, ...]

    def report(self) -> dict[str, Any]:
        sankey, violations, pq = self.data["sankey"], self.data["violations"], self.data["pq_share"]
        return {
            "assets": sankey["assets"],
            "findings_open": violations["total"],
            "findings_waived": violations["total_waived"],
            "pq_share": pq["pq_share"],
            "exposed_flows": self.data["exposed_flows"],
            "trend_points": len(self.data.get("trends", {}).get("assessments", [])),
            "written": list(self.written),
        }


def write_charts(out: Path, data: Mapping[str, Any], *, html: bool = True) -> list[str]:
    """Write every chart the data holds (PNG, and HTML with plotly.js inline) and viz_data.json."""
    out.mkdir(parents=True, exist_ok=True)
    charts = dict(CHARTS)
    if "trends" in data:
        charts["trends"] = TRENDS
    written: list[str] = []
    for name, (key, draw_png, figure, title) in charts.items():
        written.append(str(write_atomic(out / f"{name}.png", draw_png(data[key]))))
        if html:
            page = interactive.standalone_html(figure(data[key]), title)
            written.append(str(write_atomic(out / f"{name}.html", page.encode("utf-8"))))
    written.append(str(write_atomic(out / VIZ_DATA, pretty_json({"format": VIZ_FORMAT, **data}))))
    return written


def visualize(
    bom: str | Path,
    gate_dir: str | Path,
    out: str | Path,
    *,
    config: ExposureConfig | None = None,
    history: str | Path | None = None,
) -> VizResult:
    """`carnot viz`: score the CBOM, join the gate's findings, draw and write every chart."""
    doc = read_cbom(bom)
    gate = GateResults.load(gate_dir)
    report = assess_exposure(document_assets(doc), config or ExposureConfig(), build_time().date())
    results = report.to_dict()["results"]
    data: dict[str, Any] = chart_data(results, [dict(f) for f in gate.findings])
    if history is not None:
        assessments, _ = read_dist(history)
        data["trends"] = trends_data(a.trend for a in assessments)
    written = write_charts(Path(out), data)
    return VizResult(data=data, written=tuple(written))
