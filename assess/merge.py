"""Merge CycloneDX 1.6/1.7 CBOMs into one: pure, lossless, deterministic, associative.

Merge works on the validated JSON rather than on cyclonedx-python-lib objects, because the
library drops fields the spec has (`dependencies[].provides`, 1.7's `algorithmFamily` and
`ellipticCurve`) and a merge must not lose anything a foreign tool wrote.

The rules, each chosen so that the result does not depend on the order or grouping of inputs:
- A component's identity is its `bom-ref`; a component without one is identified by a digest of
  its content (less evidence and properties), and that digest becomes its `bom-ref`.
- Components with one identity merge field by field: lists become the sorted union of their items;
  dicts at the structural levels (component, cryptoProperties, *Properties, evidence) merge key by
  key; any other differing value keeps the smallest variant (canonical JSON order) and records
  every variant as a `carnot:merge:conflict` property, so conflicting facts are kept, not dropped.
- Each input's `metadata.component` (the thing it describes) becomes an ordinary component; the
  merged document describes itself with one fixed component, which a later merge recognises.
- The timestamp is SOURCE_DATE_EPOCH when set, else the latest input timestamp.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from assess.cbom import CbomDocument, serial_number_for
from assess.clock import iso, source_date_epoch
from assess.fsio import canonical_json
from assess.model import Prop

MERGED_ROOT_REF = "carnot:merged-cbom"
_STRUCTURAL = frozenset(
    {
        "",
        "cryptoProperties",
        "cryptoProperties.algorithmProperties",
        "cryptoProperties.certificateProperties",
        "cryptoProperties.relatedCryptoMaterialProperties",
        "cryptoProperties.protocolProperties",
        "evidence",
        "metadata",
        "tools",
    }
)


@dataclass(frozen=True)
class MergeReport:
    inputs: int
    components_in: int
    components_out: int
    dependencies_out: int
    conflicts: int
    spec_version: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "components_in": self.components_in,
            "components_out": self.components_out,
            "dependencies_out": self.dependencies_out,
            "conflicts": self.conflicts,
            "spec_version": self.spec_version,
        }


def _key(value: Any) -> bytes:
    return canonical_json(value)


def _union(lists: Iterable[list[Any]]) -> list[Any]:
    seen: dict[bytes, Any] = {}
    for items in lists:
        for item in items:
            seen.setdefault(_key(item), item)
    return [seen[k] for k in sorted(seen)]


class _Merger:
    """Merges values of one kind (components, metadata) and collects conflicting variants."""

    def __init__(self) -> None:
        self.conflicts: list[tuple[str, Any]] = []

    def merge(self, a: Any, b: Any, path: str) -> Any:
        if _key(a) == _key(b):
            return a
        if isinstance(a, dict) and isinstance(b, dict) and path in _STRUCTURAL:
            out: dict[str, Any] = {}
            for k in sorted(a.keys() | b.keys()):
                child = f"{path}.{k}" if path else k
                if k not in a:
                    out[k] = b[k]
                elif k not in b:
                    out[k] = a[k]
                else:
                    out[k] = self.merge(a[k], b[k], child)
            return out
        if isinstance(a, list) and isinstance(b, list):
            return _union([a, b])
        first, second = sorted((a, b), key=_key)
        self.conflicts.append((path, first))
        self.conflicts.append((path, second))
        return first

    def conflict_properties(self) -> list[dict[str, str]]:
        return [
            {"name": Prop.MERGE_CONFLICT, "value": canonical_json({"path": p, "value": v}).decode("utf-8")}
            for p, v in self.conflicts
        ]


def component_identity(component: dict[str, Any]) -> str:
    ref = component.get("bom-ref")
    if ref:
        return str(ref)
    body = {k: v for k, v in component.items() if k not in ("evidence", "properties")}
    return "carnot:anon:" + hashlib.sha256(_key(body)).hexdigest()[:24]


def _is_merged_root(component: dict[str, Any] | None) -> bool:
    return bool(component) and component.get("bom-ref") == MERGED_ROOT_REF  # type: ignore[union-attr]


def _tool_components(tools: Any) -> list[dict[str, Any]]:
    """Tools in either the 1.5+ object form or the legacy list form, as tool components."""
    if isinstance(tools, dict):
        return list(tools.get("components", [])) + [
            {"type": "application", **s} for s in tools.get("services", []) if isinstance(s, dict)
        ]
    out = []
    for tool in tools or []:
        comp: dict[str, Any] = {"type": "application", "name": tool.get("name", "unknown")}
        if tool.get("version"):
            comp["version"] = tool["version"]
        if tool.get("vendor"):
            comp["publisher"] = tool["vendor"]
        if tool.get("hashes"):
            comp["hashes"] = tool["hashes"]
        out.append(comp)
    return out


def _timestamp(docs: Sequence[CbomDocument]) -> str | None:
    epoch = source_date_epoch()
    if epoch is not None:
        return iso(datetime.fromtimestamp(epoch, tz=UTC))
    stamps = []
    for doc in docs:
        raw = doc.data.get("metadata", {}).get("timestamp")
        if raw:
            try:
                stamps.append(datetime.fromisoformat(str(raw).replace("Z", "+00:00")))
            except ValueError:
                continue
    if not stamps:
        return None
    return iso(max(s if s.tzinfo else s.replace(tzinfo=UTC) for s in stamps))


def _spec_key(spec: str) -> tuple[int, ...]:
    return tuple(int(p) for p in spec.split("."))


def merge_documents(docs: Sequence[CbomDocument]) -> tuple[dict[str, Any], MergeReport]:
    """Merge validated CBOM documents into one CycloneDX document (a dict) and say what happened."""
    if not docs:
        raise ValueError("merge needs at least one document")
    spec = max((d.spec_version for d in docs), key=_spec_key)

    components: dict[str, dict[str, Any]] = {}
    conflicts = 0
    components_in = 0
    for doc in docs:
        incoming = list(doc.data.get("components", []))
        root = doc.data.get("metadata", {}).get("component")
        if root and not _is_merged_root(root):
            incoming.append(root)
        for comp in incoming:
            components_in += 1
            ident = component_identity(comp)
            comp = comp if comp.get("bom-ref") else {**comp, "bom-ref": ident}
            if ident not in components:
                components[ident] = comp
                continue
            merger = _Merger()
            merged = merger.merge(components[ident], comp, "")
            if merger.conflicts:
                conflicts += len(merger.conflicts) // 2
                merged["properties"] = _union([merged.get("properties", []), merger.conflict_properties()])
            components[ident] = merged

    dependencies: dict[str, dict[str, Any]] = {}
    for doc in docs:
        for dep in doc.data.get("dependencies", []):
            ref = str(dep["ref"])
            dependencies[ref] = _Merger().merge(dependencies[ref], dep, "") if ref in dependencies else dep
    for ref, dep in dependencies.items():
        dependencies[ref] = {k: (sorted(set(v)) if k in ("dependsOn", "provides") else v) for k, v in dep.items()}

    metadata = _merge_metadata(docs)
    timestamp = _timestamp(docs)
    if timestamp:
        metadata["timestamp"] = timestamp

    out: dict[str, Any] = {
        "$schema": f"http://cyclonedx.org/schema/bom-{spec}.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": spec,
        "version": 1,
        "metadata": metadata,
        "components": [components[k] for k in sorted(components)],
    }
    if dependencies:
        out["dependencies"] = [dependencies[k] for k in sorted(dependencies)]
    _merge_other_top_level(docs, out)
    out["serialNumber"] = serial_number_for(out)
    report = MergeReport(
        inputs=len(docs),
        components_in=components_in,
        components_out=len(components),
        dependencies_out=len(dependencies),
        conflicts=conflicts,
        spec_version=spec,
    )
    return out, report


def _merge_metadata(docs: Sequence[CbomDocument]) -> dict[str, Any]:
    merger = _Merger()
    merged: dict[str, Any] = {}
    tools: list[list[dict[str, Any]]] = []
    properties: list[list[dict[str, Any]]] = []
    for doc in docs:
        meta = dict(doc.data.get("metadata", {}))
        meta.pop("timestamp", None)
        meta.pop("component", None)
        tools.append(_tool_components(meta.pop("tools", None)))
        properties.append(list(meta.pop("properties", [])))
        merged = merger.merge(merged, meta, "metadata") if merged else meta
    merged["component"] = {
        "type": "application",
        "bom-ref": MERGED_ROOT_REF,
        "name": "Carnot merged CBOM",
        "description": "The union of the CBOMs merged into this document.",
    }
    merged["tools"] = {"components": _union(tools)}
    merged["properties"] = _union([*properties, merger.conflict_properties()])
    return merged


def _merge_other_top_level(docs: Sequence[CbomDocument], out: dict[str, Any]) -> None:
    """Services, compositions, annotations and the rest: kept, merged with the same rules."""
    handled = {"$schema", "bomFormat", "specVersion", "version", "serialNumber", "metadata", "components",
               "dependencies"}
    merger = _Merger()
    for doc in docs:
        for key, value in doc.data.items():
            if key in handled:
                continue
            out[key] = merger.merge(out[key], value, key) if key in out else value
    if merger.conflicts:
        out["metadata"]["properties"] = _union([out["metadata"]["properties"], merger.conflict_properties()])

