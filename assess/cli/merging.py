"""`carnot merge IN... -o OUT`."""

from __future__ import annotations

import argparse

from assess.cbom import read_cbom, schema_errors, write_document
from assess.cli.output import emit_json, emit_table, track
from assess.errors import CbomError
from assess.merge import merge_documents


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assess.cli import add_common, add_max_bom_bytes

    p = sub.add_parser("merge", help="merge CycloneDX 1.6/1.7 CBOMs into one", description=run.__doc__)
    p.add_argument("inputs", nargs="+", metavar="IN", help="CBOM files (ours or other tools')")
    p.add_argument("-o", "--out", required=True, metavar="OUT", help="the merged CBOM to write")
    add_max_bom_bytes(p)
    add_common(p, json_report=True)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Merge any number of CBOMs: de-duplicated by identity, every source's evidence kept, deterministic."""
    docs = [read_cbom(path, max_bytes=args.max_bom_bytes)
            for path in track(args.inputs, "reading CBOMs", total=len(args.inputs))]
    merged, report = merge_documents(docs)
    try:
        write_document(merged, args.out)
    except CbomError as e:  # a shape merge does not know: name the input that brings it, if one alone does
        culprit = next((d.path for d in docs if schema_errors(merge_documents([d])[0]) is not None), None)
        if culprit is None:
            raise
        raise CbomError(f"merging this input gives a document that is not valid CycloneDX: {e.message}",
                        path=culprit) from e
    if args.json:
        emit_json({"out": args.out, **report.as_dict()})
    else:
        emit_table(
            f"merged {report.inputs} CBOM(s) into {args.out}",
            [
                ("components in", str(report.components_in)),
                ("components out", str(report.components_out)),
                ("dependencies", str(report.dependencies_out)),
                ("conflicting facts kept", str(report.conflicts)),
                ("spec version", report.spec_version),
            ],
        )
    return 0
