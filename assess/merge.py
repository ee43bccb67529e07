"""Merge CycloneDX 1.6/1.7 CBOMs into one: pure, lossless, deterministic, associative.

Merge works on the validated JSON rather than on cyclonedx-python-lib objects, because the
library drops fields the spec has (`dependencies[].provides`, 1.7's `algorithmFamily` and
`ellipticCurve`) and a merge must not lose anything a foreign tool wrote.

The rules, each chosen so that the result does not depend on the order or grouping of inputs:
- A `bom-ref` is unique only within its document. Refs Carnot derives from content (`carnot:…`)
  mean the same thing in every document and unify across shards. Any other ref is namespaced by
  its document as a CycloneDX BOM-Link, `urn:cdx:<serial>/<version>#<ref>`, so two tools' `asset-1`
  stay two components — unless the two components are identical (the same ref and the same
  content, evidence and properties aside): those are one, under the smallest of their BOM-Links.
  Every reference to a renamed ref (dependencies, `cryptoRefArray`, `signatureAlgorithmRef`,
  compositions, …: wherever the schema types a value as a bom-ref) follows it; a reference to
  something its document does not define stays as written. A ref that is already a BOM-Link (an
  earlier merge's output) keeps it, which is what makes merges associative.
- A component without a `bom-ref` is identified by a digest of its content (less evidence and
  properties), and that digest becomes its `bom-ref`.
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
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from assess.cbom import CARNOT_TOOL_REF, CbomDocument, rename_refs, serial_number_for
from assess.clock import iso, source_date_epoch
from assess.fsio import canonical_json
from assess.model import Prop

MERGED_ROOT_REF = "carnot:merged-cbom"
CARNOT_REF = "carnot:"  # refs Carnot derives from content: one meaning in every document
BOM_LINK = "urn:cdx:"
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


# --- identity across documents ---------------------------------------------------------------

def _is_carnot(ref: str) -> bool:
    return ref == CARNOT_TOOL_REF or ref.startswith(CARNOT_REF)


def _bom_link(doc: CbomDocument) -> str:
    """The BOM-Link of a document: `urn:cdx:<uuid>/<version>`, the uuid derived from its content.

    Not its declared serialNumber: real documents share them (CycloneDX's own examples, every
    cbomkit-theia output), so only the content tells two documents apart; the declared one is kept
    beside it in a `carnot:merge:source` property.
    """
    serial = serial_number_for(doc.data).removeprefix("urn:uuid:")
    return f"{BOM_LINK}{serial}/{doc.data.get('version', 1)}"


def _source_property(doc: CbomDocument, link: str) -> dict[str, str]:
    source = {"bom_link": link, "serialNumber": doc.data.get("serialNumber"), "version": doc.data.get("version", 1)}
    return {"name": Prop.MERGE_SOURCE, "value": canonical_json(source).decode("utf-8")}


def _original(ref: str) -> str:
    """The ref a component had in the document it came from (a BOM-Link's fragment)."""
    return unquote(ref.split("#", 1)[1]) if ref.startswith(BOM_LINK) and "#" in ref else ref


def _origin(component: dict[str, Any], spec: str) -> tuple[str, str]:
    """What makes two foreign components one: their original ref and content (refs as originally
    named; evidence, properties and nested components aside)."""
    body = {k: v for k, v in component.items() if k not in ("bom-ref", "evidence", "properties", "components")}
    original = rename_refs(body, spec, _original, "component")
    return _original(str(component["bom-ref"])), hashlib.sha256(_key(original)).hexdigest()


def _documents_components(doc: CbomDocument) -> list[dict[str, Any]]:
    root = doc.data.get("metadata", {}).get("component")
    return [*doc.components(), *([root] if root and not _is_merged_root(root) else [])]


def _namespaced(docs: Sequence[CbomDocument]) -> list[dict[str, Any]]:
    """Each document's data with its foreign refs renamed to the BOM-Links they merge under."""
    origins: list[dict[str, tuple[str, str]]] = []
    candidates: dict[tuple[str, str], set[str]] = defaultdict(set)
    links = [_bom_link(doc) for doc in docs]
    for doc, link in zip(docs, links, strict=True):
        mine: dict[str, tuple[str, str]] = {}
        for comp in _documents_components(doc):
            ref = comp.get("bom-ref")
            if not ref or _is_carnot(str(ref)):
                continue
            origin = _origin(comp, doc.spec_version)
            mine[str(ref)] = origin
            candidates[origin].add(str(ref) if str(ref).startswith(BOM_LINK) else f"{link}#{quote(str(ref), safe='')}")
        origins.append(mine)
    final = {origin: min(links) for origin, links in candidates.items()}
    alias = {link: final[origin] for origin, links in candidates.items() for link in links}

    out = []
    for doc, link, mine in zip(docs, links, origins, strict=True):
        namespaced = False

        def rename(ref: str, mine: dict[str, tuple[str, str]] = mine) -> str:
            nonlocal namespaced
            if ref in mine:
                namespaced |= not ref.startswith(BOM_LINK)
                return final[mine[ref]]
            # Carnot's refs keep theirs; a reference to nothing this document defines names nothing
            # in any document (every element of the output is Carnot's or namespaced), so it stays.
            return alias.get(ref, ref)

        if not _has_foreign_refs(doc, mine):
            out.append(doc.data)
            continue
        data = rename_refs(doc.data, doc.spec_version, rename)
        if namespaced:  # a new metadata object: rename_refs shares what it did not change with the input
            metadata = data.get("metadata", {})
            data = {**data, "metadata": {**metadata, "properties": [*metadata.get("properties", []),
                                                                    _source_property(doc, link)]}}
        out.append(data)
    return out


def _has_foreign_refs(doc: CbomDocument, components: dict[str, tuple[str, str]]) -> bool:
    """Whether renaming could change anything (Carnot's own shards use content-derived refs only)."""
    if components:
        return True
    refs = [d.get("ref", "") for d in doc.data.get("dependencies", [])]
    refs += [r for d in doc.data.get("dependencies", []) for r in (*d.get("dependsOn", []), *d.get("provides", []))]
    return any(not _is_carnot(str(r)) for r in refs) or any(
        k not in _KNOWN_TOP_LEVEL for k in doc.data)


def _tools(tools: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Tools as (components, services): the 1.5+ object form as it is, the legacy list as components."""
    if isinstance(tools, dict):
        return list(tools.get("components", [])), list(tools.get("services", []))
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
    return out, []


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

    datas = _namespaced(docs)
    components: dict[str, dict[str, Any]] = {}
    conflicts = 0
    components_in = 0
    for data in datas:
        incoming = list(data.get("components", []))
        root = data.get("metadata", {}).get("component")
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
    for data in datas:
        for dep in data.get("dependencies", []):
            ref = str(dep["ref"])
            dependencies[ref] = _Merger().merge(dependencies[ref], dep, "") if ref in dependencies else dep
    for ref, dep in dependencies.items():
        dependencies[ref] = {k: (sorted(set(v)) if k in ("dependsOn", "provides") else v) for k, v in dep.items()}

    metadata = _merge_metadata(datas)
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
    _merge_other_top_level(datas, out)
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


def _merge_metadata(datas: Sequence[dict[str, Any]]) -> dict[str, Any]:
    merger = _Merger()
    merged: dict[str, Any] = {}
    tools: list[list[dict[str, Any]]] = []
    services: list[list[dict[str, Any]]] = []
    properties: list[list[dict[str, Any]]] = []
    for data in datas:
        meta = dict(data.get("metadata", {}))
        meta.pop("timestamp", None)
        meta.pop("component", None)
        tool_components, tool_services = _tools(meta.pop("tools", None))
        tools.append(tool_components)
        services.append(tool_services)
        properties.append(list(meta.pop("properties", [])))
        merged = merger.merge(merged, meta, "metadata") if merged else meta
    merged["component"] = {
        "type": "application",
        "bom-ref": MERGED_ROOT_REF,
        "name": "Carnot merged CBOM",
        "description": "The union of the CBOMs merged into this document.",
    }
    merged["tools"] = {"components": _union(tools)}
    if any(services):
        merged["tools"]["services"] = _union(services)
    merged["properties"] = _union([*properties, merger.conflict_properties()])
    return merged


_KNOWN_TOP_LEVEL = frozenset({"$schema", "bomFormat", "specVersion", "version", "serialNumber", "metadata",
                               "components", "dependencies"})


def _merge_other_top_level(datas: Sequence[dict[str, Any]], out: dict[str, Any]) -> None:
    """Services, compositions, annotations and the rest: kept, merged with the same rules."""
    merger = _Merger()
    for data in datas:
        for key, value in data.items():
            if key in _KNOWN_TOP_LEVEL:
                continue
            out[key] = merger.merge(out[key], value, key) if key in out else value
    if merger.conflicts:
        out["metadata"]["properties"] = _union([out["metadata"]["properties"], merger.conflict_properties()])

