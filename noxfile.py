"""Carnot's front door: every stage, the whole assessment, the tests and the checks.

`nox -l` lists the sessions. Sessions that need root and eBPF say so in their docstring.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]

ROOT = Path(__file__).parent
# Debian packages only the tests and benchmarks use: a browser for the site, poppler for the PDF,
# tcpdump for recorded captures, tshark (Wireshark) as the ground truth for reading them, OpenSSH's
# server and client for the SSH captures, nftables for a server published behind DNAT. What the
# product itself needs, `carnot doctor --fix` installs.
TEST_PACKAGES = ("chromium", "chromium-driver", "tcpdump", "tshark", "poppler-utils", "openssh-server",
                 "openssh-client", "nftables", "?perf")  # perf: the stress harness's profile phase (optional)


def _install(session: nox.Session, extras: str = "") -> None:
    session.install("-e", f".[{extras}]" if extras else ".")


def _prepare_host(session: nox.Session, *packages: str) -> None:
    """As root: `carnot doctor --fix` (system packages, headers, tracefs, bcc for this venv), as a user would.

    Exit 2 (the sensor still cannot run: no eBPF here) is reported, not fatal: the other stages run.
    """
    if os.geteuid() != 0:
        session.log("not root: skipping `carnot doctor --fix` (the eBPF sensor and its tests need root)")
        return
    if packages:
        session.run("bash", str(ROOT / "tools" / "provision.sh"), *packages, external=True)
    session.run("carnot", "doctor", "--fix", success_codes=[0, 2])


@nox.session
def assess(session: nox.Session) -> None:
    """The whole assessment (embedded default, or `-- --config carnot.toml`): out/assessment, out/dist, out/site."""
    _install(session)
    _prepare_host(session)
    session.run("carnot", "assess", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (installs system packages first; eBPF tests need root)."""
    _install(session, "test")
    _prepare_host(session, *TEST_PACKAGES)
    session.run("pytest", "-q", "-rfEs", "--durations=15", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff on the code; the workflows against GitHub's schema and through zizmor (no high findings)."""
    session.install("ruff", "check-jsonschema", "zizmor")
    session.run("ruff", "check", "assess", "tests", "bench", "stress", "tools", "noxfile.py", *session.posargs)
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
    session.run("zizmor", "--offline", "--min-severity", "high", str(ROOT / ".github" / "workflows"))


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy on the pure core."""
    _install(session)
    session.install("mypy", "types-PyYAML")
    session.run("mypy", "assess/model.py", "assess/merge.py", "assess/cbom.py", "assess/bundle.py",
                "assess/errors.py", "assess/fsio.py", "assess/config.py", "assess/pipeline.py", "assess/resources.py",
                "assess/doctor.py", "assess/sources/runtime/readiness.py", "assess/sources/runtime/ippacket.py",
                "assess/diff.py", "assess/viz/estate.py", "assess/sitedata.py", "assess/sources/capture/defrag.py",
                "assess/sources/capture/packets.py", "assess/sources/capture/starttls.py", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: figures to bench/results.json (`nox -s bench -- merge` for one; `-- to_bom_scale LARGE_LINES=0`)."""
    _install(session, "test")
    _prepare_host(session, *TEST_PACKAGES)
    session.run("python", "-m", "bench", *session.posargs)


@nox.session
def runtime(session: nox.Session) -> None:
    """eBPF TLS sensor, needs root: `nox -s runtime -- --out FILE [--duration S]` (default: 30 s, demo workload)."""
    _install(session)
    _prepare_host(session)
    if session.posargs:
        session.run("carnot", "runtime", "capture", *session.posargs)
        return
    session.run("python", "-m", "assess.sources.runtime.demo", "runtime.jsonl", "30")
    session.run("carnot", "runtime", "to-bom", "runtime.jsonl", "--out", "runtime.cdx.json")


@nox.session
def captures(session: nox.Session) -> None:
    """Captures to runtime lines: `nox -s captures -- from-pcap|from-zeek FILE... --out runtime.jsonl`."""
    _install(session)
    session.run("carnot", "runtime", *(session.posargs or ["from-pcap", "--help"]))


@nox.session
def stress(session: nox.Session) -> None:
    """Sensor overhead, needs root: four TLS workloads (loopback; `-- --link veth`: across a veth pair), on/off."""
    _install(session)
    _prepare_host(session, "golang-go", "?perf")  # Go: the mixed workload's static client; perf: its profile
    session.run("python", "-m", "stress", *session.posargs)


@nox.session(name="stress-ab")
def stress_ab(session: nox.Session) -> None:
    """Sensors side by side on one workload, needs root: `-- handshakes --arm default --arm lean=--no-uprobes`."""
    _install(session)
    _prepare_host(session, "golang-go", "?perf")
    session.run("python", "-m", "stress.ab", *(session.posargs or ["--help"]))


@nox.session
def scan(session: nox.Session) -> None:
    """Static scan to a CBOM shard: `nox -s scan -- PATH... --out FILE [--rules FILE]` (default: examples/estate)."""
    _install(session)
    session.run("carnot", "scan", *(session.posargs or ["examples/estate", "--out", "static.cdx.json"]))


@nox.session
def inventory(session: nox.Session) -> None:
    """AWS inventory to a CBOM shard: `nox -s inventory -- --out FILE [...]` (default: simulated estate)."""
    _install(session, "test")  # moto, for the simulated estate
    session.run("carnot", "inventory", "aws", *(session.posargs or ["--simulated", "--out", "aws.cdx.json"]))


@nox.session
def merge(session: nox.Session) -> None:
    """Merge CBOM shards: `nox -s merge -- IN... -o OUT`."""
    _install(session)
    session.run("carnot", "merge", *session.posargs)


@nox.session
def gate(session: nox.Session) -> None:
    """Gate a CBOM with policies/: `nox -s gate -- BOM --out-dir DIR [--profile P] [--enforce] [--waivers F]`."""
    _install(session)
    session.run("carnot", "gate", *(session.posargs or ["assessment/merged.cdx.json", "--out-dir", "assessment"]))


@nox.session
def policy_tests(session: nox.Session) -> None:
    """Rego unit tests of policies/ with the embedded engine, and with `opa test` when opa is on PATH."""
    _install(session)
    session.run("python", "-m", "assess.gate.policy_tests", "policies", *session.posargs)
    if shutil.which("opa"):
        session.run("opa", "test", "policies", "-v", external=True)


@nox.session
def attest(session: nox.Session) -> None:
    """Exposure + in-toto attestation: `nox -s attest -- --bom BOM --gate DIR --out DIR [--sign-key FILE]`."""
    _install(session)
    default = ["--bom", "assessment/merged.cdx.json", "--gate", "assessment", "--out", "assessment"]
    session.run("carnot", "attest", *(session.posargs or default))


@nox.session
def viz(session: nox.Session) -> None:
    """Charts (Sankey, violations, PQ share, trends): `nox -s viz -- --bom BOM --gate DIR --out DIR`."""
    _install(session)
    default = ["--bom", "assessment/merged.cdx.json", "--gate", "assessment", "--out", "assessment"]
    session.run("carnot", "viz", *(session.posargs or default))


@nox.session
def bundle(session: nox.Session) -> None:
    """Bundle an assessment folder into dist/ and verify it: `nox -s bundle -- DIR [--dist DIR]`."""
    _install(session)
    session.run("carnot", "bundle", *(session.posargs or ["assessment", "--dist", "dist"]))


@nox.session
def report(session: nox.Session) -> None:
    """The client PDF: `nox -s report -- --assessment DIR --out report.pdf [--brand FILE]` (default: out/assessment)."""
    _install(session)
    default = ["--assessment", "out/assessment", "--out", "out/assessment/report.pdf"]
    session.run("carnot", "report", *(session.posargs or default))


@nox.session
def site(session: nox.Session) -> None:
    """The static report site from the bundles in dist/: `nox -s site -- --dist DIR --out DIR`."""
    _install(session)
    session.run("carnot", "site", "build", *(session.posargs or ["--dist", "dist", "--out", "_site"]))
