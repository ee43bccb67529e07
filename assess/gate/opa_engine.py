"""The `opa` binary as an engine: `opa eval` in a subprocess over the same modules, data and input."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from assess.gate.engine import PolicyError, PolicyModule


class OpaEngine:
    name = "opa"

    def __init__(self, binary: str | None = None) -> None:
        found = binary or shutil.which("opa")
        if found is None:
            raise PolicyError("the opa binary is not on PATH (use --engine regorus, the embedded engine)")
        self.binary = found

    def _version_flags(self) -> list[str]:
        out = subprocess.run([self.binary, "version"], capture_output=True, text=True, check=False).stdout
        # OPA 0.x reads Rego v1 only when asked to.
        return ["--v1-compatible"] if "Version: 0." in out else []

    def evaluate(self, modules: tuple[PolicyModule, ...], data: dict[str, Any], input_json: str,
                 query: str) -> Any:
        with tempfile.TemporaryDirectory(prefix="carnot-opa-") as tmp:
            data_path, input_path = Path(tmp, "data.json"), Path(tmp, "input.json")
            data_path.write_text(json.dumps(data), encoding="utf-8")
            input_path.write_text(input_json, encoding="utf-8")
            command = [self.binary, "eval", *self._version_flags(), "--format", "json",
                       "--input", str(input_path), "--data", str(data_path)]
            for module in modules:
                command += ["--data", module.path]
            proc = subprocess.run([*command, query], capture_output=True, text=True, check=False)
        return _result(proc.stdout, proc.stderr, proc.returncode, query)


def _result(stdout: str, stderr: str, returncode: int, query: str) -> Any:
    try:
        parsed = json.loads(stdout) if stdout.strip() else {}
    except ValueError:
        parsed = {}
    errors = parsed.get("errors") if isinstance(parsed, dict) else None
    if returncode != 0 or errors:
        first = (errors or [{}])[0]
        location = first.get("location") or {}
        message = first.get("message") or (stderr.strip().splitlines() or ["opa eval failed"])[0]
        raise PolicyError(f"Rego error: {message}", path=location.get("file"), line=location.get("row"))
    try:
        return parsed["result"][0]["expressions"][0]["value"]
    except (KeyError, IndexError, TypeError) as e:
        raise PolicyError(f"the policies define no {query}") from e
