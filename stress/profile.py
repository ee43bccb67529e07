"""Where the sensor's cost falls, from a system-wide CPU profile (`perf`) of one more sensor-on phase.

The kernel's BPF run-time counts (`bpfstats`) see the sensor's programs alone. What reaching a
program costs the observed process is not in them: a uprobe's trap and the return to user space
after it, a tracepoint's dispatch (a classic tracepoint builds its record before the program
runs), the cgroup hook's, a packet socket's delivery of each packet (and the copy of each outgoing
one made for it). Here every CPU is sampled at a fixed rate with the kernel call chain, and each
sample is put under the first of those entry points its chain passes through, innermost first
(`CATEGORIES`); within each, the samples taken inside a BPF program (its own code or a helper or
map function it called) are counted apart. The sensor process's own samples are its own
category, whatever it was doing. A sample is CPU time (one sample is 1/frequency of a CPU), so
each category becomes microseconds of CPU per unit of load.

What the profile cannot see: what the sensor costs the observed programs indirectly (caches and
TLBs it cools, switches to and from it), which shows only as the difference between the on and
off phases' CPU. The hooks count every program attached to them, not the sensor's alone (on this
project's machines there are no others).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

FREQUENCY_HZ = 999  # (not a multiple of the timer tick, so sampling does not beat with it)
START_S = 0.5

# (category, its name in the report, what it covers, frame names that mark it: exact names, or
# prefixes ending in "*").
CATEGORIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("uprobes", "uprobe traps", "the trap, the probe's dispatch and the return to user space after it",
     ("asm_exc_int3", "exc_int3", "uprobe_notify_resume", "handle_swbp", "uprobe_handle_trampoline",
      "__x64_sys_uretprobe", "__x64_sys_uprobe", "uprobe_dispatcher", "uretprobe_dispatcher")),
    ("tracepoints", "tracepoints", "raw and classic, with their dispatch (a classic one's record is built first)",
     ("bpf_trace_run*", "perf_trace_run_bpf_submit", "trace_call_bpf", "perf_trace_*")),
    ("cgroup_skb", "cgroup skb hook", "the hook on every socket's receive", ("__cgroup_bpf_run_filter_skb",)),
    ("packet_sockets", "packet sockets", "delivery to them, the copy of each outgoing packet made for them, the filter",
     ("packet_rcv", "tpacket_rcv", "packet_rcv_spkt", "dev_queue_xmit_nit")),
)


class ProfileError(RuntimeError):
    """perf could not record or read a profile."""


def _matches(frame: str, names: tuple[str, ...]) -> bool:
    return any(frame.startswith(n[:-1]) if n.endswith("*") else frame == n for n in names)


@dataclass
class Attribution:
    """Samples by category, and of each the part taken inside a BPF program."""
    total: int = 0
    sensor: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    in_bpf: dict[str, int] = field(default_factory=dict)


def attribute(script: str, sensor_pid: int) -> Attribution:
    """Counts the samples of `perf script -F pid,ip,sym` output (a line with the pid, then one line per
    frame, leaf first, each `ADDRESS SYMBOL`; a blank line between samples)."""
    result = Attribution(by_category={name: 0 for name, *_ in CATEGORIES},
                         in_bpf={name: 0 for name, *_ in CATEGORIES})
    for block in script.split("\n\n"):
        lines = block.strip("\n").splitlines()
        if not lines or not lines[0].strip().isdigit():
            continue
        result.total += 1
        if int(lines[0].strip()) == sensor_pid:
            result.sensor += 1
            continue
        frames = [parts[1] if len(parts) > 1 else "" for parts in (line.split(None, 1) for line in lines[1:])]
        for frame in frames:
            category = next((name for name, _, _, names in CATEGORIES if _matches(frame, names)), None)
            if category:
                result.by_category[category] += 1
                if any(f.startswith("bpf_prog_") for f in frames[:frames.index(frame)]):
                    result.in_bpf[category] += 1
                break
    return result


def unavailable() -> str | None:
    """Why no profile can be taken here, or None."""
    if shutil.which("perf") is None:
        return "perf is not installed (Debian: linux-perf; Ubuntu: linux-tools for the running kernel)"
    if os.geteuid() != 0:
        return "a system-wide profile needs root"
    return None


@contextmanager
def recording(folder: Path) -> Iterator[Path]:
    """`perf record` of every CPU, with kernel call chains, from entry to exit of the block."""
    data = folder / "profile.perf"
    try:
        proc = subprocess.Popen(["perf", "record", "-a", "-g", "-F", str(FREQUENCY_HZ), "-o", str(data)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except OSError as error:
        raise ProfileError(f"perf record did not start: {error}") from None
    time.sleep(START_S)  # (it opens an event on every CPU before it samples)
    if proc.poll() is not None:
        raise ProfileError(f"perf record failed ({proc.returncode}): "
                           f"{proc.communicate()[1].decode(errors='replace').strip()[-300:]}")
    try:
        yield data
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    if proc.returncode not in (0, -signal.SIGINT) or not data.exists():
        raise ProfileError(f"perf record failed ({proc.returncode}): {err.decode(errors='replace').strip()[-300:]}")


def read(data: Path, sensor_pid: int) -> Attribution:
    done = subprocess.run(["perf", "script", "-i", str(data), "-F", "pid,ip,sym"],
                          capture_output=True, text=True, errors="replace")
    if done.returncode:
        raise ProfileError(f"perf script failed ({done.returncode}): {done.stderr.strip()[-300:]}")
    return attribute(done.stdout, sensor_pid)


def per_unit(found: Attribution, units: float) -> dict[str, object]:
    """Microseconds of CPU per unit of load, by category."""
    def us(samples: int) -> float:
        return round(samples * 1e6 / FREQUENCY_HZ / units, 2) if units else 0.0

    categories = {name: {"us_per_unit": us(found.by_category[name]), "in_bpf_us_per_unit": us(found.in_bpf[name])}
                  for name, *_ in CATEGORIES}
    return {"frequency_hz": FREQUENCY_HZ, "samples": found.total, "sensor_process_us_per_unit": us(found.sensor),
            "categories": categories,
            "in_observed_us_per_unit": round(sum(c["us_per_unit"] for c in categories.values()), 2)}
