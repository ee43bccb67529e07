"""`carnot runtime capture` and `carnot runtime to-bom`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assess.cli import captures
from assess.cli.output import emit_json, emit_table


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assess.cli import add_common

    p = sub.add_parser("runtime", help="TLS handshakes seen live (eBPF); TLS, QUIC and SSH from captures; a CBOM")
    actions = p.add_subparsers(dest="runtime_command", metavar="ACTION", parser_class=type(p))
    actions.required = True

    cap = actions.add_parser("capture", help="run the eBPF sensor, writing one JSON line per handshake",
                             description=run_capture.__doc__)
    cap.add_argument("--out", required=True, type=Path, metavar="FILE", help="the JSON lines file to write")
    cap.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long (default: until a signal)")
    cap.add_argument("--pid", type=int, metavar="PID", help="observe only this process (the wire view sees all)")
    cap.add_argument("--iface", action="append", default=[], metavar="NAME",
                     help="capture the wire view on this interface (repeatable; default: all)")
    cap.add_argument("--metrics-interval", type=float, default=5.0, metavar="SECONDS",
                     help="how often a metrics line is written (default 5)")
    cap.add_argument("--buffer-pages", type=int, default=1024, metavar="N",
                     help="pages per CPU of each of the sensor's two ring buffers, a power of two (default 1024)")
    cap.add_argument("--socket-buffer", type=int, default=8 << 20, metavar="BYTES",
                     help="size of each packet socket's ring of captured packets (default 8 MiB)")
    cap.add_argument("--priority", choices=("auto", "idle", "normal"), default="auto",
                     help="auto (default): normal priority while the sensor has little to do, SCHED_IDLE "
                          "while it has a lot; idle: always SCHED_IDLE (it uses only CPU time nothing "
                          "else wants, and falls behind, drops counted, on a saturated host); normal: it "
                          "competes for CPU like any process")
    cap.add_argument("--wire-summary", action=argparse.BooleanOptionalAction, default=True,
                     help="summarise TLS 1.3 handshakes whose ServerHello fits one segment in the kernel's "
                          "packet filter (default); --no-wire-summary passes every segment to user space")
    cap.add_argument("--uprobes", action=argparse.BooleanOptionalAction, default=True,
                     help="probe OpenSSL's handshake calls in every program that loads it (default); "
                          "--no-uprobes probes no TLS program: each handshake is reported from the wire, "
                          "its processes from their sockets, without the library or the handshaking thread")
    cap.add_argument("--loopback-view", choices=("cgroup", "packet"), default="cgroup",
                     help="how loopback's packets are watched: cgroup (default), the packet filter as a "
                          "cgroup program on the receiving sockets, which costs each packet less (falls "
                          "back to a packet socket without cgroup v2); packet: a packet socket, as on "
                          "every other interface")
    add_common(cap, json_report=True)
    cap.set_defaults(handler=run_capture)

    bom = actions.add_parser("to-bom", help="aggregate captured handshakes into a CBOM shard",
                             description=run_to_bom.__doc__)
    bom.add_argument("inputs", nargs="+", type=Path, metavar="FILE", help="runtime JSON lines files")
    bom.add_argument("--out", required=True, type=Path, metavar="FILE", help="the CBOM to write")
    bom.add_argument("--asset-id", metavar="ID", help="an identifier for this host or capture, kept on every asset")
    add_common(bom, json_report=True)
    bom.set_defaults(handler=run_to_bom)

    captures.register_actions(actions)  # from-pcap, from-zeek


def run_capture(args: argparse.Namespace) -> int:
    """Capture TLS handshakes until --duration ends or SIGINT/SIGTERM; metrics go to sensor_metrics.json."""
    from assess.sources.runtime.sensor import CaptureOptions, capture

    if args.duration is not None and args.duration <= 0:
        print("carnot: error: --duration must be a positive number of seconds", file=sys.stderr)
        return 2
    if args.buffer_pages < 1 or args.buffer_pages & (args.buffer_pages - 1):
        print("carnot: error: --buffer-pages must be a power of two", file=sys.stderr)
        return 2
    options = CaptureOptions(
        out=args.out,
        duration=args.duration,
        pid=args.pid,
        ifaces=tuple(args.iface),
        metrics_interval=args.metrics_interval,
        perf_pages=args.buffer_pages,
        packet_ring_bytes=args.socket_buffer,
        priority=args.priority,
        wire_summary=args.wire_summary,
        loopback_view=args.loopback_view,
        uprobes=args.uprobes,
    )

    def ready(_: object) -> None:
        print(f"carnot: sensor ready, writing {args.out}", file=sys.stderr, flush=True)

    summary = capture(options, on_ready=ready)
    m = summary.metrics
    if args.json:
        emit_json({"out": str(summary.out), "metrics": str(summary.metrics_path), **m})
    else:
        emit_table(
            f"runtime capture: {summary.out}",
            [
                ("handshakes emitted", str(m["handshakes_emitted"])),
                ("events received", str(m["events_received"])),
                ("kernel drops", f"{m['kernel_drops']} ({m['kernel_drop_rate']:.4%})"),
                ("correlation timeouts", str(m["correlation_timeouts"])),
                ("cache evictions", str(m["cache_evictions"])),
                ("stopped by", str(m["stopped_by"])),
            ],
        )
    return 0


def run_to_bom(args: argparse.Namespace) -> int:
    """Aggregate handshakes into protocol and algorithm assets (per endpoint, process and group)."""
    from assess.cbom import write_shard
    from assess.sources.runtime.to_bom import read_handshake_files

    shard, report = read_handshake_files(args.inputs, asset_id=args.asset_id)
    write_shard(shard, args.out)
    if args.json:
        emit_json({"out": str(args.out), **report})
    else:
        emit_table(f"runtime CBOM: {args.out}", [(k.replace("_", " "), str(v)) for k, v in report.items()])
    return 0
