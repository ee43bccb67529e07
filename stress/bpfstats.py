"""The kernel's own count of the time the sensor's BPF programs ran (kernel.bpf_stats_enabled).

While the setting is on, the kernel keeps a run count and the total run time of every BPF
program, which /proc/PID/fdinfo shows for the program's descriptors in the process that loaded
it. Keeping those counts costs every program run two clock reads, so the harness turns them on
only for a phase of its own, never in the phases it compares.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SETTING = Path("/proc/sys/kernel/bpf_stats_enabled")
# bpf_prog_type numbers (include/uapi/linux/bpf.h) of the programs the sensor loads.
PROGRAM_TYPES = {1: "socket_filter", 2: "uprobe", 5: "tracepoint", 8: "cgroup_skb", 17: "raw_tracepoint"}


@contextmanager
def bpf_stats() -> Iterator[None]:
    before = SETTING.read_text().strip()
    SETTING.write_text("1")
    try:
        yield
    finally:
        SETTING.write_text(before)


def run_time(pid: int) -> dict[str, tuple[int, int]]:
    """(nanoseconds, runs) so far of the BPF programs process `pid` holds, by program type."""
    totals: dict[str, tuple[int, int]] = {}
    folder = Path(f"/proc/{pid}/fdinfo")
    for fd in os.listdir(folder):
        try:
            text = (folder / fd).read_text()
        except OSError:
            continue
        fields = dict(re.findall(r"^(\w+):\s+(\S+)", text, re.M))
        if "prog_type" not in fields:
            continue
        kind = PROGRAM_TYPES.get(int(fields["prog_type"]), f"type {fields['prog_type']}")
        ns, runs = totals.get(kind, (0, 0))
        totals[kind] = (ns + int(fields.get("run_time_ns", 0)), runs + int(fields.get("run_cnt", 0)))
    return totals


def per_unit(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]],
             units: float) -> dict[str, dict[str, float]]:
    """Each program type's runs and run time between two readings, per run and per unit of load."""
    out = {}
    for kind, (ns, runs) in sorted(after.items()):
        ns -= before.get(kind, (0, 0))[0]
        runs -= before.get(kind, (0, 0))[1]
        out[kind] = {"runs": runs, "ns_per_run": round(ns / runs, 1) if runs else 0.0,
                     "runs_per_unit": round(runs / units, 3) if units else 0.0,
                     "ns_per_unit": round(ns / units, 1) if units else 0.0}
    return out
