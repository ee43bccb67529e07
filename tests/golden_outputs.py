"""The document path's outputs on fixed inputs, for proving that a faster writer writes the same bytes.

`outputs(folder)` runs the stages on the conformance set, the real CBOMs, the embedded default's
inputs (examples/estate, the simulated AWS estate, runtime lines and the recorded captures) and
returns every file they write, by name. tests/data/golden/outputs.sha256.json holds the SHA256 of
each as the code before the scale work (commit 5dda94c, cyclonedx-python-lib's serialiser, the
pure-Python merge and gate readers) wrote them; `python -m tests.golden_outputs` rewrites it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "golden"
MANIFEST = GOLDEN / "outputs.sha256.json"
RUNTIME_LINES = GOLDEN / "runtime_varied.jsonl"
CAPTURES = ROOT / "tests" / "data" / "captures"
EPOCH = "1767225600"
GATE_NOW = datetime(2026, 6, 1, tzinfo=UTC)
# The policy guide's link is absolute (this checkout's path, or GitHub's): fixed so bytes compare.
_ENV = {"SOURCE_DATE_EPOCH": EPOCH, "GITHUB_SERVER_URL": "https://github.example", "GITHUB_REPOSITORY": "o/carnot",
        "GITHUB_SHA": "0" * 40}


@contextlib.contextmanager
def _environment(folder: Path) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in _ENV}
    cwd = Path.cwd()
    os.environ.update(_ENV)
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(cwd)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _carnot(folder: Path, *args: str | Path) -> None:
    subprocess.run([sys.executable, "-m", "assess", *map(str, args)], cwd=folder, check=True, capture_output=True,
                   env={**os.environ, **_ENV})


def shard_outputs(folder: Path, *, aws: bool) -> list[str]:
    """The shards of the embedded default's stages, written by the CLI into folder; their names."""
    _carnot(folder, "scan", ROOT / "examples" / "estate", "--out", "static.cdx.json")
    _carnot(folder, "runtime", "to-bom", RUNTIME_LINES, "--out", "runtime-varied.cdx.json", "--asset-id", "web1")
    # Lines name their capture file: copied in and named relatively, so the bytes do not depend on the checkout.
    (folder / "captures").mkdir()
    pcaps = [Path("captures", p.name) for p in sorted(CAPTURES.glob("*.pcap"))]
    for pcap in pcaps:
        (folder / pcap).write_bytes((CAPTURES / pcap.name).read_bytes())
    _carnot(folder, "runtime", "from-pcap", *pcaps, "--out", "captures.jsonl")
    _carnot(folder, "runtime", "to-bom", "captures.jsonl", "--out", "runtime-captures.cdx.json")
    names = ["static.cdx.json", "runtime-varied.cdx.json", "captures.jsonl", "runtime-captures.cdx.json"]
    if aws:
        _carnot(folder, "inventory", "aws", "--simulated", "--out", "aws.cdx.json")
        names.append("aws.cdx.json")
    return names


def merge_and_gate_outputs(folder: Path, shards: list[str]) -> list[str]:
    """Merged documents (each input alone, the conformance set, the real CBOMs, the default's shards)
    and gate results; their names."""
    from assess.cbom import read_cbom, write_document
    from assess.gate import EngineChoice, GateOptions, evaluate, write_outputs
    from assess.gate.run import default_policies_dir
    from assess.merge import merge_documents

    conformance = sorted((ROOT / "tests" / "data" / "cyclonedx-cbom").glob("*.cdx.json"))
    real = sorted((ROOT / "tests" / "data" / "cbom-real").glob("*.json"))
    groups = {f"alone-{p.name}": [p] for p in [*conformance, *real]}
    groups["merged-conformance.cdx.json"] = conformance
    groups["merged-real.cdx.json"] = [*real, *conformance]
    groups["merged-default.cdx.json"] = [folder / s for s in shards if s.endswith(".cdx.json") and s != "aws.cdx.json"]
    if "aws.cdx.json" in shards:
        groups["merged-default-aws.cdx.json"] = [folder / s for s in shards if s.endswith(".cdx.json")]
    names = []
    with _environment(folder):
        for name, paths in groups.items():
            merged, _ = merge_documents([read_cbom(p) for p in paths])
            write_document(merged, folder / name)
            names.append(name)
        for bom in ("merged-default.cdx.json", "merged-real.cdx.json"):
            options = GateOptions(policies=default_policies_dir(), engine=EngineChoice.REGORUS, now=GATE_NOW)
            out = f"gate-{bom.removesuffix('.cdx.json')}"
            written = write_outputs(evaluate(bom, options), folder / out)
            names += [f"{out}/{p.name}" for p in written]
    return names


def outputs(folder: Path, *, aws: bool = False) -> dict[str, bytes]:
    """Every file the stages write on the fixed inputs. The simulated AWS shard is left out by
    default: its estate is dated by the wall clock (assess/sources/aws/estate.py: estate_day), so
    its bytes change each day."""
    shards = shard_outputs(folder, aws=aws)
    names = shards + merge_and_gate_outputs(folder, shards)
    return {name: (folder / name).read_bytes() for name in names}


def digests(files: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        MANIFEST.write_text(json.dumps(digests(outputs(Path(tmp))), indent=2, sort_keys=True) + "\n")
    print(f"wrote {MANIFEST}")
