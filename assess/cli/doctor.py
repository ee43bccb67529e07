"""`carnot doctor [--fix]`."""

from __future__ import annotations

import argparse
import sys

from assess.cli.output import emit_json, stdout


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assess.cli import add_common

    p = sub.add_parser("doctor", help="say what this machine lacks for the runtime sensor, and fix it",
                       description=run.__doc__)
    p.add_argument("--fix", action="store_true",
                   help="install and prepare what is missing (Debian/Ubuntu, as root): system packages, kernel "
                        "headers, tracefs, and Debian's bcc module made importable by this Python")
    add_common(p, json_report=True)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check what the eBPF runtime sensor needs (root or CAP_BPF, bcc, kernel headers, tracefs, libssl)
    and the tools the tests use. Exit 0 when the sensor can run, 2 when it cannot."""
    from assess.doctor import fix, tool_checks
    from assess.sources.runtime.readiness import sensor_readiness

    if args.fix:
        output = fix()
        if output.strip():
            print(output.rstrip(), file=sys.stderr)
    readiness = sensor_readiness()
    checks = readiness.checks + tool_checks()
    if args.json:
        emit_json({
            "sensor_ready": readiness.ok,
            "reasons": list(readiness.reasons),
            "checks": [{"name": c.name, "ok": c.ok, "required": c.required, "detail": c.detail, "fix": c.fix}
                       for c in checks],
        })
    else:
        for c in checks:
            label, style = ("ok", "green") if c.ok else ("missing", "red") if c.required else ("optional", "yellow")
            stdout.print(f"[{style}]{label:>8}[/]  {c.name}: ", end="", highlight=False)
            stdout.print(c.detail, markup=False, highlight=False)  # paths are data, not markup
            if not c.ok and c.fix:
                stdout.print(f"{'':>10}fix: {c.fix}", highlight=False, markup=False)
        verdict = "the runtime sensor can run here" if readiness.ok else "the runtime sensor cannot run here"
        stdout.print(verdict, highlight=False)
    return 0 if readiness.ok else 2
