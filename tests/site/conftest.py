"""A dist/ of three real bundles (plain, hostile, plain) and the site built from it, once per session."""

from __future__ import annotations

import pytest
from site_fixtures import BuiltSite, EstateSite, estate_assessment, hostile_assessment, plain_assessment

from assess.bundle import bundle_folder
from assess.sitegen import build_site


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    root = tmp_path_factory.mktemp("site")
    dist = root / "dist"
    folders = (
        plain_assessment(root / "a1", classical=90, hybrid=10),
        hostile_assessment(root / "a2"),
        plain_assessment(root / "a3", classical=30, hybrid=70),
    )
    entries = []
    with pytest.MonkeyPatch.context() as mp:
        for epoch, folder in zip((1_760_000_000, 1_770_000_000, 1_780_000_000), folders, strict=True):
            mp.setenv("SOURCE_DATE_EPOCH", str(epoch))
            entries.append(bundle_folder(folder, dist))
    out = root / "public"
    build_site(dist, out)
    return BuiltSite(dist=dist, out=out, entries=tuple(entries))


@pytest.fixture(scope="session")
def estate_site(tmp_path_factory: pytest.TempPathFactory) -> EstateSite:
    """The embedded default's estate plus the hostile corpus, bundled and built into a site."""
    root = tmp_path_factory.mktemp("estate")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", "1790000000")
        folder, waived = estate_assessment(root)
        entry = bundle_folder(folder, root / "dist")
    build_site(root / "dist", root / "public")
    return EstateSite(out=root / "public", entry=entry, waived=waived)
