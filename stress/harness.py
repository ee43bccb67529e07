"""The sensor's overhead, measured: the same TLS servers and load, sensor off and on, alternating.

Four workloads (stress/workloads.py): a handshake storm, bulk transfer, small requests on
long-lived connections, and a mixed population of TLS programs over IPv4 and IPv6. For each,
phases run off, on, off, ..., off: every sensor-on phase sits between two sensor-off phases and
its rate is taken against their mean, which cancels a drift of the machine's speed. Per phase:
the rate in the workload's unit and latency percentiles; for sensor-on phases also kernel drops,
the share of the load's handshakes the sensor reported (matched by the connections' ports), how
many were correlation failures (match_records), and the sensor's own CPU time. Writes a JSON file
(stress/metrics.json) and docs/OVERHEAD_RESULTS.md; with `link="veth"` (the traffic across a link
from a network namespace, stress/link.py) stress/metrics_veth.json and
docs/OVERHEAD_RESULTS_VETH.md; for a sensor run with `--no-uprobes`, each with `_no_uprobes`
added to its name (outputs()).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from stress import bpfstats, profile
from stress.link import LOOPBACK, Link, opened
from stress.loadgen import LoadPool, LoadResult
from stress.workloads import WORKLOADS, Workload

ROOT = Path(__file__).resolve().parents[1]
METRICS = ROOT / "stress" / "metrics.json"
REPORT = ROOT / "docs" / "OVERHEAD_RESULTS.md"
OUTPUTS = {"loopback": (METRICS, REPORT),
           "veth": (ROOT / "stress" / "metrics_veth.json", ROOT / "docs" / "OVERHEAD_RESULTS_VETH.md")}
QUIET_WAIT_S = 180.0  # by default a run waits this long at most for the machine to be quiet (wait_for_quiet)
QUIET_POLL_S = 5.0  # (the kernel updates the load averages every 5 s)
TARGETS = {"rate_ratio_min": 0.97, "reported_fraction_min": 0.999, "kernel_drops_max": 0}
# t quantiles (two-sided 95%) for small samples; past 30 rounds the normal's 1.96 is close enough.
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093,
        20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048,
        29: 2.045, 30: 2.042}


def outputs(link: str, uprobes: bool = True) -> tuple[Path, Path]:
    """Where a run's figures and report go by default: the link's, with `_no_uprobes` added to each
    name for a sensor run without its uprobes (`--no-uprobes`), so neither overwrites the other."""
    metrics, report = OUTPUTS[link]
    if uprobes:
        return metrics, report
    return (metrics.with_name(f"{metrics.stem}_no_uprobes{metrics.suffix}"),
            report.with_name(f"{report.stem}_NO_UPROBES{report.suffix}"))


def sensor_args(priority: str, uprobes: bool) -> tuple[str, ...]:
    """The options the harness starts `carnot runtime capture` with (besides --out)."""
    return ("--priority", priority) + (() if uprobes else ("--no-uprobes",))


@dataclass
class Phase:
    round: int
    sensor: bool
    load: LoadResult
    unit_bytes: int = 1
    sensor_metrics: dict[str, Any] | None = None
    reported: int | None = None
    correlation_failures: int | None = None
    # The whole machine's busy CPU seconds over the load's window (/proc/stat), plus, for an on
    # phase, the sensor's own CPU after it (records it caught up on): the load's cost, the sensor's
    # included, whether the CPUs were saturated or not. Steal: time the hypervisor gave elsewhere.
    busy_s: float | None = None
    steal_s: float | None = None
    # CPU seconds over the load's window of each server and each kind of client (with the processes
    # they started): where the load's CPU went, and whether a process's CPU per unit rose.
    process_cpu_s: dict[str, float] | None = None

    @property
    def rate(self) -> float:
        return self.load.rate / self.unit_bytes

    @property
    def busy_ms_per_unit(self) -> float | None:
        units = self.load.completed / self.unit_bytes
        return 1000 * self.busy_s / units if self.busy_s is not None and units else None

    def process_ms_per_unit(self, name: str, *, own_handshakes: bool = False) -> float | None:
        """A process group's CPU per unit of the whole load, or, for a client kind with
        `own_handshakes`, per handshake it made itself (where the load counted them by kind)."""
        kind = name.removeprefix("client: ")
        units = (self.load.by_client[kind] if own_handshakes and kind != name and kind in self.load.by_client
                 else self.load.completed / self.unit_bytes)
        cpu = (self.process_cpu_s or {}).get(name)
        return 1000 * cpu / units if cpu is not None and units else None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "round": self.round,
            "sensor": "on" if self.sensor else "off",
            "completed": self.load.completed,
            "handshakes": self.load.handshakes,
            "handshakes_by_client": self.load.by_client,
            "bytes_moved": self.load.bytes_moved,
            "errors": self.load.errors,
            "rate": round(self.rate, 2),
            **{f"latency_{k}_ms": v for k, v in percentiles(self.load.latencies_ms).items()},
            "busy_cpu_s": _round(self.busy_s, 3),
            "steal_cpu_s": _round(self.steal_s, 3),
            "busy_cpu_ms_per_unit": _round(self.busy_ms_per_unit, 4),
            "process_cpu_s": {k: round(v, 3) for k, v in self.process_cpu_s.items()}
            if self.process_cpu_s is not None else None,
        }
        if self.sensor_metrics is not None:
            m = self.sensor_metrics
            out |= {
                "reported": self.reported,
                "reported_fraction": round(self.reported / self.load.handshakes, 5)
                if self.load.handshakes and self.reported is not None else None,
                "correlation_failures": self.correlation_failures,
                "kernel_drops": m["kernel_drops"],
                "perf_lost": m.get("perf_lost"),
                "packet_drops": m.get("packet_drops"),
                "kernel_drop_rate": m["kernel_drop_rate"],
                "events_received": m["events_received"],
                "correlation_timeouts": m["correlation_timeouts"],
                "cache_evictions": m["cache_evictions"],
                "sensor_cpu_s": m["sensor_cpu_s"],
                "unreported_positions": m["unreported_positions"],
                "failed_records": m["failed_records"],
                **_cpu_per(m["sensor_cpu_s"], self.load.handshakes, self.load.bytes_moved),
            }
        return out


def _round(value: float | None, digits: int) -> float | None:
    return round(value, digits) if value is not None else None


def host_cpu() -> tuple[float, float]:
    """The machine's busy CPU seconds so far (user, nice, system, irq, softirq: loopback's packets
    are carried in softirq) and its stolen ones, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    hz = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / hz, steal / hz


def process_cpu(groups: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds (user+system) so far of each group of processes: the processes named, every
    process they started that is still alive, and the children they reaped (a forking server's
    connections; a Go client run per phase). From one reading of /proc."""
    parents: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    hz = os.sysconf("SC_CLK_TCK")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # (gone since the listing)
        pid = int(entry.name)
        parents.setdefault(int(fields[1]), []).append(pid)
        times[pid] = sum(int(x) for x in fields[11:15]) / hz  # utime, stime, cutime, cstime
    out = {}
    for name, roots in groups.items():
        seen: set[int] = set()
        todo = list(roots)
        while todo:
            pid = todo.pop()
            if pid not in seen:
                seen.add(pid)
                todo.extend(parents.get(pid, ()))
        out[name] = sum(times.get(pid, 0.0) for pid in seen)
    return out


def _spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before[name] for name in after if name in before}


def _cpu_per(cpu_s: float, handshakes: int, bytes_moved: int) -> dict[str, float | None]:
    return {
        "sensor_cpu_ms_per_handshake": round(1000 * cpu_s / handshakes, 3) if handshakes else None,
        "sensor_cpu_ms_per_mib": round(1000 * cpu_s / (bytes_moved / (1 << 20)), 3) if bytes_moved else None,
    }


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99)}


def start_sensor(out: Path, *capture_args: str, tree: Path | None = None) -> subprocess.Popen[bytes]:
    """`carnot runtime capture --out OUT CAPTURE_ARGS...`, once its ready line is written; with
    `tree`, from that checkout of this repository (its `assess` first on the path: started there)."""
    out = out.resolve()
    out.unlink(missing_ok=True)  # a ready line left from an earlier run must not count
    proc = subprocess.Popen(
        [sys.executable, "-m", "assess", "runtime", "capture", "--out", str(out), *capture_args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tree,
        env=None if tree is None else dict(
            os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(tree), os.environ.get("PYTHONPATH")) if p)),
    )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if out.exists() and out.read_text().startswith('{"type": "ready"'):
                return proc
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise RuntimeError(f"the sensor did not start: {err.strip()}")
            time.sleep(0.1)
    except BaseException:  # (SIGTERM or Ctrl-C while it attaches: it is not left attaching)
        if proc.poll() is None:
            end_sensor(proc)
        raise
    proc.kill()
    proc.wait(30)
    raise RuntimeError("the sensor was not ready after 120 s")


def exit_on_sigterm() -> None:
    """SIGTERM ends this process as Ctrl-C does, by an exception: every `with` unwinds, so the
    sensor is stopped and the TLS servers and load workers are ended instead of left running.
    (Forked load workers inherit the handler; multiprocessing ends each one's SystemExit there.)"""

    def _exit(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)


def end_sensor(proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    """SIGTERM, and SIGKILL if the sensor has not exited `timeout` seconds later (then an error): a
    sensor left running would keep its probes attached through every later phase and measurement."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(30)
        raise RuntimeError(f"the sensor (pid {proc.pid}) did not stop within {timeout:g} s of SIGTERM: "
                           "killed") from None


def cpu_seconds(pid: int) -> float:
    """User+system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def match_records(lines: list[dict[str, Any]], load: LoadResult,
                  uprobes: bool = True) -> tuple[int, int, list[dict[str, Any]], list[int]]:
    """How many of the load's connections the sensor reported, how many of those were correlation
    failures, up to five such records, and where in the load the unreported connections fell (0 =
    first).

    A connection is reported by a client-side record with the same ports; a record whose process is
    not known has no role and stands for the client side too. It is a correlation failure when only
    its server's record is there (the client's process was not known), when an OpenSSL client's
    record lacks a view (with the sensor's uprobes), or when a client's record has no process
    (without them, `uprobes` False: every record is the wire's). Client ports repeat within a phase
    (the kernel reuses them), so matching counts multiplicity."""
    clients: dict[tuple[int, int], list[dict[str, Any]]] = {}
    servers: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for r in lines:
        if r["type"] == "handshake":
            (servers if r["role"] == "server" else clients).setdefault((r["src_port"], r["dst_port"]), []).append(r)
    matched: Counter[tuple[int, int]] = Counter()  # the connections of each pair of ports so far
    reported, failed, unreported = 0, [], []
    for i, (client_port, server_port, openssl) in enumerate(load.client_ends):
        key = (client_port, server_port)
        n, found, alone = matched[key], clients.get(key, []), servers.get(key, [])
        if n < len(found):
            if _correlation_failed(found[n], openssl, uprobes):
                failed.append(found[n])
        elif n < len(alone):  # its server's record, without a client's
            failed.append(alone[n])
        else:
            unreported.append(i)
            continue
        matched[key] += 1
        reported += 1
    return reported, len(failed), failed[:5], unreported[:20]


def _correlation_failed(record: dict[str, Any], openssl: bool, uprobes: bool) -> bool:
    if uprobes:
        return openssl and record["source"] != "uprobe+wire"
    return record["pid"] is None


def stop_sensor(proc: subprocess.Popen[bytes], out: Path, load: LoadResult,
                cpu_before: float) -> tuple[dict[str, Any], int, int]:
    """An on phase's sensor, stopped once its last joins are made: its last line (the metrics) with
    the CPU it used since `cpu_before` and what it probed, how many of the load's handshakes it
    reported and how many of those were correlation failures (match_records). The sensor is
    stopped whatever happens meanwhile (SIGTERM ends the wait by an exception: exit_on_sigterm)."""
    try:
        time.sleep(3.0)  # let the last joins finish (the correlator waits 2 s for a late view)
        sensor_cpu = cpu_seconds(proc.pid) - cpu_before
    finally:
        end_sensor(proc)
    lines = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    final = dict(lines[-1], sensor_cpu_s=round(sensor_cpu, 3))
    # What the observed programs paid for: every uprobe, and those the kernel single-steps.
    final["uprobes"] = sorted(p.rsplit(":", 1)[1] for p in lines[0]["probes"] if p.startswith("uprobe:"))
    final["single_stepped_probes"] = lines[0]["single_stepped_probes"]
    reported, failures, failed, unreported = match_records(lines, load, lines[0]["uprobes"])
    # Kept whole (with every other record of the same client port) so a failure can be looked into.
    final["failed_records"] = [r for f in failed for r in lines
                               if r["type"] == "handshake" and r["src_port"] == f["src_port"]]
    final["unreported_positions"] = unreported
    return final, reported, failures


def run_workload(workload: Workload, *, rounds: int, phase_seconds: float, workers: int, sensor: Sequence[str],
                 console: Console, link: Link = LOOPBACK) -> dict[str, Any]:
    """Phases off, on, off, on, ..., off of one workload, its traffic over `link`; `sensor`: the
    sensor's options (sensor_args)."""
    phases: list[Phase] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix=f"carnot-stress-{workload.name}-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        setup = workload.start(folder, stack, workers, link)
        description = setup.description
        pool = stack.enter_context(LoadPool(setup.workers))
        groups = {f"server: {name}": [pid] for name, pid in setup.servers.items()}
        for name, pid in pool.processes:
            groups.setdefault(f"client: {name}", []).append(pid)
        pool.run(2.0)  # warm-up
        for r in range(rounds + 1):
            phases.append(_phase(workload, pool, r, rounds, phase_seconds, console, groups))
            if r == rounds:
                break
            out = folder / f"phase-{r}.jsonl"
            proc = start_sensor(out, *sensor)
            try:
                cpu_before = cpu_seconds(proc.pid)
                host_before, processes_before = host_cpu(), process_cpu(groups)
                load = pool.run(phase_seconds)
                host_after, sensor_in_window = host_cpu(), cpu_seconds(proc.pid) - cpu_before
                processes = _spent(processes_before, process_cpu(groups))
            except BaseException:
                end_sensor(proc)  # (no load to match its records against)
                raise
            final, reported, failures = stop_sensor(proc, out, load, cpu_before)
            caught_up = max(0.0, final["sensor_cpu_s"] - sensor_in_window)
            phase = Phase(r, True, load, workload.unit_bytes, final, reported, failures,
                          busy_s=host_after[0] - host_before[0] + caught_up, steal_s=host_after[1] - host_before[1],
                          process_cpu_s=processes)
            console.print(f"  {workload.name} {r + 1}/{rounds + 1} on:  {phase.rate:10.1f} {workload.unit}, "
                          f"reported {reported}/{load.handshakes}, drops {final['kernel_drops']}")
            phases.append(phase)
        bpf = _bpf_phase(workload, pool, folder, phase_seconds, sensor)
        console.print(f"  {workload.name} BPF run time: {bpf['total_ns_per_unit']} ns per {workload.per}")
        cpu_profile = _profile_phase(workload, pool, folder, phase_seconds, sensor)
        said = (f"skipped ({cpu_profile['skipped']})" if "skipped" in cpu_profile
                else f"{cpu_profile['in_observed_us_per_unit']} µs per {workload.per} in the hooks")
        console.print(f"  {workload.name} profile: {said}")
    result = dict(summarise(workload, phases, load_before, os.getloadavg(), phase_seconds, description), bpf=bpf,
                  profile=cpu_profile)
    return dict(result, cost_budget=cost_budget(result))


def cost_budget(r: dict[str, Any]) -> dict[str, Any] | None:
    """What each unit of load cost the machine more with the sensor on (µs), and how much of that
    the sensor's own process and its BPF programs account for. The rest is what neither counts:
    the uprobes' traps, the dispatch of the tracepoints and of the cgroup hook, the packet
    sockets' delivery, the switches to and from the sensor, the caches it cools, and the machine's
    own noise. The added CPU is the off phases' CPU per unit times the mean of the rounds' on/off
    ratios (with its interval); the BPF figure is from the phase of its own (see _bpf_phase), the
    sensor's from the compared ones."""
    busy, ratio, ci = r.get("busy_cpu_ms_per_unit") or {}, r.get("busy_cpu_ratio_on_off"), r.get("busy_cpu_ratio_ci95")
    sensor = r.get("sensor_cpu_us_per_unit")
    if busy.get("off") is None or ratio is None or sensor is None:
        return None
    off_us = 1000 * busy["off"]
    added = off_us * (ratio - 1)
    bpf = r["bpf"]["total_ns_per_unit"] / 1000 if r.get("bpf") else None
    return {"per": r["per"], "machine_us_off": round(off_us, 1), "added_us": round(added, 1),
            "added_us_ci95": [round(off_us * (c - 1), 1) for c in ci] if ci else None,
            "sensor_process_us": round(sensor, 1), "bpf_programs_us": _round(bpf, 1),
            "rest_us": round(added - sensor - (bpf or 0.0), 1), **_hooks_budget(r, added - sensor)}


def _hooks_budget(r: dict[str, Any], added_less_sensor: float) -> dict[str, float]:
    """With a profile: what reaching the sensor's programs cost the observed programs, programs
    included (the hooks: see stress/profile.py), and the rest after that, which is what the sensor
    costs them indirectly (switches, cooled caches) and the machine's noise."""
    p = r.get("profile") or {}
    if "in_observed_us_per_unit" not in p:
        return {}
    return {"hooks_us": p["in_observed_us_per_unit"],
            "rest_after_hooks_us": round(added_less_sensor - p["in_observed_us_per_unit"], 1)}


def _bpf_phase(workload: Workload, pool: LoadPool, folder: Path, seconds: float,
               sensor: Sequence[str]) -> dict[str, Any]:
    """One more sensor-on phase, not compared, with the kernel's BPF run-time counts on: what the
    sensor's programs cost per unit of load (in the observed programs' and the kernel's time)."""
    out = folder / "bpf-phase.jsonl"
    with bpfstats.bpf_stats():
        proc = start_sensor(out, *sensor)
        try:
            before = bpfstats.run_time(proc.pid)
            load = pool.run(seconds)
            after = bpfstats.run_time(proc.pid)
        finally:
            end_sensor(proc)
    units = load.completed / workload.unit_bytes
    by_type = bpfstats.per_unit(before, after, units)
    return {"per": workload.per, "by_program_type": by_type,
            "total_ns_per_unit": round(sum(t["ns_per_unit"] for t in by_type.values()), 1)}


CATCH_UP_S = 0.3  # longer than the sensor's wake-up interval while busy (0.1 s)


def _profile_phase(workload: Workload, pool: LoadPool, folder: Path, seconds: float,
                   sensor: Sequence[str]) -> dict[str, Any]:
    """One more sensor-on phase, not compared, with every CPU sampled (stress/profile.py): where the
    sensor's cost falls in the observed programs, the hooks' dispatch and the uprobes' traps included.
    Skipped, with the reason, where `perf` cannot run."""
    reason = profile.unavailable()
    if reason:
        return {"skipped": reason}
    out = folder / "profile-phase.jsonl"
    proc = start_sensor(out, *sensor)
    try:
        with profile.recording(folder) as data:
            load = pool.run(seconds)
            time.sleep(CATCH_UP_S)  # the sensor's pass over the window's last records is its cost too
    except profile.ProfileError as error:
        return {"skipped": str(error)}
    finally:
        end_sensor(proc)  # (outside the recording: its stopping is no unit's cost)
    try:
        found = profile.read(data, proc.pid)
    except profile.ProfileError as error:
        return {"skipped": str(error)}
    return {"per": workload.per, **profile.per_unit(found, load.completed / workload.unit_bytes)}


def _phase(workload: Workload, pool: LoadPool, r: int, rounds: int, seconds: float, console: Console,
           groups: dict[str, list[int]]) -> Phase:
    before, processes_before = host_cpu(), process_cpu(groups)
    load = pool.run(seconds)
    after, processes = host_cpu(), _spent(processes_before, process_cpu(groups))
    phase = Phase(r, False, load, workload.unit_bytes, busy_s=after[0] - before[0], steal_s=after[1] - before[1],
                  process_cpu_s=processes)
    console.print(f"  {workload.name} {r + 1}/{rounds + 1} off: {phase.rate:10.1f} {workload.unit}")
    return phase


def t95(df: int) -> float:
    """Student's t two-sided 95% quantile: the table to 30 degrees of freedom, then the Cornish-Fisher
    expansion about the normal quantile (within 0.001 of the exact value there and beyond)."""
    if df in _T95:
        return _T95[df]
    z = 1.959964
    return (z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3))


def mean_interval(values: list[float]) -> tuple[float, float | None, list[float] | None]:
    """Mean, standard error and 95% interval (Student's t) of per-round ratios."""
    if not values:
        return 0.0, None, None
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, None, None
    stderr = statistics.stdev(values) / math.sqrt(len(values))
    t = t95(len(values) - 1)
    return mean, stderr, [round(mean - t * stderr, 4), round(mean + t * stderr, 4)]


def _per_round(phases: list[Phase], figure: Callable[[Phase], float | None]) -> list[float]:
    """Each on phase's figure against the mean of the off phases' either side of it (drift cancels)."""
    out = []
    for i, p in enumerate(phases):
        mine = figure(p) if p.sensor else None
        if mine is None:
            continue
        neighbours = (phases[i - 1] if i else None, phases[i + 1] if i + 1 < len(phases) else None)
        around = [x for q in neighbours if q is not None and not q.sensor and (x := figure(q)) is not None]
        if around and sum(around):
            out.append(round(mine / (sum(around) / len(around)), 4))
    return out


def summarise(workload: Workload, phases: list[Phase], load_before: tuple[float, ...],
              load_after: tuple[float, ...], phase_seconds: float, description: str) -> dict[str, Any]:
    on = [p for p in phases if p.sensor]
    off = [p for p in phases if not p.sensor]

    def mean_rate(ps: list[Phase]) -> float:
        return sum(p.rate for p in ps) / len(ps) if ps else 0.0

    handshakes_on = sum(p.load.handshakes for p in on)
    reported = sum(p.reported or 0 for p in on)
    drops = sum(p.sensor_metrics["kernel_drops"] for p in on if p.sensor_metrics)
    events = sum(p.sensor_metrics["events_received"] for p in on if p.sensor_metrics)
    failures = sum(p.correlation_failures or 0 for p in on)
    per_round = _per_round(phases, lambda p: p.rate)
    ratio, stderr, ci95 = mean_interval(per_round)
    cpu_per_round = _per_round(phases, lambda p: p.busy_ms_per_unit)
    cpu_ratio, _, cpu_ci95 = mean_interval(cpu_per_round)
    steal = [p.steal_s for p in phases if p.steal_s is not None]

    def mean_busy(ps: list[Phase]) -> float | None:
        values = [x for p in ps if (x := p.busy_ms_per_unit) is not None]
        return round(statistics.mean(values), 4) if values else None
    off_rates = [p.rate for p in off]
    drift = [b / a for a, b in itertools.pairwise(off_rates) if a]

    def side(ps: list[Phase]) -> dict[str, Any]:
        latencies = [x for p in ps for x in p.load.latencies_ms]
        return {"rate": round(mean_rate(ps), 2), **{f"latency_{k}_ms": v for k, v in percentiles(latencies).items()}}

    off_side, on_side = side(off), side(on)
    names = sorted({name for p in phases for name in (p.process_cpu_s or {})})

    def process_figures(name: str) -> dict[str, Any]:
        def mean_of(ps: list[Phase], figure: Callable[[Phase], float | None]) -> float | None:
            values = [x for p in ps if (x := figure(p)) is not None]
            return statistics.mean(values) if values else None

        def share(p: Phase) -> float | None:
            return (p.process_cpu_s or {}).get(name, 0.0) / phase_seconds if p.process_cpu_s else None

        # A client kind's CPU is taken per handshake of its own where the workload counts handshakes
        # (in the mixed population each kind makes its own share of them); else per unit of the load.
        own = workload.per == "handshake" and name.startswith("client: ")

        def per_unit(p: Phase) -> float | None:
            return p.process_ms_per_unit(name, own_handshakes=own)

        shares, per_units = _per_round(phases, share), _per_round(phases, per_unit)
        share_ratio, _, share_ci = mean_interval(shares)
        unit_ratio, _, unit_ci = mean_interval(per_units)
        return {"cpu_share": {"off": _round(mean_of(off, share), 4), "on": _round(mean_of(on, share), 4)},
                "cpu_share_ratio_on_off": round(share_ratio, 4) if shares else None,
                "cpu_share_ratio_ci95": share_ci,
                "per": f"{workload.per} of its own" if own else f"{workload.per} of the load",
                "ms_per_unit": {"off": _round(mean_of(off, per_unit), 4), "on": _round(mean_of(on, per_unit), 4)},
                "ms_per_unit_ratio_on_off": round(unit_ratio, 4) if per_units else None,
                "ms_per_unit_ratio_ci95": unit_ci}
    sensor_cpu = sum(p.sensor_metrics["sensor_cpu_s"] for p in on if p.sensor_metrics)
    bytes_on = sum(p.load.bytes_moved for p in on)
    units_on = sum(p.load.completed / p.unit_bytes for p in on)
    p99_off, p99_on = off_side["latency_p99_ms"], on_side["latency_p99_ms"]
    return {
        "workload": workload.name,
        "title": workload.title,
        "unit": workload.unit,
        "per": workload.per,
        "description": description,
        "phases": [p.summary() for p in phases],
        "off": off_side,
        "on": on_side,
        "latency_p99_ratio": round(p99_on / p99_off, 4) if p99_on and p99_off else None,
        **_cpu_per(sensor_cpu, handshakes_on, bytes_on),
        "sensor_cpu_us_per_unit": round(1e6 * sensor_cpu / units_on, 2) if units_on else None,
        "rate_ratio_on_off": round(ratio, 4),
        "rate_ratio_per_round": per_round,
        "rate_ratio_of_means": round(mean_rate(on) / mean_rate(off), 4) if mean_rate(off) else 0.0,
        "busy_cpu_ms_per_unit": {"off": mean_busy(off), "on": mean_busy(on)},
        "busy_cpu_ratio_on_off": round(cpu_ratio, 4) if cpu_per_round else None,
        "busy_cpu_ratio_ci95": cpu_ci95,
        "busy_cpu_ratio_per_round": cpu_per_round,
        "process_cpu": {name: process_figures(name) for name in names},
        "steal_share": (round(sum(steal) / (len(steal) * phase_seconds * (os.cpu_count() or 1)), 5)
                        if steal else None),
        "rate_ratio_stderr": round(stderr, 4) if stderr is not None else None,
        "rate_ratio_ci95": ci95,
        "off_phase_drift_sd": round(statistics.stdev(drift), 4) if len(drift) > 1 else None,
        "handshakes_on": handshakes_on,
        "uprobes": sorted({u for p in on if p.sensor_metrics for u in p.sensor_metrics.get("uprobes", [])}),
        "single_stepped_probes": sorted({u for p in on if p.sensor_metrics
                                         for u in p.sensor_metrics.get("single_stepped_probes", [])}),
        "reported_fraction": round(reported / handshakes_on, 5) if handshakes_on else None,
        "kernel_drops": drops,
        "kernel_drop_rate": round(drops / (events + drops), 6) if events + drops else 0.0,
        "correlation_failure_rate": round(failures / reported, 5) if reported else None,
        "targets_met": {
            "rate_ratio": ratio >= TARGETS["rate_ratio_min"],
            "reported_fraction": bool(handshakes_on) and reported / handshakes_on >= TARGETS["reported_fraction_min"],
            "kernel_drops": drops <= TARGETS["kernel_drops_max"],
        },
        "phase_seconds": phase_seconds,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
    }


def wait_for_quiet(console: Console, limit_s: float, *,
                   loadavg: Callable[[], tuple[float, float, float]] = os.getloadavg,
                   sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> float:
    """Wait until the machine is quiet as the report counts it (a 1-minute load average of at most a
    quarter of the CPUs), for up to `limit_s`; returns the seconds waited. Work that has just ended
    (a build, the command before) keeps the 1-minute average up for a minute or so after it stops, and
    a run started under it would be reported as not conclusive."""
    cpus = os.cpu_count() or 1
    start = clock()
    with console.status("") as status:
        while (load := loadavg()[0]) > cpus / 4 and (waited := clock() - start) < limit_s:
            status.update(f"waiting for the machine to be quiet: load average {load:.2f} on {cpus} CPUs "
                          f"({waited:.0f} of at most {limit_s:.0f} s)")
            sleep(QUIET_POLL_S)
    return round(clock() - start, 1)


def run_stress(*, workloads: list[str], rounds: int = 24, phase_seconds: float = 5.0, workers: int = 2,
               priority: str = "auto", uprobes: bool = True, quiet_wait_s: float = 0.0,
               console: Console | None = None, link: str = "loopback") -> dict[str, Any]:
    console = console or Console()
    waited = wait_for_quiet(console, quiet_wait_s) if quiet_wait_s > 0 else 0.0
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    results = {}
    with opened(link) as path:
        for name in workloads:
            console.rule(f"{WORKLOADS[name].title} ({name}), {path.name}")
            results[name] = run_workload(WORKLOADS[name], rounds=rounds, phase_seconds=phase_seconds,
                                         workers=workers, sensor=sensor_args(priority, uprobes), console=console,
                                         link=path)
    return {
        "workloads": results,
        "targets": TARGETS,
        "setup": {
            "rounds": rounds, "phase_seconds": phase_seconds, "workers": workers, "sensor_priority": priority,
            "sensor_uprobes": uprobes,
            "link": path.name, "link_description": path.description,
            "cpus": os.cpu_count(), "platform": platform.platform(), "started_at": started,
            "load_average_at_start": load_at_start, "waited_for_quiet_s": waited,
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    }


def print_summary(result: dict[str, Any], console: Console) -> None:
    table = Table(title="Sensor on/off (mean of per-round ratios, 95% interval)")
    for column in ("workload", "off", "on", "on/off", "95% interval", "p99 ms off/on", "p99 ratio", "reported",
                   "kernel drops", "sensor CPU ms/handshake", "sensor CPU ms/MiB", "BPF run time",
                   "machine CPU/unit on/off"):
        table.add_column(column, justify="left" if column == "workload" else "right")
    for r in result["workloads"].values():
        met = r["targets_met"]
        table.add_row(
            f"{r['workload']} ({r['unit']})", f"{r['off']['rate']}", f"{r['on']['rate']}",
            f"[{'green' if met['rate_ratio'] else 'red'}]{r['rate_ratio_on_off']}[/]", _interval(r),
            f"{r['off']['latency_p99_ms']} / {r['on']['latency_p99_ms']}", f"{r['latency_p99_ratio']}",
            f"[{'green' if met['reported_fraction'] else 'red'}]{r['reported_fraction']}[/]",
            f"[{'green' if met['kernel_drops'] else 'red'}]{r['kernel_drops']}[/]",
            f"{r['sensor_cpu_ms_per_handshake']}", f"{r['sensor_cpu_ms_per_mib']}", _bpf_cell(r), _busy_cell(r),
        )
    console.print(table)


def write_outputs(result: dict[str, Any], metrics: Path = METRICS, report: Path = REPORT) -> None:
    metrics.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    report.write_text(render_report(result, metrics))


def _shown(path: Path) -> str:
    """A path as the report names it: from the checkout's root when it is inside the checkout."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _interval(r: dict[str, Any]) -> str:
    ci = r.get("rate_ratio_ci95")
    return f"{ci[0]} to {ci[1]}" if ci else "one round: no interval"


def _link_args(setup: dict[str, Any]) -> str:
    link = setup.get("link", "loopback")
    return "" if link == "loopback" else f" -- --link {link}"


def _noise_note(result: dict[str, Any]) -> str:
    s = result["setup"]
    busy = s["load_average_at_start"][0]
    waited = s.get("waited_for_quiet_s") or 0.0
    after = f", after waiting {waited:.0f} s for it to settle" if waited else ""
    if s["cpus"] and busy > s["cpus"] / 4:
        return (f"The machine was not quiet (load average {busy} on {s['cpus']} CPUs before the run's own load "
                f"started{after}): the ratios are not conclusive; rerun `nox -s stress{_link_args(s)}` on a quiet "
                "machine for the figures to quote.")
    return (f"The machine was quiet when the run started (load average {busy} on {s['cpus']} CPUs{after}; each "
            "workload's own load shows in the load averages below).")


def _bpf_line(r: dict[str, Any]) -> str:
    bpf = r.get("bpf")
    if not bpf:
        return ""
    parts = "; ".join(f"{kind} {t['runs_per_unit']} runs at {t['ns_per_run']} ns" for kind, t in
                      bpf["by_program_type"].items())
    return (f"The sensor's BPF programs ran {bpf['total_ns_per_unit']} ns per {bpf['per']} in a phase of their own "
            f"with the kernel's run-time counts on ({parts}).")


def _busy_cell(r: dict[str, Any]) -> str:
    ratio, ci = r.get("busy_cpu_ratio_on_off"), r.get("busy_cpu_ratio_ci95")
    if ratio is None:
        return "n/a"
    return f"{ratio} ({ci[0]} to {ci[1]})" if ci else str(ratio)


def _busy_line(r: dict[str, Any]) -> str:
    busy = r.get("busy_cpu_ms_per_unit") or {}
    if busy.get("off") is None or busy.get("on") is None:
        return ""
    steal = r.get("steal_share")
    return (f"The machine's busy CPU per {r.get('per', 'unit')}: {busy['off']} ms off, {busy['on']} ms on; on/off"
            f" per round {r['busy_cpu_ratio_per_round']}, mean {_busy_cell(r)}. Steal: "
            f"{'n/a' if steal is None else f'{steal:.2%}'} of the CPUs' time.")


def _process_lines(r: dict[str, Any]) -> str:
    figures = r.get("process_cpu") or {}
    if not figures:
        return ""

    def ratio(f: dict[str, Any], key: str) -> str:
        ci = f[f"{key}_ci95"]
        return _cell(f[f"{key}_on_off"]) + (f" ({ci[0]} to {ci[1]})" if ci else "")

    rows = "\n".join(
        f"| {name} | {f['cpu_share']['off']} / {f['cpu_share']['on']} | {ratio(f, 'cpu_share_ratio')} | "
        f"{f['per']} | {f['ms_per_unit']['off']} / {f['ms_per_unit']['on']} | {ratio(f, 'ms_per_unit_ratio')} |"
        for name, f in figures.items())
    return ("\nEach process's CPU (user+system, with the processes it started) over the phases' load: as a share "
            "of one CPU, and per unit (a client kind's per handshake of its own where the load counts "
            "handshakes); each on/off is each on phase against the off phases either side of it. On a "
            "saturated machine a process whose share falls lost CPU to the others; one whose CPU per unit "
            "rises pays more for each.\n\n"
            + _header("process", "CPU share off / on", "share on/off (95% interval)", "per", "CPU ms per unit off / on",
                      "per unit on/off (95% interval)") + "\n" + rows + "\n")


def _budget_table(result: dict[str, Any]) -> str:
    """Where the CPU each unit of load cost more with the sensor on went (see cost_budget)."""
    rows = []
    for r in result["workloads"].values():
        b = r.get("cost_budget") or cost_budget(r)
        if b is None:
            continue
        off = b["machine_us_off"]

        def part(us: float | None, off: float = off) -> str:
            return "n/a" if us is None else f"{us} ({us / off:.1%})"
        ci = b["added_us_ci95"]
        rows.append(f"| {r['title']} | {b['per']} | {off} | {part(b['added_us'])}"
                    f"{f' ({ci[0]} to {ci[1]})' if ci else ''} | {part(b['sensor_process_us'])} | "
                    f"{part(b['bpf_programs_us'])} | {part(b['rest_us'])} |")
    if not rows:
        return ""
    return ("\nWhere the added CPU went, in µs per unit of load (and as a share of the machine's CPU per unit "
            "with the sensor off): the machine's added CPU (from its on/off ratio, with that ratio's 95% "
            "interval), the sensor process's own CPU, the BPF programs' run time (from their phase of their "
            "own), and the rest, which neither counts: the uprobes' traps, the dispatch of the tracepoints "
            "and of the cgroup hook (on every socket's receive), the packet sockets' delivery, "
            "the switches to and from the sensor, the caches it cools, and "
            "the machine's noise. On a saturated machine the added share is about what the rate loses.\n\n"
            + _header("workload", "per", "machine CPU µs off", "added µs (95% interval)", "sensor process µs",
                      "BPF programs µs", "rest µs") + "\n" + "\n".join(rows) + "\n")


def _profile_table(result: dict[str, Any]) -> str:
    """Where the sensor's cost in the observed programs fell, by hook (stress/profile.py)."""
    rows, skipped = [], []
    for r in result["workloads"].values():
        p = r.get("profile")
        if not p:
            continue
        if "skipped" in p:
            skipped.append(f"{r['title']}: {p['skipped']}")
            continue
        b = r.get("cost_budget") or {}
        off = b.get("machine_us_off")
        cells = [f"{p['categories'][h.name]['us_per_unit']} ({p['categories'][h.name]['in_bpf_us_per_unit']})"
                 for h in profile.HOOKS]
        hooks = p["in_observed_us_per_unit"]
        share = f" ({hooks / off:.1%})" if off else ""
        rows.append(f"| {r['title']} | {p['per']} | {_cell(b.get('added_us'))} | "
                    f"{_cell(b.get('sensor_process_us'))} / {p['sensor_process_us_per_unit']} | "
                    + " | ".join(cells) + f" | {hooks}{share} | {_cell(b.get('rest_after_hooks_us'))} |")
    text = ""
    if rows:
        covers = "; ".join(f"{h.label}: {h.covers}" for h in profile.HOOKS)
        text = ("\nWhere the sensor's cost fell, from a system-wide CPU profile (`perf`, every CPU sampled "
                f"{profile.FREQUENCY_HZ} times a second with kernel call chains) of one more on phase, not "
                "compared: each sample of another process than the sensor taken under a hook the sensor's "
                f"programs hang on counts for that hook ({covers}), and in brackets the part taken inside a "
                "BPF program (its code and the helpers and map functions it called). In µs of CPU per unit of "
                "load, with the hooks' share of the machine's CPU per unit with the sensor off; the sensor "
                "process's own CPU in the compared phases and in this one. The rest is the added CPU less the "
                "sensor process's (compared phases) and the hooks': what the sensor costs the observed programs "
                "indirectly (switches, cooled caches) and the machine's noise. The sampling itself slows the "
                "phase a little; the figures are per unit of the load it did.\n\n"
                + _header("workload", "per", "added µs", "sensor process µs (compared / this phase)",
                          *(f"{h.label} µs (in BPF)" for h in profile.HOOKS), "all hooks µs (share)", "rest µs")
                + "\n" + "\n".join(rows) + "\n")
    return text + "".join(f"\nProfile skipped: {s}.\n" for s in skipped)


def _bpf_cell(r: dict[str, Any]) -> str:
    bpf = r.get("bpf")
    return f"{bpf['total_ns_per_unit'] / 1000:.2f} µs/{bpf['per']}" if bpf else "n/a"


def _cell(value: object) -> str:
    return "n/a" if value is None else str(value)


def _on_cell(phase: dict[str, Any], key: str) -> str:
    return _cell(phase[key]) if phase["sensor"] == "on" else ""


def _header(*columns: str) -> str:
    return "| " + " | ".join(columns) + " |\n" + "| --- " * len(columns) + "|"


def _mark(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _uprobes_note(uprobes: bool) -> str:
    if uprobes:
        return ""
    return (": no uprobe in any TLS program, each handshake reported from the wire, its processes from "
            "their sockets, and no library or handshaking thread (what `--no-uprobes` gives up: "
            "docs/RUNTIME.md, *Without uprobes*)")


def render_report(result: dict[str, Any], metrics: Path | None = None) -> str:
    """The Markdown report; `metrics` is where its raw figures were written (default: the link's
    default figures file)."""
    s, t = result["setup"], result["targets"]
    link = s.get("link", "loopback")
    uprobes = s.get("sensor_uprobes", True)
    overview = "\n".join(
        f"| {r['title']} | {r['unit']} | {r['off']['rate']} | {r['on']['rate']} | {r['rate_ratio_on_off']} "
        f"({_interval(r)}) {_mark(r['targets_met']['rate_ratio'])} | {r['off']['latency_p99_ms']} / "
        f"{r['on']['latency_p99_ms']} ({r['latency_p99_ratio']}) | {r['reported_fraction']} "
        f"{_mark(r['targets_met']['reported_fraction'])} | {r['kernel_drops']} "
        f"{_mark(r['targets_met']['kernel_drops'])} | {_cell(r['sensor_cpu_ms_per_handshake'])} | "
        f"{_cell(r['sensor_cpu_ms_per_mib'])} | {_bpf_cell(r)} | {_busy_cell(r)} |"
        for r in result["workloads"].values()
    )
    sections = "\n".join(_section(r, uprobes) for r in result["workloads"].values())
    figures = _shown(metrics or outputs(link, uprobes)[0])
    ran_with = " ".join(sensor_args(s["sensor_priority"], uprobes))
    return f"""# Runtime sensor overhead (`nox -s stress`)

Generated by `stress/harness.py` from {s['started_at']} to {s['finished_at']}; raw figures in
`{figures}`. Each workload ran {s['rounds']} rounds of {s['phase_seconds']} s phases: off,
on, off, on, ..., off, each on phase compared with the mean of the off phases either side of it.
The sensor ran with `{ran_with}`{_uprobes_note(uprobes)}. Machine: {s['cpus']} CPUs, {s['platform']};
servers, load generators and the sensor share these CPUs. Traffic: {s.get('link_description', LOOPBACK.description)}.
{_noise_note(result)}

Targets: on/off >= {t['rate_ratio_min']} (mean of the rounds' ratios, with its 95% interval),
>= {t['reported_fraction_min']:.1%} of handshakes reported, {t['kernel_drops_max']} kernel drops.

{_header("workload", "unit", "off", "on", "on/off (95% interval)", "p99 ms off / on (ratio)", "reported",
         "kernel drops", "sensor CPU ms/handshake", "sensor CPU ms/MiB", "BPF run time",
         "machine CPU per unit, on/off (95% interval)")}
{overview}

Sensor CPU is the sensor process's own user+system time over its on phases, divided by the
handshakes and by the MiB of application data the load moved in them (both directions). The
sensor's cost inside the observed processes (the socket tracepoints, the uprobes if any, the packet
filter) shows in the on/off ratio, and its BPF part in "BPF run time": the kernel's own count of
the time the sensor's programs ran (`kernel.bpf_stats_enabled`), per unit of load, taken in one
more on phase after the compared ones (the counting itself costs every run two clock reads). It
counts the runs every program on the host causes (on a machine doing other work too, it is
inflated), and leaves out the traps of the uprobes, the dispatch of the tracepoints and of
the cgroup hook (on every socket's receive), and the packet sockets' own work. Short programs
look dearer than they are: the two clock reads are counted in each run.

{_budget_table(result)}{_profile_table(result)}
Machine CPU per unit is the whole machine's busy CPU time (user, system, irq and softirq, from
`/proc/stat`) over a phase's load, plus in an on phase the sensor's CPU after it, divided by the
units the load completed; each on phase against the off phases either side of it, as for the rate.
It is what the load cost with and without the sensor, whether or not the CPUs were saturated (a
rate can fall while CPUs are idle, when the sensor lengthens a serial path; CPU can rise while
the rate holds, when the load had CPU to spare). Steal is the share of the CPUs' time the
hypervisor gave to other guests.
{sections}"""


def _section(r: dict[str, Any], uprobes: bool = True) -> str:
    failures_are = ("OpenSSL clients'\nrecords without both views" if uprobes
                    else "clients' records\nwithout their process")
    rows = "\n".join(
        f"| {p['round'] + 1} | {p['sensor']} | {p['handshakes']} | {p['rate']} | {p['latency_p50_ms']} | "
        f"{p['latency_p95_ms']} | {p['latency_p99_ms']} | {p.get('reported_fraction', '')} | "
        f"{p.get('kernel_drops', '')} | {_on_cell(p, 'sensor_cpu_ms_per_handshake')} | "
        f"{_on_cell(p, 'sensor_cpu_ms_per_mib')} | {_cell(p.get('busy_cpu_ms_per_unit'))} |"
        for p in r["phases"]
    )
    return f"""
## {r['title']} ({r['unit']})

{r['description']}. Load average before {r['load_average_before']}, after {r['load_average_after']}.

| figure | sensor off | sensor on |
| --- | --- | --- |
| {r['unit']} (mean of phases) | {r['off']['rate']} | {r['on']['rate']} |
| latency p50 (ms) | {r['off']['latency_p50_ms']} | {r['on']['latency_p50_ms']} |
| latency p95 (ms) | {r['off']['latency_p95_ms']} | {r['on']['latency_p95_ms']} |
| latency p99 (ms) | {r['off']['latency_p99_ms']} | {r['on']['latency_p99_ms']} |

On/off per round: {r['rate_ratio_per_round']}; mean {r['rate_ratio_on_off']} ({_interval(r)}); ratio of
the mean rates {r['rate_ratio_of_means']}; consecutive off phases differ by {r['off_phase_drift_sd']}
(standard deviation of their ratio: the machine's own drift). Handshakes in on phases:
{r['handshakes_on']}, reported {r['reported_fraction']}; correlation failures ({failures_are})
{r['correlation_failure_rate']}; kernel drops {r['kernel_drops']}.
Functions probed: {', '.join(r['uprobes']) or 'none'}; single-stepped probes:
{', '.join(r['single_stepped_probes']) or 'none'}.
{_bpf_line(r)}
{_busy_line(r)}
{_process_lines(r)}

{_header("round", "sensor", "handshakes", r["unit"], "p50 ms", "p95 ms", "p99 ms", "reported", "kernel drops",
         "sensor CPU ms/hs", "sensor CPU ms/MiB", "machine CPU ms/unit")}
{rows}
"""
