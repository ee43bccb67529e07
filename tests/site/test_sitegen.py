"""The built site: its pages, links, downloads and escaping, read as files (the browser tests load them)."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from site_fixtures import HOSTILE, LONG, TAGS_THAT_MUST_NOT_APPEAR, BuiltSite, plain_assessment

from assess.bundle import MANIFEST_NAME, bundle_folder, read_manifest
from assess.errors import OutputError
from assess.sitegen import build_site, render_assessment_html

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "poster", "data"}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._script: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in URL_ATTRIBUTES or name.startswith("on"):
                self.urls.append((tag, name, value or ""))
        if tag == "script":
            self._script, self._text = dict(attrs), []

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._text)))
            self._script = None


def parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_every_page_exists_and_each_assessment_has_its_own(built_site: BuiltSite) -> None:
    out = built_site.out
    for name in ("index.html", "latest.html", "history.html", "downloads.html", "policy-guide.html"):
        assert (out / name).is_file(), name
    for entry in built_site.entries:
        assert (out / "assessments" / f"{entry.id}.html").is_file()
        for chart in ("hndl_sankey.png", "violations.png", "pq_share.png", "viz_data.json"):
            assert (out / "assessments" / entry.id / chart).is_file()
    latest = (out / "latest.html").read_text(encoding="utf-8")
    assert built_site.entries[-1].id in latest
    assert (out / "trends" / "trends.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_link_is_relative_and_resolves_inside_the_site(built_site: BuiltSite) -> None:
    out = built_site.out
    for page in pages(out):
        for tag, attr, url in parse(page).urls:
            assert not attr.startswith("on"), f"{page.name}: event handler attribute {attr} on <{tag}>"
            if tag == "img" and url.startswith("data:image/png;base64,"):
                continue
            assert not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", url), f"{page.name}: <{tag} {attr}={url[:60]!r}>"
            assert not url.startswith("//")
            target = (page.parent / url.split("#")[0]).resolve()
            assert target.is_relative_to(out.resolve()), f"{page.name}: {url} leaves the site"
            assert target.exists(), f"{page.name}: {url} is broken"


def test_hostile_strings_appear_only_as_text(built_site: BuiltSite) -> None:
    page = built_site.out / "assessments" / f"{built_site.hostile.id}.html"
    html = page.read_text(encoding="utf-8")
    for needle in TAGS_THAT_MUST_NOT_APPEAR:
        assert needle not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, escaped
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert "[x](javascript:alert(4))" in html  # Markdown is never rendered from data: it stays text
    assert "{{ 7*7 }} ${7*7}" in html  # never evaluated as a template
    assert LONG not in html and "L" * 200 in html  # bounded for display, still there
    assert "<bdi>" in html
    links = parse(page)
    assert [tag for tag in links.tags if tag in ("img", "svg", "iframe", "object", "embed")] == [
        "img", "img", "img"]  # the three charts


def test_chart_json_cannot_end_its_script_element(built_site: BuiltSite) -> None:
    page = built_site.out / "assessments" / f"{built_site.hostile.id}.html"
    raw = page.read_text(encoding="utf-8")
    blocks = re.findall(r'<script type="application/json" class="figure">(.*?)</script>', raw, re.S)
    assert len(blocks) == 3
    for block in blocks:
        assert "<" not in block and ">" not in block and "&" not in block
        assert "\u2028" not in block and "\u2029" not in block
        figure = json.loads(block)
        assert set(figure) == {"data", "layout", "config"}
    sankey = json.loads(blocks[0])["data"][0]
    assert any("&lt;/script&gt;&lt;script&gt;" in label for label in sankey["node"]["label"])
    scripts = [attrs.get("src") for attrs, _ in parse(page).scripts if attrs.get("type") != "application/json"]
    assert scripts == ["../assets/plotly.min.js", "../assets/charts.js"]


def test_remediation_links_only_point_into_the_policy_guide(built_site: BuiltSite) -> None:
    page = built_site.out / "assessments" / f"{built_site.hostile.id}.html"
    hrefs = [url for tag, attr, url in parse(page).urls if tag == "a"]
    fixes = [h for h in hrefs if "policy-guide.html#" in h]
    assert fixes and all(re.fullmatch(r"\.\./policy-guide\.html#[a-z0-9_-]+", h) for h in fixes)
    assert "javascript:alert(7)" in page.read_text(encoding="utf-8")  # as text, never as a link


def test_downloads_list_each_bundle_with_its_sha256_and_the_manifest(built_site: BuiltSite) -> None:
    out = built_site.out
    html = (out / "downloads.html").read_text(encoding="utf-8")
    manifest = read_manifest(out / "dist" / MANIFEST_NAME)
    assert [e["sha256"] for e in manifest] == [e.sha256 for e in built_site.entries]
    for entry in built_site.entries:
        assert entry.sha256 in html
        copied = out / "dist" / entry.bundle
        assert copied.read_bytes() == (built_site.dist / entry.bundle).read_bytes()
    assert 'href="dist/assessments_manifest.json"' in html


def test_history_trends_follow_the_assessments_in_order(built_site: BuiltSite) -> None:
    views = [json.loads((built_site.out / "assessments" / e.id / "viz_data.json").read_text())
             for e in built_site.entries]
    assert views[0]["pq_share"]["handshakes"] == {"hybrid_pq": 10, "classical": 90, "unknown": 0}
    assert views[2]["pq_share"]["pq_share"] == 0.7
    history = (built_site.out / "history.html").read_text(encoding="utf-8")
    positions = [history.index(f"assessments/{e.id}.html") for e in built_site.entries]
    assert positions == sorted(positions, reverse=True)  # newest first


def test_a_tampered_bundle_is_listed_as_failed_and_not_published(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    dist = tmp_path / "dist"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1760000000")
    good = bundle_folder(plain_assessment(tmp_path / "a", classical=1, hybrid=1), dist)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1770000000")
    bad = bundle_folder(plain_assessment(tmp_path / "b", classical=2, hybrid=2), dist)
    with zipfile.ZipFile(dist / bad.bundle, "a") as zf:
        zf.writestr("extra.txt", "slipped in")
    result = build_site(dist, tmp_path / "site")
    assert result.tampered == (bad.bundle,)
    assert (tmp_path / "site" / "assessments" / f"{good.id}.html").exists()
    assert not (tmp_path / "site" / "assessments" / f"{bad.id}.html").exists()
    assert not (tmp_path / "site" / "dist" / bad.bundle).exists()
    downloads = (tmp_path / "site" / "downloads.html").read_text(encoding="utf-8")
    assert "file added to the bundle: extra.txt" in downloads
    assert good.id in (tmp_path / "site" / "latest.html").read_text(encoding="utf-8")


def test_rebuild_replaces_its_own_site_but_never_a_foreign_folder(built_site: BuiltSite, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(built_site.dist, out)
    (out / "stale.html").write_text("old")
    build_site(built_site.dist, out)
    assert not (out / "stale.html").exists()
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    with pytest.raises(OutputError):
        build_site(built_site.dist, foreign)
    assert (foreign / "thesis.tex").read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_cli_builds_the_site_and_reports_bad_input_in_one_line(carnot, built_site: BuiltSite,
                                                               tmp_path: Path) -> None:
    done = carnot("site", "build", "--dist", str(built_site.dist), "--out", str(tmp_path / "s"), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["assessments"] == 3 and report["tampered"] == []
    missing = carnot("site", "build", "--dist", str(tmp_path / "nowhere"), "--out", str(tmp_path / "s2"))
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1 and "nowhere" in missing.stderr and "Traceback" not in missing.stderr
    empty = tmp_path / "empty-dist"
    empty.mkdir()
    (empty / MANIFEST_NAME).write_text('{"format": "nope"')
    broken = carnot("site", "build", "--dist", str(empty), "--out", str(tmp_path / "s3"))
    assert broken.returncode == 2 and f"{MANIFEST_NAME}:1" in broken.stderr


def test_render_assessment_html_is_one_self_contained_document(built_site: BuiltSite, tmp_path: Path) -> None:
    bundle = built_site.dist / built_site.hostile.bundle
    html = render_assessment_html(bundle, for_print=True)
    assert "<script" not in html
    for needle in TAGS_THAT_MUST_NOT_APPEAR:
        assert needle not in html
    assert html.count('src="data:image/png;base64,') == 3
    assert 'class="standalone print"' in html
    assert built_site.hostile.id in html and "Top findings" in html
    # the same partial renders from an assessment folder too (no bundle needed)
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(folder)
    from_folder = render_assessment_html(folder)
    assert "Top findings" in from_folder and 'class="standalone"' in from_folder
    shutil.rmtree(folder)


def test_hostile_corpus_reaches_the_inputs(built_site: BuiltSite) -> None:
    """Guards the other tests: the hostile strings really are in the bundle the site read."""
    with zipfile.ZipFile(built_site.dist / built_site.hostile.bundle) as zf:
        attestation = zf.read("attestation.json").decode("utf-8")
    for text in HOSTILE[:6]:
        assert json.dumps(text)[1:-1] in attestation


def test_remediation_anchors_exist_in_the_rendered_policy_guide(built_site: BuiltSite) -> None:
    guide = (built_site.out / "policy-guide.html").read_text(encoding="utf-8")
    ids = set(re.findall(r'<h[1-6] id="([^"]+)"', guide))
    assert "tls-no-hybrid-pq" in ids and "weak-rsa-key" in ids
    page = built_site.out / "assessments" / f"{built_site.entries[0].id}.html"
    anchors = {url.split("#")[1] for tag, _, url in parse(page).urls if tag == "a" and "policy-guide.html#" in url}
    assert anchors and anchors <= ids
