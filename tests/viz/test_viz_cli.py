"""`carnot viz` end to end: a real CBOM and gate results in, charts and their data out."""

from __future__ import annotations

import json
from pathlib import Path

from cyclonedx.model.crypto import CryptoAssetType, CryptoProperties, ProtocolProperties, ProtocolPropertiesType

from assess.bundle import bundle_folder
from assess.cbom import write_shard
from assess.model import Asset, Evidence, Prop, Shard, Source, props
from assess.viz.png import sankey_png

BREAKOUT = "</script><script>alert(1)</script>"


def flow(ref: str, group: str, handshakes: int) -> Asset:
    return Asset(
        bom_ref=ref, name=f"TLS {ref}",
        crypto=CryptoProperties(asset_type=CryptoAssetType.PROTOCOL,
                                protocol_properties=ProtocolProperties(type=ProtocolPropertiesType.TLS, version="1.3")),
        evidence=(Evidence(Source.RUNTIME, "web01/1/nginx"),),
        properties=props({Prop.SOURCE: "runtime", Prop.TLS_NEGOTIATED_GROUP: group, Prop.RUNTIME_SNI: f"{ref}.example",
                          Prop.RUNTIME_HANDSHAKES: str(handshakes), Prop.DATA_CLASS: "secret"}),
    )


def write_inputs(folder: Path, hybrid: int = 70) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    assets = (flow("classical", "x25519", 30), flow("hybrid", "X25519MLKEM768", hybrid),
              flow("hostile", BREAKOUT, 1))
    write_shard(Shard(stage="runtime", assets=assets), folder / "merged.cdx.json")
    (folder / "opa_result.json").write_text(json.dumps({
        "engine": "regorus", "profile": "balanced", "mode": "warn", "policy_digest": "sha256:" + "0" * 64,
        "findings": [
            {"rule": "tls-no-hybrid-pq", "severity": "medium", "bom_ref": "classical", "message": "m",
             "remediation": "docs/POLICY_GUIDE.md#tls-no-hybrid-pq", "waived": False},
            {"rule": BREAKOUT, "severity": "high", "bom_ref": "hostile", "message": "m",
             "remediation": "javascript:alert(1)", "waived": False},
        ]}))
    (folder / "opa_summary.json").write_text("{}")
    return folder


def test_viz_writes_every_chart_and_the_data_behind_it(carnot, tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in")
    done = carnot("viz", "--bom", str(inputs / "merged.cdx.json"), "--gate", str(inputs), "--out",
                  str(tmp_path / "out"), "--json", env={"SOURCE_DATE_EPOCH": "1770000000"})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # a group nobody knows is not post-quantum: exposure scores that flow as classical
    assert report["assets"] == 3 and report["findings_open"] == 2 and report["exposed_flows"] == 2
    out = tmp_path / "out"
    for name in ("hndl_sankey", "violations", "pq_share"):
        assert (out / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        page = (out / f"{name}.html").read_text(encoding="utf-8")
        assert "<script src=" not in page and len(page) > 1_000_000  # plotly.js is inline: works offline
        assert BREAKOUT not in page and "alert(1)</script>" not in page
    data = json.loads((out / "viz_data.json").read_text())
    assert data["format"] == "carnot-viz/1"
    assert data["pq_share"]["handshakes"] == {"hybrid_pq": 70, "classical": 31, "unknown": 0}
    assert data["pq_share"]["pq_share"] == round(70 / 101, 4)
    nodes = data["sankey"]["nodes"]
    edges = {(nodes[e["source"]]["label"], nodes[e["target"]]["label"], e["value"]) for e in data["sankey"]["links"]}
    assert ("x25519", "HNDL exposed", 1) in edges
    assert ("HNDL exposed", "medium finding", 1) in edges
    assert ("X25519MLKEM768", "quantum-safe", 1) in edges
    assert (BREAKOUT, "HNDL exposed", 1) in edges  # the label is data in the JSON, text on the chart
    assert data["violations"]["counts"]["tls-no-hybrid-pq"]["medium"] == 1


def test_pngs_are_reproducible_and_carry_no_software_or_time_metadata(carnot, tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in")
    runs = []
    for name in ("one", "two"):
        done = carnot("viz", "--bom", str(inputs / "merged.cdx.json"), "--gate", str(inputs), "--out",
                      str(tmp_path / name), env={"SOURCE_DATE_EPOCH": "1770000000"})
        assert done.returncode == 0, done.stderr
        runs.append({p.name: p.read_bytes() for p in (tmp_path / name).iterdir() if p.suffix in (".png", ".json")})
    assert runs[0] == runs[1]
    for png in (v for k, v in runs[0].items() if k.endswith(".png")):
        assert b"Software" not in png and b"matplotlib" not in png.lower() and b"tIME" not in png


def test_mathtext_and_control_characters_in_labels_are_plain_text() -> None:
    sankey = {"columns": ["source", "algorithm", "quantum risk", "policy outcome"], "assets": 1,
              "nodes": [{"column": 0, "label": "$\\frac{1}{0}$ \u202e\x00", "value": 1},
                        {"column": 1, "label": "$$$", "value": 1},
                        {"column": 2, "label": "unknown", "value": 1},
                        {"column": 3, "label": "no finding", "value": 1}],
              "links": [{"source": 0, "target": 1, "value": 1}, {"source": 1, "target": 2, "value": 1},
                        {"source": 2, "target": 3, "value": 1}]}
    assert sankey_png(sankey)[:8] == b"\x89PNG\r\n\x1a\n"


def test_history_adds_trends_across_bundles(carnot, tmp_path: Path, monkeypatch) -> None:
    dist = tmp_path / "dist"
    for epoch, hybrid in ((1_760_000_000, 10), (1_770_000_000, 90)):
        folder = write_inputs(tmp_path / f"a{epoch}", hybrid=hybrid)
        from assess.attest import attest_folder

        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
        attest_folder(folder / "merged.cdx.json", folder, folder)
        bundle_folder(folder, dist)
    inputs = write_inputs(tmp_path / "now")
    done = carnot("viz", "--bom", str(inputs / "merged.cdx.json"), "--gate", str(inputs), "--out",
                  str(tmp_path / "out"), "--history", str(dist))
    assert done.returncode == 0, done.stderr
    trends = json.loads((tmp_path / "out" / "viz_data.json").read_text())["trends"]
    assert trends["created"] == ["2025-10-09T08:53:20Z", "2026-02-02T02:40:00Z"]
    assert trends["pq_share"] == [round(10 / 41, 4), round(90 / 121, 4)]
    assert trends["findings_by_severity"]["medium"] == [1, 1]
    assert (tmp_path / "out" / "trends.png").exists() and (tmp_path / "out" / "trends.html").exists()


def test_bad_input_is_one_line_naming_the_file(carnot, tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in")
    (inputs / "opa_result.json").write_text('{"engine": "regorus",\n "findings": [}')
    done = carnot("viz", "--bom", str(inputs / "merged.cdx.json"), "--gate", str(inputs), "--out",
                  str(tmp_path / "out"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "opa_result.json:2" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
