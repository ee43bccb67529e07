"""The installable product: the sdist builds the wheel, and the wheel alone runs every command from
any folder (a fresh venv, and pipx), with `carnot doctor --fix` readying the sensor for it.

These tests install the way a user does, outside the checkout: nothing of the source tree is on
the installed tool's path, and the working folder even holds a decoy `assess/` package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
SYSTEM_BCC = Path("/usr/lib/python3/dist-packages/bcc")
# What every command needs at run time, as the wheel must carry it (assess/resources.py).
SHIPPED = ("bpf/tls_probes.c", "bpf/tls_wire.c", "policies/data.json", "policies/gate.rego",
           "site/templates/base.html.j2", "site/static/carnot.css", "site/templates/report/report.css",
           "tools/provision.sh", "examples/estate/etc/ssh/sshd_config", "docs/POLICY_GUIDE.md")

# Byte-compiling a hundred dependencies is half of an install's time and changes nothing run here.
PIP_QUIET = ("--quiet", "--disable-pip-version-check", "--no-compile")

pytestmark = [pytest.mark.slow]


@dataclass(frozen=True)
class Built:
    sdist: Path
    wheel: Path


def _run(argv: list[str | Path], *, cwd: Path, env: dict[str, str] | None = None,
         timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def _outside_env(bin_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a user's shell: this test's venv, PYTHONPATH and checkout nowhere on it."""
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p) != Path(sys.prefix, "bin")]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    return {**env, "PATH": os.pathsep.join([str(bin_dir), *path]), **extra}


def _decoy_folder(path: Path) -> Path:
    """A working folder outside the checkout, holding an `assess/` that must never be imported."""
    decoy = path / "assess"
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text("raise SystemExit('the decoy assess/ in the working folder was imported')\n")
    (decoy / "__main__.py").write_text("raise SystemExit('the decoy assess/ in the working folder was run')\n")
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The sdist from the tree, then the wheel from the unpacked sdist (never from the tree)."""
    dist = tmp_path_factory.mktemp("dist")
    done = _run([sys.executable, "-m", "build", "--sdist", "--outdir", dist, ROOT], cwd=dist)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (sdist,) = dist.glob("carnot-*.tar.gz")
    unpacked = tmp_path_factory.mktemp("sdist")
    with tarfile.open(sdist) as tar:
        tar.extractall(unpacked, filter="data")
    (tree,) = unpacked.iterdir()
    done = _run([sys.executable, "-m", "build", "--wheel", "--outdir", dist, tree], cwd=tree)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (wheel,) = dist.glob("carnot-*.whl")
    return Built(sdist, wheel)


@pytest.fixture(scope="module")
def venv(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (no system site-packages) with the wheel installed; returns its bin folder."""
    home = tmp_path_factory.mktemp("venv")
    done = _run([sys.executable, "-m", "venv", home / "v"], cwd=home)
    assert done.returncode == 0, done.stderr
    bin_dir = home / "v" / "bin"
    done = _run([bin_dir / "python", "-m", "pip", "install", *PIP_QUIET, built.wheel], cwd=home)
    assert done.returncode == 0, done.stderr[-3000:]
    return bin_dir


def test_the_sdist_carries_the_tree_the_wheel_is_built_from(built: Built) -> None:
    with tarfile.open(built.sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in ("pyproject.toml", "README.md", "LICENSE", "assess/resources.py", *SHIPPED):
        assert needed in names, needed


def test_the_wheel_ships_every_file_a_command_reads_at_run_time(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as zf:
        names = set(zf.namelist())
    for needed in SHIPPED:
        assert f"assess/_data/{needed}" in names, needed
    assert "assess/sources/static/rules.yaml" in names
    assert not any(n.startswith(("tests/", "bench/", "stress/")) for n in names)


def test_the_installed_tool_answers_its_version_from_any_folder(venv: Path, tmp_path: Path) -> None:
    here = _decoy_folder(tmp_path)
    env = _outside_env(venv)
    assert _run(["carnot", "--version"], cwd=here, env=env).stdout.strip() == f"carnot {VERSION}"
    done = _run([venv / "python", "-m", "assess", "--version"], cwd=venv, env=env)
    assert done.stdout.strip() == f"carnot {VERSION}", done.stderr


def test_the_installed_tool_gates_explains_and_runs_its_rego_tests_without_a_checkout(
        venv: Path, tmp_path: Path, conformance_cboms: list[Path]) -> None:
    here = _decoy_folder(tmp_path)
    env = _outside_env(venv)
    merged = here / "merged.cdx.json"
    done = _run(["carnot", "merge", *conformance_cboms, "-o", merged], cwd=here, env=env)
    assert done.returncode == 0, done.stderr
    done = _run(["carnot", "gate", merged, "--out-dir", "g", "--json"], cwd=here, env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads((here / "g" / "opa_result.json").read_text())
    assert result["findings"], "the shipped policies judged nothing"
    sarif = json.loads((here / "g" / "findings.sarif").read_text())
    guide = sarif["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"].split("#")[0]
    assert guide.startswith("file://") and Path(guide.removeprefix("file://")).is_file(), guide

    done = _run(["carnot", "explain", "weak-rsa-key"], cwd=here, env=env)
    assert done.returncode == 0 and "weak-rsa-key" in done.stdout, done.stderr
    done = _run([venv / "python", "-P", "-m", "assess.gate.policy_tests"], cwd=here, env=env)
    assert done.returncode == 0 and " 0 failed" in done.stdout, done.stdout[-2000:] + done.stderr


@pytest.mark.root
def test_the_wheel_in_a_fresh_venv_runs_the_whole_embedded_default_after_doctor_fix(
        venv: Path, tmp_path: Path) -> None:
    here = _decoy_folder(tmp_path)
    env = _outside_env(venv, SOURCE_DATE_EPOCH="1780000000")
    fixed = _run(["carnot", "doctor", "--fix", "--json"], cwd=here, env=env)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert json.loads(fixed.stdout)["sensor_ready"] is True
    site_packages = next((venv.parent / "lib").glob("python3*/site-packages"))
    assert (site_packages / "bcc").resolve() == SYSTEM_BCC.resolve()
    for pth in site_packages.glob("*.pth"):
        assert "dist-packages" not in pth.read_text(), f"{pth} exposes the whole of the system's packages"

    done = _run(["carnot", "assess", "--out", "out", "--json"], cwd=here, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    statuses = {s["stage"]: (s["status"], s["reason"]) for s in report["stages"]}
    assert all(status == "run" for status, _ in statuses.values()), statuses
    bundle = here / report["bundle"]  # relative to the working folder, as --out was
    assert bundle.is_file()
    verified = _run(["carnot", "verify", bundle], cwd=here, env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert (here / "out" / "site" / "index.html").is_file()
    assert (here / "out" / "site" / "policy-guide.html").is_file()
    assert (here / "out" / "assessment" / "report.pdf").read_bytes().startswith(b"%PDF-")
    with zipfile.ZipFile(bundle) as zf:
        static = json.loads(zf.read("static.cdx.json"))
    scanned = {e["location"] for c in static["components"]
               for e in c.get("evidence", {}).get("occurrences", []) if "location" in e}
    assert {"etc/ssh/sshd_config", "src/js/webhook.js", "pki/certs/shop.example.com-fullchain.pem"} <= scanned


@pytest.mark.root
def test_pipx_installs_the_checkout_and_doctor_fix_readies_its_own_venv(tmp_path: Path) -> None:
    home = tmp_path / "pipx"
    env = _outside_env(home / "bin", PIPX_HOME=str(home / "home"), PIPX_BIN_DIR=str(home / "bin"),
                       PIPX_MAN_DIR=str(home / "man"))
    done = _run([sys.executable, "-m", "pipx", "install", "--pip-args", " ".join(PIP_QUIET), ROOT], cwd=tmp_path,
                env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    here = _decoy_folder(tmp_path / "work")
    carnot = home / "bin" / "carnot"
    assert _run([carnot, "--version"], cwd=here, env=env).stdout.strip() == f"carnot {VERSION}"
    before = json.loads(_run([carnot, "doctor", "--json"], cwd=here, env=env).stdout)
    assert not next(c for c in before["checks"] if c["name"] == "bcc")["ok"], "pipx's venv saw bcc before the fix"
    fixed = _run([carnot, "doctor", "--fix", "--json"], cwd=here, env=env)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert json.loads(fixed.stdout)["sensor_ready"] is True
    again = _run([carnot, "doctor", "--fix", "--json"], cwd=here, env=env)
    assert again.returncode == 0 and json.loads(again.stdout)["sensor_ready"] is True, again.stderr
