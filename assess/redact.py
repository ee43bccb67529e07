"""Masking configured sensitive values (account ids, hostnames, paths) with stable pseudonyms.

The same value gets the same pseudonym everywhere it appears (attestation.json, attestation.md)
and in every run with the same key, so a reader can still follow one host through a report
without learning its name. Pseudonyms are `<kind>-<10 hex>` from HMAC-SHA256(key, value); without
a key they are plain SHA-256, which hides nothing a guesser can enumerate (a 12-digit account id
is enumerable), so configure a key for anything that leaves the organisation.

`[redaction]` table (carnot.toml):

    key_env = "CARNOT_REDACTION_KEY"   # name of the environment variable holding the HMAC key
    aws_account_ids = true             # every 12-digit AWS account id
    hostnames = ["db01.corp.example"]  # literal values, masked wherever they occur in a string
    paths = ["/home/alice"]            # literal path prefixes ("/home/alice/x" -> "path-…/x")
    values = ["ACME Corp"]             # any other literal value
    patterns = ['[a-z0-9-]+\\.corp\\.example']  # regular expressions (Python syntax)
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from assess.errors import ConfigError

_AWS_ACCOUNT = r"(?<![0-9A-Za-z])[0-9]{12}(?![0-9A-Za-z])"
# Keys whose values are digests or identities of files: never rewritten (they must still verify).
PROTECTED_KEYS = frozenset({"sha256", "digest", "policy_digest", "payload"})


@dataclass(frozen=True)
class RedactionConfig:
    key: bytes | None = None
    aws_account_ids: bool = False
    hostnames: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.aws_account_ids or self.hostnames or self.paths or self.values or self.patterns)

    @classmethod
    def from_toml_table(
        cls, table: Mapping[str, Any], origin: str = "[redaction]", environ: Mapping[str, str] | None = None
    ) -> RedactionConfig:
        known = {"key_env", "aws_account_ids", "hostnames", "paths", "values", "patterns"}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(
                f"{origin}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        env = os.environ if environ is None else environ
        key: bytes | None = None
        if "key_env" in table:
            name = table["key_env"]
            if not isinstance(name, str) or not env.get(name):
                raise ConfigError(f"{origin}.key_env: environment variable {name!r} is not set")
            key = env[name].encode("utf-8")
        flag = table.get("aws_account_ids", False)
        if not isinstance(flag, bool):
            raise ConfigError(f"{origin}.aws_account_ids must be true or false")
        lists = {name: _strings(table.get(name, []), f"{origin}.{name}") for name in
                 ("hostnames", "paths", "values", "patterns")}
        for pattern in lists["patterns"]:
            try:
                re.compile(pattern)
            except re.error as e:
                raise ConfigError(f"{origin}.patterns: {pattern!r} is not a regular expression: {e}") from e
        return cls(key=key, aws_account_ids=flag, **lists)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where} must be a list of non-empty strings")
    return tuple(value)


@dataclass
class Redactor:
    """Applies a RedactionConfig to strings and JSON values, counting what it masked by kind."""

    config: RedactionConfig
    masked: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        alternatives: list[tuple[str, str]] = []
        literals = [(v, "host") for v in self.config.hostnames] + [(v, "path") for v in self.config.paths]
        literals += [(v, "value") for v in self.config.values]
        # Longest first, so a hostname inside a longer configured path is not masked twice.
        for literal, kind in sorted(literals, key=lambda lk: (-len(lk[0]), lk[0])):
            alternatives.append((kind, re.escape(literal)))
        alternatives += [("value", p) for p in self.config.patterns]
        if self.config.aws_account_ids:
            alternatives.append(("account", _AWS_ACCOUNT))
        self._kinds = [kind for kind, _ in alternatives]
        self._regex = (
            re.compile("|".join(f"(?P<g{i}>{rx})" for i, (_, rx) in enumerate(alternatives)))
            if alternatives else None
        )

    def pseudonym(self, kind: str, value: str) -> str:
        raw = value.encode("utf-8")
        digest = (hmac.new(self.config.key, raw, hashlib.sha256) if self.config.key else hashlib.sha256(raw))
        return f"{kind}-{digest.hexdigest()[:10]}"

    def text(self, value: str) -> str:
        if self._regex is None:
            return value

        def replace(match: re.Match[str]) -> str:
            group = match.lastgroup or "g0"
            kind = self._kinds[int(group[1:])]
            self.masked[kind] += 1
            return self.pseudonym(kind, match.group(0))

        return self._regex.sub(replace, value)

    def json(self, value: Any, key: str | None = None) -> Any:
        """A copy of a JSON value with every string (and object key) masked, digests left alone (the
        value itself when nothing is to be masked)."""
        if key in PROTECTED_KEYS or self._regex is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k): self.json(v, k) for k, v in value.items()}
        return value

    def report(self) -> dict[str, Any]:
        return {
            "enabled": self.config.enabled,
            "keyed": self.config.key is not None,
            "masked": dict(sorted(self.masked.items())),
        }
