"""PNG charts with matplotlib (Agg): for bundles, the site's fallback images and the PDF report.

Figures are built without pyplot (no GUI backend, no global figure registry; savefig uses Agg).
Reproducible: fixed size and DPI, no Software/date metadata, mathtext off (a `$` in an observed
string is text, not a formula).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath

from assess.viz.data import SEVERITIES
from assess.viz.labels import short

DPI = 100
SEVERITY_COLOURS = {"critical": "#7f1d1d", "high": "#dc2626", "medium": "#f59e0b", "low": "#60a5fa"}
RISK_COLOURS = {
    "HNDL exposed": "#dc2626",
    "HNDL within margin": "#f59e0b",
    "signature past deadline": "#9333ea",
    "signature before deadline": "#c4b5fd",
    "quantum-safe": "#16a34a",
    "not quantum-relevant": "#9ca3af",
    "unknown": "#6b7280",
}
OUTCOME_COLOURS = {
    **{f"{s} finding": c for s, c in SEVERITY_COLOURS.items()},
    "waived finding": "#a3a3a3",
    "no finding": "#16a34a",
}
NEUTRAL = "#475569"
_PNG_METADATA = {"Software": None}


@contextmanager
def _style() -> Iterator[None]:
    with rc_context({"text.parse_math": False, "text.usetex": False, "svg.hashsalt": "carnot",
                         "font.size": 9}), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # glyphs missing from DejaVu (CJK, some RTL) draw as boxes
        yield


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata=_PNG_METADATA)
    return buffer.getvalue()


def node_colour(column: int, label: str) -> str:
    if column == 2:
        return RISK_COLOURS.get(label, NEUTRAL)
    if column == 3:
        return OUTCOME_COLOURS.get(label, NEUTRAL)
    return NEUTRAL


def sankey_png(sankey: Mapping[str, Any]) -> bytes:
    """The exposure Sankey as an alluvial diagram.

    matplotlib's own `Sankey` draws a single flow splitting and merging along one axis, not
    columns of nodes joined by bands, so the nodes are Rectangles and each link is a band whose
    edges are cubic Béziers (a PathPatch).
    """
    nodes, links, columns = sankey["nodes"], sankey["links"], sankey["columns"]
    with _style():
        fig = Figure(figsize=(12, 6.5))
        ax = fig.add_axes((0.0, 0.0, 1.0, 0.92))
        ax.set_axis_off()
        ax.set_xlim(-0.05, len(columns) - 0.45)
        ax.set_ylim(-0.02, 1.02)
        fig.suptitle(f"Quantum exposure of {sankey['assets']} crypto assets", fontsize=12)
        if not nodes:
            ax.text(0.5 * (len(columns) - 1), 0.5, "no crypto assets in this assessment", ha="center")
            return _png(fig)

        total = max(1, sankey["assets"])
        width, gap = 0.12, 0.02
        positions: dict[int, tuple[float, float]] = {}  # node index -> (x, top y)
        usable: dict[int, float] = {}
        for column in range(len(columns)):
            members = [i for i, n in enumerate(nodes) if n["column"] == column]
            usable[column] = 1.0 - gap * max(0, len(members) - 1)
            y = 1.0
            for i in members:
                height = usable[column] * nodes[i]["value"] / total
                positions[i] = (column, y)
                ax.add_patch(Rectangle((column, y - height), width, height,
                                       color=node_colour(column, nodes[i]["label"]), linewidth=0))
                label = f"{short(nodes[i]['label'], 40)} ({nodes[i]['value']})"
                ax.text(column + width + 0.01, y - height / 2, label, va="center", fontsize=8)
                y -= height + gap
            ax.text(column + width / 2, 1.02, columns[column], ha="center", fontsize=10, weight="bold")

        out_offset = {i: 0.0 for i in positions}
        in_offset = {i: 0.0 for i in positions}
        for link in links:
            s, t, value = link["source"], link["target"], link["value"]
            # each column stacks its own gaps, so a band is a little thicker at one end than the other
            h0, h1 = usable[nodes[s]["column"]] * value / total, usable[nodes[t]["column"]] * value / total
            (sx, sy), (tx, ty) = positions[s], positions[t]
            y0, y1 = sy - out_offset[s], ty - in_offset[t]
            out_offset[s] += h0
            in_offset[t] += h1
            x0, x1 = sx + width, tx
            mid = (x0 + x1) / 2
            verts = [
                (x0, y0), (mid, y0), (mid, y1), (x1, y1),
                (x1, y1 - h1), (mid, y1 - h1), (mid, y0 - h0), (x0, y0 - h0),
                (x0, y0),
            ]
            codes = [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4,
                     MplPath.LINETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4, MplPath.CLOSEPOLY]
            colour_node = nodes[t] if nodes[t]["column"] == 2 else nodes[s]
            ax.add_patch(PathPatch(MplPath(verts, codes), linewidth=0, alpha=0.35,
                                   facecolor=node_colour(colour_node["column"], colour_node["label"])))
        return _png(fig)


def violations_png(violations: Mapping[str, Any]) -> bytes:
    """Unwaived findings per rule, stacked by severity (horizontal bars, most-violated rule on top)."""
    rules = list(violations["rules"])
    with _style():
        fig = Figure(figsize=(10, max(2.5, 0.35 * len(rules) + 1.2)))
        ax = fig.subplots()
        if not rules:
            ax.set_axis_off()
            ax.text(0.5, 0.5, "no policy findings", ha="center", va="center", transform=ax.transAxes)
            return _png(fig)
        y = list(range(len(rules)))[::-1]
        left = [0] * len(rules)
        for severity in SEVERITIES:
            values = [violations["counts"][r][severity] for r in rules]
            ax.barh(y, values, left=left, color=SEVERITY_COLOURS[severity], label=severity)
            left = [a + b for a, b in zip(left, values, strict=True)]
        waived = [violations["waived"][r] for r in rules]
        if any(waived):
            ax.barh(y, waived, left=left, color="#d4d4d4", hatch="//", label="waived")
        ax.set_yticks(y, [short(r, 40) for r in rules])
        ax.set_xlabel("findings")
        ax.set_title(f"Policy findings by rule and severity ({violations['total']} open, "
                     f"{violations['total_waived']} waived)")
        ax.legend(loc="lower right", fontsize=8)
        # fixed margins sized for 40-character rule labels: tight_layout would draw the figure twice
        height = fig.get_figheight()
        fig.subplots_adjust(left=0.3, right=0.98, top=1 - 0.45 / height, bottom=0.6 / height)
        return _png(fig)


def pq_share_png(pq: Mapping[str, Any]) -> bytes:
    """Observed handshakes on hybrid PQ versus classical key exchange, as one stacked bar."""
    counts = pq["handshakes"]
    parts = [("hybrid PQ", counts["hybrid_pq"], "#16a34a"), ("classical", counts["classical"], "#dc2626"),
             ("unknown", counts["unknown"], "#9ca3af")]
    total = sum(v for _, v, _ in parts)
    with _style():
        fig = Figure(figsize=(10, 1.9))
        ax = fig.subplots()
        ax.set_yticks([])
        if not total:
            ax.set_axis_off()
            ax.text(0.5, 0.5, "no TLS handshakes observed at runtime", ha="center", va="center",
                    transform=ax.transAxes)
            return _png(fig)
        left = 0
        for label, value, colour in parts:
            ax.barh([0], [value], left=left, color=colour, label=f"{label}: {value}")
            left += value
        share = pq["pq_share"]
        ax.set_title("TLS handshakes on hybrid post-quantum key exchange: "
                     + ("n/a" if share is None else f"{100 * share:.1f}%"))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.45), ncol=3, fontsize=8, frameon=False)
        fig.subplots_adjust(left=0.04, right=0.98, top=0.8, bottom=0.42)
        return _png(fig)


def trends_png(trends: Mapping[str, Any]) -> bytes:
    """Three panels across assessments: findings by severity, PQ share, exposed flows."""
    x = list(range(len(trends["assessments"])))
    ticks = [c[:10] for c in trends["created"]]
    with _style():
        fig = Figure(figsize=(10, 8))
        axes = fig.subplots(3, 1, sharex=True)
        bottom = [0] * len(x)
        for severity in SEVERITIES:
            values = trends["findings_by_severity"][severity]
            axes[0].bar(x, values, bottom=bottom, color=SEVERITY_COLOURS[severity], label=severity)
            bottom = [a + b for a, b in zip(bottom, values, strict=True)]
        axes[0].set_title("open findings by severity")
        axes[0].legend(fontsize=8, ncol=4)
        share = [None if v is None else 100 * v for v in trends["pq_share"]]
        axes[1].plot(x, [float("nan") if v is None else v for v in share], marker="o", color="#16a34a")
        axes[1].set_ylim(0, 100)
        axes[1].set_title("handshakes on hybrid PQ key exchange (%)")
        axes[2].plot(x, trends["exposed_flows"], marker="o", color="#dc2626")
        axes[2].set_title("HNDL-exposed flows")
        axes[2].set_xticks(x, ticks, rotation=45, ha="right", fontsize=7)
        fig.tight_layout()
        return _png(fig)
