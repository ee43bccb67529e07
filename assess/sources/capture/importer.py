"""`carnot runtime from-pcap` and `from-zeek`: recorded evidence in, runtime JSON lines out.

The handshake lines are the live sensor's (same keys, same builder: the sensor's Correlator, fed
wire flows only), with `source` `pcap` or `zeek`, `host` and every process field null (a capture
does not say which process or host spoke), and keys of their own: `capture` (the file in which
the handshake was read to its end), for Zeek `capture_line`, and for pcaps `transport` (`tcp`, or
`quic` for a TLS handshake read from QUIC Initial packets). SSH connections (any TCP port) are
`"type": "ssh"` lines (`ssh_record.ssh_record`). The last line is a metrics line with the
importer's counters.

Damage policy: a damaged file (cut mid-packet, a corrupt block, a malformed log line) stops that
file at the damage; every handshake read before it, in it and in every other file, is written; the
output is complete on disk and then `ImportDamaged` is raised, naming the first damaged file and
position (the CLI exits 2). Memory is bounded by the flow table, never by the size of a file.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from assess.errors import InputError, OutputError
from assess.fsio import atomic_writer, require_file
from assess.sources.capture.defrag import Defragmenter, IpFragment
from assess.sources.capture.flows import Finished, HandshakeTracker
from assess.sources.capture.packets import LINKTYPE_RAW, Skip, TcpSegment, UdpDatagram, decode
from assess.sources.capture.pcap import read_packets
from assess.sources.capture.quic import QuicTracker
from assess.sources.capture.zeek import read_ssl_log
from assess.sources.runtime.correlate import Correlator, WireFlow
from assess.sources.runtime.reassembly import MAX_OUT_OF_ORDER
from assess.sources.runtime.ssh_record import ssh_record
from assess.sources.runtime.ssh_wire import SshFlow

Advance = Callable[[int], None]


class ImportDamaged(InputError):
    """One or more input files were damaged; the output holds everything read before the damage."""


@dataclass(frozen=True)
class CaptureLimits:
    max_connections: int = 65536
    max_bytes: int = 65536  # per direction of a connection, what it holds out of order included
    idle_timeout: float = 60.0  # seconds of capture time
    max_out_of_order: int = MAX_OUT_OF_ORDER  # bytes held out of order by all connections together


@dataclass
class ImportReport:
    out: Path
    files: int = 0
    handshakes: int = 0
    pq_hybrid: int = 0
    ssh_sessions: int = 0
    ssh_pq_hybrid: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    damaged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "files": self.files, "handshakes": self.handshakes,
                "pq_hybrid_handshakes": self.pq_hybrid, "ssh_sessions": self.ssh_sessions,
                "pq_hybrid_ssh_sessions": self.ssh_pq_hybrid, **self.counters, "damaged": self.damaged}


# What json.dumps(line, ensure_ascii=False, separators=(", ", ": ")) writes, without an encoder made per line.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


class _LineWriter:
    """One JSON object per line, the sensor's formatting."""

    def __init__(self, fh: IO[bytes], report: ImportReport) -> None:
        self.fh = fh
        self.report = report

    def write(self, line: dict[str, Any]) -> None:
        self.fh.write((_encode(line) + "\n").encode("utf-8"))
        if line.get("type") == "handshake":
            self.report.handshakes += 1
            self.report.pq_hybrid += line.get("pq_hybrid") is True
        elif line.get("type") == "ssh":
            self.report.ssh_sessions += 1
            self.report.ssh_pq_hybrid += line.get("pq_hybrid") is True

    def finished(self, done: list[Finished], transport: str) -> None:
        for flow, capture in done:
            if isinstance(flow, SshFlow):
                self.write(ssh_record(flow, source="pcap") | {"capture": capture})
            else:
                self.write(wire_line(flow, source="pcap", capture=capture) | {"transport": transport})


# Made once: a correlator keeps nothing of the flows whose records it is only asked for.
_CORRELATOR = Correlator(host="")


def wire_line(flow: WireFlow, *, source: str, capture: str) -> dict[str, Any]:
    """The sensor's handshake line for a wire flow seen in a capture (no process, no host)."""
    line = _CORRELATOR.unclaimed_record(flow)
    del line["transport"]  # the importer writes it last, after `capture`, as it has since issue 23
    line.update(host=None, source=source, capture=capture)
    return line


def import_pcaps(paths: Sequence[Path], out: Path, *, limits: CaptureLimits = CaptureLimits(),
                 advance: Advance | None = None) -> ImportReport:
    """Every TLS handshake (over TCP and QUIC) and SSH key exchange in the captures, as runtime JSON
    lines in `out` (see the module docstring)."""
    files = [require_file(p) for p in paths]
    report = ImportReport(out, files=len(files))
    skips: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    first_error: InputError | None = None
    try:
        with atomic_writer(out) as fh:
            writer = _LineWriter(fh, report)
            # One flow table for all the files, read in the order given, so a capture rotated into
            # several files (tcpdump -C/-G) loses no handshake at a file boundary.
            tracker = HandshakeTracker(max_connections=limits.max_connections, max_bytes=limits.max_bytes,
                                       idle_timeout=limits.idle_timeout, max_out_of_order=limits.max_out_of_order)
            quic = QuicTracker(max_connections=limits.max_connections, idle_timeout=limits.idle_timeout)
            defrag = Defragmenter()
            packets = tcp_segments = snapped = vlan_tagged = 0  # (counted in locals: per packet)
            for path in files:
                offset = 0
                capture = str(path)
                try:
                    for packet in read_packets(path):
                        packets += 1
                        segment: TcpSegment | UdpDatagram | IpFragment | Skip | None = decode(packet.linktype,
                                                                                               packet.frame)
                        # A whole datagram can tunnel a fragment of another (each level is smaller).
                        while isinstance(segment, IpFragment):
                            whole = defrag.add(segment, packet.ts)
                            segment = decode(LINKTYPE_RAW, whole) if whole is not None else None
                        if type(segment) is TcpSegment:  # most packets
                            tcp_segments += 1
                            snapped += segment.snapped
                            vlan_tagged += bool(segment.vlans)
                            done = tracker.add(segment, packet.ts, capture)
                            if done:
                                writer.finished(done, "tcp")
                        elif segment is None:
                            pass  # a fragment kept until its datagram is whole
                        elif isinstance(segment, Skip):
                            skips[f"skipped_{segment.value}"] += 1
                        elif isinstance(segment, UdpDatagram):
                            writer.finished(quic.add(segment, packet.ts, capture), "quic")
                        if advance is not None and packets % 1024 == 0:  # per packet cost 5 %
                            advance(packet.offset - offset)
                            offset = packet.offset
                except InputError as e:
                    report.damaged.append(e.one_line())
                    first_error = first_error or e
                    # What its open connections showed before the damage is kept, and theirs alone.
                    writer.finished(tracker.end_file(capture), "tcp")
                    writer.finished(quic.end_file(capture), "quic")
                if advance is not None:
                    advance(max(path.stat().st_size - offset, 0))  # a pipe has no size
            skips.update(packets=packets, tcp_segments=tcp_segments, snapped_segments=snapped,
                         vlan_tagged_segments=vlan_tagged)
            # What every connection still open showed before the end is kept.
            writer.finished(tracker.finish(), "tcp")
            writer.finished(quic.finish(), "quic")
            defrag.finish()
            totals.update(tracker.counters.as_dict())
            totals.update(defrag.metrics())
            totals.update(asdict(quic.counters))
            totals.pop("segments", None)
            counts = {k: skips[k] for k in ("packets", "tcp_segments", "snapped_segments", "vlan_tagged_segments")}
            counts |= {f"skipped_{s.value}": skips[f"skipped_{s.value}"] for s in Skip}
            counts["skipped_ip_fragment"] = defrag.dropped + defrag.expired
            report.counters = counts | dict(totals)
            writer.write(_metrics(report, "pcap", events=skips["packets"], timeouts=totals["idle_timeouts"],
                                  evictions=totals["evictions"]))
    except OSError as e:
        raise OutputError(f"cannot write: {e.strerror}", path=out) from e
    _raise_damage(report, first_error)
    return report


def import_zeek_logs(paths: Sequence[Path], out: Path, *, advance: Advance | None = None) -> ImportReport:
    """Every record of the ssl.logs, as runtime JSON lines in `out` (see the module docstring)."""
    files = [require_file(p) for p in paths]
    report = ImportReport(out, files=len(files))
    records = 0
    first_error: InputError | None = None
    try:
        with atomic_writer(out) as fh:
            writer = _LineWriter(fh, report)
            for path in files:
                try:
                    for _, line in read_ssl_log(path):
                        records += 1
                        writer.write(line)
                        if advance is not None:
                            advance(1)
                except InputError as e:
                    report.damaged.append(e.one_line())
                    first_error = first_error or e
            report.counters = {"records": records}
            writer.write(_metrics(report, "zeek", events=records, timeouts=0, evictions=0))
    except OSError as e:
        raise OutputError(f"cannot write: {e.strerror}", path=out) from e
    _raise_damage(report, first_error)
    return report


def _metrics(report: ImportReport, source: str, *, events: int, timeouts: int, evictions: int) -> dict[str, Any]:
    # A recorded capture says nothing about the drops of whatever recorded it: null, not 0.
    return {"type": "metrics", "source": source, "final": True, "events_received": events,
            "handshakes_emitted": report.handshakes, "correlation_timeouts": timeouts,
            "cache_evictions": evictions, "kernel_drops": None, "kernel_drop_rate": None,
            **report.counters, "damaged_files": len(report.damaged)}


def _raise_damage(report: ImportReport, first: InputError | None) -> None:
    if first is None:
        return
    more = len(report.damaged) - 1
    suffix = f" ({more} more damaged file{'s' if more > 1 else ''})" if more else ""
    ssh = f" and {report.ssh_sessions} SSH session(s)" if report.ssh_sessions else ""
    raise ImportDamaged(
        f"{first.message}; {report.handshakes} handshake(s){ssh} read before the damage are in {report.out}{suffix}",
        path=first.path, line=first.line,
    )
