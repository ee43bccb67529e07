"""Interactive charts with plotly: figures as JSON for the site, standalone HTML for the bundle.

Every label passes through `plotly_text` first, because plotly.js reads a subset of HTML (links
among it) in text. The standalone pages embed plotly.js inline so they work offline and from
file://; the site loads one local copy instead (`plotly_js()`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import plotly
import plotly.graph_objects as go
import plotly.io as pio

from assess.viz.data import SEVERITIES
from assess.viz.labels import plotly_text
from assess.viz.png import NEUTRAL, SEVERITY_COLOURS, node_colour

_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
    "margin": {"l": 10, "r": 10, "t": 70, "b": 10},
}
_CONFIG = {"displaylogo": False, "responsive": True}


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def sankey_figure(sankey: Mapping[str, Any]) -> go.Figure:
    nodes, links = sankey["nodes"], sankey["links"]
    link_colours = []
    for link in links:
        n = nodes[link["target"]] if nodes[link["target"]]["column"] == 2 else nodes[link["source"]]
        link_colours.append(_rgba(node_colour(n["column"], n["label"]), 0.35))
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node={
            "label": [plotly_text(n["label"]) for n in nodes],
            "color": [node_colour(n["column"], n["label"]) for n in nodes],
            "pad": 12,
            "thickness": 14,
        },
        link={
            "source": [link["source"] for link in links],
            "target": [link["target"] for link in links],
            "value": [link["value"] for link in links],
            "color": link_colours,
        },
    ))
    fig.update_layout(_LAYOUT, title="Quantum exposure: " + " → ".join(sankey["columns"]), height=560)
    return fig


def violations_figure(violations: Mapping[str, Any]) -> go.Figure:
    rules = list(violations["rules"])[::-1]
    labels = [plotly_text(r, 40) for r in rules]
    fig = go.Figure()
    for severity in SEVERITIES:
        fig.add_bar(y=labels, x=[violations["counts"][r][severity] for r in rules], name=severity,
                    orientation="h", marker_color=SEVERITY_COLOURS[severity])
    if violations["total_waived"]:
        fig.add_bar(y=labels, x=[violations["waived"][r] for r in rules], name="waived", orientation="h",
                    marker_color="#d4d4d4")
    fig.update_layout(_LAYOUT, barmode="stack", height=max(260, 28 * len(rules) + 120),
                      title=f"Findings by rule and severity ({violations['total']} open, "
                            f"{violations['total_waived']} waived)")
    return fig


def pq_share_figure(pq: Mapping[str, Any]) -> go.Figure:
    counts = pq["handshakes"]
    fig = go.Figure()
    for key, label, colour in (("hybrid_pq", "hybrid PQ", "#16a34a"), ("classical", "classical", "#dc2626"),
                               ("unknown", "unknown", NEUTRAL)):
        fig.add_bar(y=["handshakes"], x=[counts[key]], name=label, orientation="h", marker_color=colour)
    share = pq["pq_share"]
    fig.update_layout(_LAYOUT, barmode="stack", height=200,
                      title="Handshakes on hybrid PQ key exchange: "
                            + ("n/a" if share is None else f"{100 * share:.1f}%"))
    return fig


def trends_figure(trends: Mapping[str, Any]) -> go.Figure:
    from plotly.subplots import make_subplots

    x = [plotly_text(c, 20) for c in trends["created"]]
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.08, subplot_titles=(
        "open findings by severity", "handshakes on hybrid PQ (%)", "HNDL-exposed flows"))
    for severity in SEVERITIES:
        fig.add_bar(x=x, y=trends["findings_by_severity"][severity], name=severity,
                    marker_color=SEVERITY_COLOURS[severity], row=1, col=1)
    fig.add_scatter(x=x, y=[None if v is None else round(100 * v, 2) for v in trends["pq_share"]],
                    name="PQ share", mode="lines+markers", line_color="#16a34a", row=2, col=1)
    fig.add_scatter(x=x, y=trends["exposed_flows"], name="exposed flows", mode="lines+markers",
                    line_color="#dc2626", row=3, col=1)
    fig.update_yaxes(range=[0, 100], row=2, col=1)
    fig.update_yaxes(rangemode="tozero", row=3, col=1)
    fig.update_layout(_LAYOUT, barmode="stack", height=720, title="Trends across assessments")
    return fig


def figure_json(fig: go.Figure) -> str:
    """The figure as JSON that is safe inside a <script> element: no <, >, & or line separators."""
    figure = json.loads(fig.to_json())
    text = json.dumps({"data": figure["data"], "layout": figure["layout"], "config": _CONFIG},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return script_safe(text)


def script_safe(json_text: str) -> str:
    return (json_text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def standalone_html(fig: go.Figure, title: str) -> str:
    """A whole HTML page with plotly.js inline: opens offline, from file://, with nothing else."""
    page: str = pio.to_html(fig, include_plotlyjs=True, full_html=True, config=_CONFIG, div_id="chart",
                            default_width="100%", validate=True)
    return page.replace(
        "<head>", f"<head><title>{plotly_text(title, 120)}</title>", 1)


def plotly_js() -> bytes:
    """The plotly.js bundled with the plotly package (the site's one local copy)."""
    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
