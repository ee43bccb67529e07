"""The seam between the gate and a Rego engine: the policy bundle, the engine Protocol, its error.

Both engines receive exactly the same modules, data document and input, and are asked the same
query, so they judge the same way; only how they are run differs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from assess.errors import CarnotError, InputError

REPORT_QUERY = "data.carnot.gate.report"
DATA_FILE = "data.json"
TEST_SUFFIX = "_test.rego"


class PolicyError(CarnotError):
    """The policies cannot be loaded or evaluated: a missing folder, a Rego syntax or runtime error."""


@dataclass(frozen=True)
class PolicyModule:
    path: str  # as given to the engine, so its errors name a file a person can open
    text: str


@dataclass(frozen=True)
class PolicyBundle:
    """The Rego modules and the policy data of one policies folder."""

    root: Path
    modules: tuple[PolicyModule, ...]
    data: dict[str, Any]
    digest: str

    @property
    def catalog(self) -> dict[str, Any]:
        return dict(self.data["carnot"]["catalog"])

    @property
    def profiles(self) -> dict[str, Any]:
        return dict(self.data["carnot"]["profiles"])

    def with_run(self, run: dict[str, Any]) -> dict[str, Any]:
        """The data document for one run: the policy data plus `carnot.run` (profile, now, waivers)."""
        carnot = dict(self.data["carnot"])
        carnot["run"] = run
        return {**self.data, "carnot": carnot}


class PolicyEngine(Protocol):
    """Evaluates a query over a bundle's modules with the given data and input."""

    name: str

    def evaluate(self, modules: tuple[PolicyModule, ...], data: dict[str, Any], input_json: str,
                 query: str) -> Any: ...


def load_policies(root: str | Path, *, include_tests: bool = False) -> PolicyBundle:
    """Read every Rego module and the data document of a policies folder."""
    folder = Path(root)
    if not folder.is_dir():
        raise PolicyError("policy folder not found", path=folder)
    files = sorted(p for p in folder.rglob("*.rego") if include_tests or not p.name.endswith(TEST_SUFFIX))
    if not files:
        raise PolicyError("no .rego files in the policy folder", path=folder)
    data_path = folder / DATA_FILE
    if not data_path.is_file():
        raise PolicyError(f"policy data {DATA_FILE} not found", path=data_path)
    from assess.fsio import read_json

    try:
        data = read_json(data_path)
    except InputError as e:
        raise PolicyError(e.message, path=e.path, line=e.line) from e
    if not isinstance(data, dict) or not isinstance(data.get("carnot"), dict):
        raise PolicyError("policy data has no top-level 'carnot' object", path=data_path)
    modules = []
    for path in files:
        try:
            modules.append(PolicyModule(path=str(path), text=path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as e:
            raise PolicyError(f"cannot read policy: {e}", path=path) from e
    digest = hashlib.sha256()
    for path in [*files, data_path]:
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return PolicyBundle(root=folder, modules=tuple(modules), data=data, digest=f"sha256:{digest.hexdigest()}")


_LOCATION = re.compile(r"-->\s*(?P<file>.+?):(?P<line>\d+):(?P<col>\d+)")
_MESSAGE = re.compile(r"^error:\s*(?P<message>.+)$", re.MULTILINE)


def rego_error(text: str, *, fallback_path: str | None = None) -> PolicyError:
    """A PolicyError naming file and line from an engine's `--> file:line:col ... error: message` text."""
    head = text.split("Stack backtrace")[0]
    where = _LOCATION.search(head)
    message = _MESSAGE.search(head)
    reason = message.group("message").strip() if message else " ".join(head.split())[:300] or "Rego error"
    if where:
        return PolicyError(f"Rego error: {reason} (column {where.group('col')})",
                           path=where.group("file"), line=int(where.group("line")))
    return PolicyError(f"Rego error: {reason}", path=fallback_path)

