"""carnot.toml: what `carnot assess` looks at and how it judges it.

No file means the embedded default: the sample estate in examples/estate, the built-in loopback
TLS workload under the sensor, and the simulated AWS estate. Relative paths in a file are taken
relative to the file's folder. `[exposure]` and `[redaction]` belong to the attestation stage,
which reads them itself (assess.attest.AttestConfig); they are validated here too so a bad value
is reported before anything runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assess.errors import ConfigError
from assess.fsio import read_toml, toml_key_line
from assess.resources import sample_estate

PROFILES = ("strict", "balanced", "dev")
ENGINES = ("auto", "regorus", "opa")
WORKLOADS = ("demo", "none")


@dataclass(frozen=True)
class ScanSettings:
    enabled: bool = True
    paths: tuple[Path, ...] = field(default_factory=lambda: (sample_estate(),))
    rules: Path | None = None


@dataclass(frozen=True)
class RuntimeSettings:
    enabled: bool = True
    duration_seconds: float = 20.0
    interfaces: tuple[str, ...] = ("lo",)
    workload: str = "demo"  # "demo": the built-in loopback TLS workload; "none": observe the host as it is
    pid: int | None = None
    uprobes: bool = True  # False: `carnot runtime capture --no-uprobes` (no TLS program probed; the wire view alone)


@dataclass(frozen=True)
class AwsSettings:
    enabled: bool = True
    simulated: bool = True
    regions: tuple[str, ...] = ()
    role_arns: tuple[str, ...] = ()
    endpoint_url: str | None = None
    concurrency: int | None = None


@dataclass(frozen=True)
class GateSettings:
    profile: str = "balanced"
    enforce: bool = False
    waivers: Path | None = None
    engine: str = "auto"
    policies: Path | None = None


@dataclass(frozen=True)
class AssessmentSettings:
    client: str = "Carnot demo (simulated estate)"
    scope: str = "sample estate, loopback TLS workload, simulated AWS"
    sign_key: Path | None = None
    sign_keyless: bool = False  # Sigstore, as the CI job's OIDC identity (assess.keyless)


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    assessment: AssessmentSettings = field(default_factory=AssessmentSettings)
    scan: ScanSettings = field(default_factory=ScanSettings)
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings)
    aws: AwsSettings = field(default_factory=AwsSettings)
    gate: GateSettings = field(default_factory=GateSettings)

    @property
    def is_default(self) -> bool:
        return self.path is None


class _Table:
    """One TOML table, read key by key with errors that name the file, the line and the key."""

    def __init__(self, data: dict[str, Any], name: str, path: Path, text: str) -> None:
        self.data, self.name, self.file, self.text = data, name, path, text
        self.used: set[str] = set()

    def _error(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"[{self.name}] {key}: {message}", path=self.file, line=toml_key_line(self.text, key))

    def get(self, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        self.used.add(key)
        if key not in self.data:
            return default
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self._error(key, f"expected {names}, got {type(value).__name__}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.get(key, str, default)
        if value not in choices:
            raise self._error(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return str(value)

    def strings(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.get(key, (list, str), list(default))
        items = [value] if isinstance(value, str) else value
        if not all(isinstance(v, str) for v in items):
            raise self._error(key, "expected a list of strings")
        return tuple(items)

    def path(self, key: str, default: Path | None) -> Path | None:
        value = self.get(key, str, None)
        return default if value is None else (self.file.parent / value)

    def paths(self, key: str, default: tuple[Path, ...]) -> tuple[Path, ...]:
        if key not in self.data:
            self.used.add(key)
            return default
        return tuple(self.file.parent / p for p in self.strings(key, ()))

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self._error(unknown[0], "unknown setting (see carnot.example.toml)")


def load_config(path: str | Path | None) -> Config:
    """The embedded default when path is None; else the file, checked completely before anything runs."""
    if path is None:
        return Config()
    p = Path(path)
    text, data = read_toml(p)

    known = {"assessment", "scan", "runtime", "aws", "gate", "exposure", "redaction"}
    for name in data:
        if name not in known:
            match = re.search(rf"^[ \t]*\[{re.escape(name)}\]", text, re.MULTILINE)
            line = text.count("\n", 0, match.start()) + 1 if match else None
            raise ConfigError(f"unknown table [{name}] (known: {', '.join(sorted(known))})", path=p, line=line)

    def table(name: str) -> _Table:
        raw = data.get(name, {})
        if not isinstance(raw, dict):
            raise ConfigError(f"[{name}] must be a table", path=p, line=toml_key_line(text, name))
        return _Table(raw, name, p, text)

    t = table("assessment")
    assessment = AssessmentSettings(
        client=t.get("client", str, AssessmentSettings.client),
        scope=t.get("scope", str, AssessmentSettings.scope),
        sign_key=t.path("sign_key", None),
        sign_keyless=t.get("sign_keyless", bool, False),
    )
    t.finish()

    t = table("scan")
    scan = ScanSettings(enabled=t.get("enabled", bool, True), paths=t.paths("paths", ()), rules=t.path("rules", None))
    t.finish()

    t = table("runtime")
    pid = t.get("pid", int, None)
    runtime = RuntimeSettings(
        enabled=t.get("enabled", bool, True),
        duration_seconds=t.get("duration_seconds", float, RuntimeSettings.duration_seconds),
        interfaces=t.strings("interfaces", ()),
        workload=t.choice("workload", WORKLOADS, "none"),
        pid=pid,
        uprobes=t.get("uprobes", bool, RuntimeSettings.uprobes),
    )
    if runtime.duration_seconds <= 0:
        raise t._error("duration_seconds", "must be positive")
    t.finish()

    t = table("aws")
    concurrency = t.get("concurrency", int, None)
    aws = AwsSettings(
        enabled=t.get("enabled", bool, True),
        simulated=t.get("simulated", bool, False),
        regions=t.strings("regions", ()),
        role_arns=t.strings("role_arns", ()),
        endpoint_url=t.get("endpoint_url", str, None),
        concurrency=concurrency,
    )
    if concurrency is not None and concurrency < 1:
        raise t._error("concurrency", "must be at least 1")
    t.finish()

    t = table("gate")
    gate = GateSettings(
        profile=t.choice("profile", PROFILES, "balanced"),
        enforce=t.get("enforce", bool, False),
        waivers=t.path("waivers", None),
        engine=t.choice("engine", ENGINES, "auto"),
        policies=t.path("policies", None),
    )
    t.finish()

    from assess.attest import AttestConfig  # validates [exposure] and [redaction] the way attest will read them

    AttestConfig.load(p)
    return Config(path=p, assessment=assessment, scan=scan, runtime=runtime, aws=aws, gate=gate)
