"""`carnot site build --dist DIR --out DIR [--public-key FILE | --certificate-identity ID ...]`."""

from __future__ import annotations

import argparse

from assess.cli.output import emit_json, emit_table, progress
from assess.cli.trust import add_trust, trust


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assess.cli import add_common

    p = sub.add_parser("site", help="the static report site", description="The static report site.")
    actions = p.add_subparsers(dest="site_command", metavar="ACTION")
    actions.required = True
    build = actions.add_parser("build", help="build the site from the bundles in dist/", description=run.__doc__)
    build.add_argument("--dist", required=True, metavar="DIR", help="the folder of bundles and "
                       "assessments_manifest.json")
    build.add_argument("--out", required=True, metavar="DIR", help="the site folder (replaced if Carnot built "
                       "it before; refused if it holds anything else)")
    add_trust(build)  # with a verifier, only bundles it trusts are published; the others are listed as failing
    add_common(build, json_report=True)
    build.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Verify every bundle in dist/ and write a static site from them: landing page, latest
    assessment, one page per assessment, history with trends, downloads with SHA256s. It works
    from file:// and GitHub Pages and loads nothing from the internet."""
    from assess.sitegen import build_site

    with progress("rendering assessments") as advance:
        result = build_site(args.dist, args.out, trust=trust(args), progress=advance)
    report = result.report()
    if args.json:
        emit_json(report)
    else:
        emit_table(
            f"site written to {args.out}",
            [
                ("assessments published", str(report["assessments"])),
                ("bundles listed", str(report["bundles"])),
                ("bundles not published", ", ".join(report["tampered"]) or "none"),
                ("pages", str(report["pages"])),
                ("size", f"{report['bytes']:,} bytes"),
            ],
        )
    return 0
