"""`carnot runtime from-pcap` and `carnot runtime from-zeek`: recorded network evidence -> runtime JSON lines.

Registered under `carnot runtime` by assess/cli/runtime.py; the work is assess/sources/capture/.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from assess.cli.output import emit_json, emit_table, progress


def register_actions(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assess.cli import add_common

    pcap = actions.add_parser("from-pcap", help="read TLS (TCP, QUIC) handshakes and SSH key exchanges from captures",
                              description=run_from_pcap.__doc__)
    pcap.add_argument("inputs", nargs="+", type=Path, metavar="FILE", help="pcap or pcapng files")
    pcap.add_argument("--out", required=True, type=Path, metavar="FILE", help="the JSON lines file to write")
    pcap.add_argument("--max-connections", type=int, default=65536, metavar="N",
                      help="connections held at once before the least recently active is evicted (default 65536)")
    pcap.add_argument("--idle-timeout", type=float, default=60.0, metavar="SECONDS",
                      help="capture time after which a silent, unfinished handshake is given up (default 60)")
    add_common(pcap, json_report=True)
    pcap.set_defaults(handler=run_from_pcap)

    zeek = actions.add_parser("from-zeek", help="read TLS and SSH from Zeek ssl.log/ssh.log (TSV or JSON)",
                              description=run_from_zeek.__doc__)
    zeek.add_argument("inputs", nargs="+", type=Path, metavar="FILE", help="Zeek ssl.log or ssh.log files")
    zeek.add_argument("--out", required=True, type=Path, metavar="FILE", help="the JSON lines file to write")
    add_common(zeek, json_report=True)
    zeek.set_defaults(handler=run_from_zeek)


def run_from_pcap(args: argparse.Namespace) -> int:
    """Reassemble TCP and decrypt QUIC Initial packets in pcap/pcapng captures and write one runtime JSON
    line per TLS handshake (transport tcp or quic) and per SSH key exchange (type ssh), source "pcap",
    process fields null. A damaged capture: everything before the damage is written, exit 2."""
    from assess.errors import InputError
    from assess.sources.capture.importer import CaptureLimits, import_pcaps

    if args.max_connections < 1 or args.idle_timeout <= 0:
        raise InputError("--max-connections and --idle-timeout must be positive")
    limits = CaptureLimits(max_connections=args.max_connections, idle_timeout=args.idle_timeout)
    total = sum(p.stat().st_size for p in args.inputs if p.is_file())
    with progress("reading captures", total=total) as advance:
        report = import_pcaps(args.inputs, args.out, limits=limits, advance=advance)
    _emit(args, "runtime from pcap", report.as_dict())
    return 0


def run_from_zeek(args: argparse.Namespace) -> int:
    """Map Zeek ssl.log and ssh.log records to runtime JSON lines (source "zeek", process fields null).
    A malformed line: every record before it is written, exit 2 naming the file and line."""
    from assess.sources.capture.importer import import_zeek_logs

    with progress("reading Zeek log records") as advance:
        report = import_zeek_logs(args.inputs, args.out, advance=advance)
    _emit(args, "runtime from Zeek", report.as_dict())
    return 0


def _emit(args: argparse.Namespace, title: str, report: dict[str, Any]) -> None:
    if args.json:
        emit_json(report)
    else:
        emit_table(f"{title}: {report['out']}", [(k.replace("_", " "), str(v)) for k, v in report.items()
                                                 if k != "out"])
