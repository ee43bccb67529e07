"""Recorded network evidence -> runtime JSON lines: packet captures (pcap, pcapng) through the
sensor's own TCP reassembly and TLS parser, and Zeek ssl.log. See docs/CAPTURES.md."""

from assess.sources.capture.importer import (
    CaptureLimits,
    ImportDamaged,
    ImportReport,
    import_pcaps,
    import_zeek_logs,
    wire_line,
)

__all__ = ["CaptureLimits", "ImportDamaged", "ImportReport", "import_pcaps", "import_zeek_logs", "wire_line"]
