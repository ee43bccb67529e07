"""CycloneDX CBOM in and out: the model mapped through cyclonedx-python-lib, documents read and validated.

Writing goes model -> JSON as cyclonedx-python-lib writes it (the library serialises the crypto
model; see `shard_to_document`); reading goes
raw JSON -> schema validation against the document's own spec version -> the library's
deserializer. Fields the library does not model (1.7's `algorithmFamily`/`ellipticCurve`,
`dependencies[].provides`) are never lost: merge works on the validated JSON itself, see merge.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import itertools
import json
import marshal
import os
import re
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
from cyclonedx.model.crypto import CryptoProperties
from cyclonedx.schema import SchemaVersion
from cyclonedx.schema.schema import SchemaVersion1Dot6, SchemaVersion1Dot7

from assess import __version__
from assess.clock import build_time
from assess.errors import CbomError, InputError
from assess.fsio import (
    MAX_CBOM_INPUT_BYTES,
    NotStreamable,
    canonical_json,
    canonical_json_chunks,
    parse_json_bytes,
    read_json,
    require_file,
    stream_json_object,
    write_atomic,
    write_pretty_json,
)
from assess.model import Asset, Evidence, Gap, Prop, Shard, Source, property_problem

SUPPORTED_SPECS: dict[str, SchemaVersion] = {"1.6": SchemaVersion.V1_6, "1.7": SchemaVersion.V1_7}
DEFAULT_SPEC = "1.6"
# Shards keep at most this many individual skipped entries; the count is always exact.
MAX_SKIPPED_LISTED = 1000
CARNOT_TOOL_REF = "carnot"  # the tool component of every shard Carnot writes
_SERIAL_NAMESPACE = uuid.UUID("6f1c7a4e-3d52-4c1b-9a57-0c2a5e3f9b11")


@dataclass(frozen=True)
class CbomDocument:
    """A CycloneDX document that passed validation against the schema of its spec version."""

    path: str
    spec_version: str
    data: dict[str, Any]

    def components(self) -> Iterator[dict[str, Any]]:
        yield from _walk_components(self.data.get("components", []))

    def metadata_properties(self, name: str) -> list[str]:
        props = self.data.get("metadata", {}).get("properties", [])
        return [p.get("value", "") for p in props if p.get("name") == name]

    def gaps(self) -> list[Gap]:
        return [Gap.from_json(v) for v in self.metadata_properties(Prop.GAP)]


def _walk_components(components: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for comp in components:
        yield comp
        yield from _walk_components(comp.get("components", []))


def validate_document(data: Any, origin: str) -> CbomDocument:
    """Check that data is a CycloneDX 1.6/1.7 document valid against its schema."""
    if not isinstance(data, dict):
        raise CbomError(f"not a CycloneDX document: top level is a JSON {type(data).__name__}", path=origin)
    if data.get("bomFormat") != "CycloneDX":
        raise CbomError("not a CycloneDX document: 'bomFormat' is not \"CycloneDX\"", path=origin)
    spec = data.get("specVersion")
    if spec not in SUPPORTED_SPECS:
        raise CbomError(
            f"unsupported CycloneDX specVersion {spec!r}; Carnot reads {', '.join(SUPPORTED_SPECS)}", path=origin
        )
    error = _first_error(data, spec)
    if error is not None:
        raise CbomError(f"not valid CycloneDX {spec}: {error}", path=origin)
    problem = _property_problem(data)
    if problem is not None:
        raise CbomError(problem, path=origin)
    return CbomDocument(path=origin, spec_version=spec, data=data)


def _property_problem(data: dict[str, Any]) -> str | None:
    """The first carnot:* property (metadata or component) whose value is not of its type."""
    for prop in data.get("metadata", {}).get("properties", []):
        problem = property_problem(prop["name"], prop.get("value", ""))
        if problem is not None:
            return f"metadata property {problem}"
    for comp in _walk_components(data.get("components", [])):
        for prop in comp.get("properties", []):
            problem = property_problem(prop["name"], prop.get("value", ""))
            if problem is not None:
                return f"{_component_label(comp)}: {problem}"
    return None


def _component_label(comp: dict[str, Any]) -> str:
    if "bom-ref" in comp:
        return f"component {_quoted(comp['bom-ref'])}"
    return f"component named {_quoted(comp.get('name', ''))}"


def _quoted(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:80] + "…")


@cache
def _validator(spec: str) -> Callable[[Any], Any]:
    """A compiled validator for the strict CycloneDX schema that cyclonedx-python-lib ships.

    fastjsonschema compiles the schema to Python once (cached on disk, keyed by the schema's
    digest); it validates about ten times faster than jsonschema, whose pairwise `uniqueItems` also
    never finishes on 100k components. That speed is what makes validating every input and every
    output affordable.
    """
    from cyclonedx.schema._res import BOM_JSON_STRICT, CRYPTOGRAPHY_DEFS, JSF, SPDX_JSON

    prefix = "http://cyclonedx.org/schema/"
    resources = {
        prefix + "spdx.SNAPSHOT.schema.json": SPDX_JSON,
        prefix + "cryptography-defs.SNAPSHOT.schema.json": CRYPTOGRAPHY_DEFS,
        prefix + "jsf-0.82.SNAPSHOT.schema.json": JSF,
    }
    schema_path = BOM_JSON_STRICT[SUPPORTED_SPECS[spec]]
    assert schema_path is not None
    schema_text = Path(schema_path).read_text()
    formats: dict[str, Callable[[Any], bool]] = {
        "iri-reference": lambda v: _IRI_REFERENCE.match(v) is not None,
        "idn-email": lambda v: _IDN_EMAIL.match(v) is not None,
        "date-time": _is_date_time,
        "date": _is_date,
    }
    # the generated code differs with the set of custom formats: it is part of the cache key
    key = schema_text + fastjsonschema.VERSION + ",".join(sorted(formats)) + ",no-defaults"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    cached = _cache_dir() / f"cyclonedx-{spec}-{digest}.py"
    try:
        code = cached.read_text()
    except OSError:
        code = fastjsonschema.compile_to_code(
            json.loads(schema_text),
            handlers={"http": lambda uri: json.loads(Path(resources[uri.split("#")[0]]).read_text())},
            formats=formats,
            use_default=False,  # validation checks a document; it must not write the schema's defaults into it
        )
        with contextlib.suppress(OSError):
            write_atomic(cached, code.encode("utf-8"))
    fast_code = _without_eager_work(code)
    fast = _load(cached.with_name(f"{cached.stem}-fast-{hashlib.sha256(fast_code.encode()).hexdigest()[:12]}.py"),
                 fast_code)

    @cache
    def plain() -> Callable[..., Any]:
        return _load(cached, code)

    def validate(data: Any) -> Any:
        try:
            return fast(data, custom_formats=formats)
        except fastjsonschema.JsonSchemaValueException:
            return plain()(data, custom_formats=formats)  # fails again, and says where

    return validate


def _load(path: Path, code: str) -> Callable[..., Any]:
    """The validate function of generated code. Its bytecode is kept beside it in the cache (keyed by
    the interpreter's bytecode version): compiling it took a second in every process."""
    compiled = path.with_name(f"{path.stem}.{importlib.util.MAGIC_NUMBER.hex()}.bytecode")
    try:
        bytecode = marshal.loads(compiled.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        bytecode = compile(code, str(path), "exec")
        with contextlib.suppress(OSError):
            write_atomic(compiled, marshal.dumps(bytecode))
    namespace: dict[str, Any] = {"_distinct": _distinct}
    exec(bytecode, namespace)  # code generated by fastjsonschema from the schema
    entry = re.search(r"^def (validate\w*)\(", code, re.MULTILINE)
    assert entry is not None, "fastjsonschema generated no validate function"
    validator: Callable[..., Any] = namespace[entry.group(1)]
    return validator


_UNIQUE_ITEMS = re.compile(r"len\(set\(fn\((\w+)\) for \1 in (\w+)\)\)")


def _without_eager_work(code: str) -> str:
    """The generated validator less two costs paid on valid documents too, which made up two thirds
    of validating a CBOM: the error path of every array item is formatted before it is known to be
    needed (`.format(**locals())`), and `uniqueItems` freezes every item (every component, deeply)
    into a hashable copy. This variant says *whether* a document is valid; the plain one, run only
    on a document this one refused, says where it is not."""
    return _UNIQUE_ITEMS.sub(r"_distinct(\2, fn)", code.replace(".format(**locals())", ""))


def _distinct(items: list[Any], freeze: Callable[[Any], Any]) -> int:
    """How many distinct items an array has, as fastjsonschema counts them for `uniqueItems`: at once
    when the items are strings, or objects each with its own `bom-ref` (or `ref`: dependencies),
    which then differ; by freezing each item otherwise."""
    if all(type(item) is str for item in items):
        return len(set(items))
    for key in ("bom-ref", "ref"):
        keys = [item.get(key) if type(item) is dict else None for item in items]
        if all(type(k) is str for k in keys) and len(set(keys)) == len(keys):
            return len(items)
    return len({freeze(item) for item in items})


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "carnot"


_IRI_REFERENCE = re.compile(r"^[^\s<>\"{}|\\^`]*$")
_IDN_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
# RFC 3339 in ASCII digits, and a moment Python can hold: fastjsonschema's own check takes any
# Unicode digit, a leap second or year 0, which cyclonedx-python-lib then fails to read.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
                        r"(?:Z|[+-][0-9]{2}:[0-9]{2})")


def _is_date(value: str) -> bool:
    return _DATE.fullmatch(value) is not None and _parses(date.fromisoformat, value)


def _is_date_time(value: str) -> bool:
    return _DATE_TIME.fullmatch(value) is not None and _parses(datetime.fromisoformat, value)


def _parses(parse: Callable[[str], object], value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def _first_error(data: dict[str, Any], spec: str) -> str | None:
    try:
        _validator(spec)(data)
    except fastjsonschema.JsonSchemaValueException as e:
        return _describe_schema_error(e)
    return None


def _describe_schema_error(error: fastjsonschema.JsonSchemaValueException) -> str:
    path = "/".join(str(p) for p in (error.path or [])[1:])
    message = str(error.message).replace(str(error.name or ""), "").strip() or str(error.message)
    if len(message) > 200:
        message = message[:200] + "…"
    return f"at /{path}: {message}" if path else message


# Schema definitions whose values name another element by its bom-ref (in this or another BOM).
_REF_TYPES = frozenset({"refType", "refLinkType", "bomLinkElementType"})


@cache
def _schema(spec: str) -> dict[str, Any]:
    from cyclonedx.schema._res import BOM_JSON_STRICT

    path = BOM_JSON_STRICT[SUPPORTED_SPECS[spec]]
    assert path is not None
    loaded: dict[str, Any] = json.loads(Path(path).read_text())
    return loaded


class _RefShape:
    """Where a schema set (the schemas a value must match) puts bom-refs: whether the value is one,
    the shapes of its object fields and of its array items (worked out when first met: the sets a
    schema reaches are too many to list ahead); `leaf` when none of these can hold one."""

    __slots__ = ("_field_schemas", "_item_schemas", "_items", "_of", "fields", "is_ref", "leaf")

    def __init__(self, is_ref: bool, fields: dict[str, list[dict[str, Any]]], items: list[dict[str, Any]],
                 of: Callable[[list[dict[str, Any]]], _RefShape]) -> None:
        self.is_ref = is_ref
        self.leaf = not is_ref and not fields and not items
        self.fields: dict[str, _RefShape] = {}
        self._field_schemas = fields
        self._item_schemas = items
        self._items: _RefShape | None = None
        self._of = of

    def field(self, name: str) -> _RefShape | None:
        shape = self.fields.get(name)
        if shape is None and name in self._field_schemas:
            shape = self.fields[name] = self._of(self._field_schemas[name])
        return shape

    def items(self) -> _RefShape | None:
        if self._items is None and self._item_schemas:
            self._items = self._of(self._item_schemas)
        return self._items


@cache
def _ref_shape(spec: str, definition: str | None) -> _RefShape:
    """The shape of a document (or of one definition) of a spec version, worked out once per process
    for every schema set it reaches: merge renames each component on its own, and working them out
    again per call was most of merging."""
    root = _schema(spec)
    definitions = root["definitions"]
    built: dict[tuple[int, ...], _RefShape] = {}

    def expand(schemas: list[dict[str, Any]]) -> tuple[bool, list[dict[str, Any]]]:
        """Every concrete variant the schemas allow (through $ref, oneOf, anyOf, allOf), and
        whether one of them is a reference type."""
        out: list[dict[str, Any]] = []
        stack = list(schemas)
        is_ref = False
        while stack:
            schema = stack.pop()
            if "$ref" in schema:
                name = schema["$ref"].rsplit("/", 1)[-1]
                is_ref |= name in _REF_TYPES
                if name not in _REF_TYPES and name in definitions:
                    stack.append(definitions[name])
                continue
            out.append(schema)
            stack.extend(v for k in ("oneOf", "anyOf", "allOf") for v in schema.get(k, []))
        return is_ref, out

    def shape(schemas: list[dict[str, Any]]) -> _RefShape:
        key = tuple(id(s) for s in schemas)
        if key not in built:
            is_ref, variants = expand(schemas)
            fields: dict[str, list[dict[str, Any]]] = {}
            for variant in variants:
                for name, sub in variant.get("properties", {}).items():
                    fields.setdefault(name, []).append(sub)
            items = [v["items"] for v in variants if isinstance(v.get("items"), dict)]
            built[key] = _RefShape(is_ref, fields, items, shape)
        return built[key]

    return shape([definitions[definition] if definition else root])


def rename_refs(data: Any, spec: str, rename: Callable[[str], str], definition: str | None = None) -> Any:
    """A CycloneDX document (or one element: `definition` names its schema definition, e.g.
    "component") with every value the schema types as a bom-ref — an element's own `bom-ref` and
    every reference to one (dependencies, `cryptoRefArray`, `signatureAlgorithmRef`, compositions,
    …) — passed through rename. Objects and arrays in which nothing changed are the input's own (a
    merge of a million components must not hold two copies of them): the result is to be read, or
    copied before it is changed.

    The schema of the document's spec version says where references are, so fields a later version
    adds are followed without a list kept by hand.
    """

    def walk(shape: _RefShape, value: Any) -> Any:
        if shape.is_ref and type(value) is str:
            return rename(value)
        if type(value) is dict:
            out = {}
            changed = False
            for k, v in value.items():
                field = shape.fields.get(k) or shape.field(k)
                if field is not None and not field.leaf:
                    new = walk(field, v)
                    changed = changed or new is not v
                    v = new
                out[k] = v
            return out if changed else value
        item = shape.items() if type(value) is list else None
        if item is not None and not item.leaf:
            items = [walk(item, v) for v in value]
            return items if any(new is not old for new, old in zip(items, value, strict=True)) else value
        return value

    return walk(_ref_shape(spec, definition), data)


def read_cbom(path: str | Path, *, max_bytes: int = MAX_CBOM_INPUT_BYTES) -> CbomDocument:
    """Read and validate one CBOM file; every failure is a CbomError/InputError naming the file.

    A regular file is parsed as it is read, a few MiB of text at a time (json.loads needs the whole
    file as bytes and as text beside the parsed document: 0.6 GB more for a 300 MB shard), with one
    string for each distinct key and short value (a quarter less memory for a parsed CBOM); the
    document equals the one json.loads gives. Anything the streamed reader doubts is read whole,
    which names the problem."""
    p = require_file(path)
    if p.is_file() and p.stat().st_size <= max_bytes:
        with contextlib.suppress(NotStreamable):
            data = {key: list(value) if isinstance(value, Iterator) else value
                    for key, value in stream_json_object(p, "components", share_strings=True)}
            return validate_document(data, str(path))
    return validate_document(read_json(path, max_bytes=max_bytes, what="a CBOM (--max-bom-bytes)"), str(path))


@dataclass(frozen=True)
class StreamedCbom:
    """A CBOM file too large to hold parsed (a million components parse to ~4 GiB of Python objects),
    read again component by component on each pass. Validation is read_cbom's, batch by batch: the
    head (validated once) and each batch of top-level components must be valid documents; top-level
    components must each have a distinct bom-ref (how fastjsonschema's `uniqueItems` is then decided
    without comparing components across batches)."""

    path: str
    spec_version: str
    head: dict[str, Any]  # the document without its components

    def batches(self, size: int) -> Iterator[list[dict[str, Any]]]:
        """The top-level components, validated, in lists of at most size; NotStreamable on any doubt."""
        refs: set[str] = set()
        components = self._components()
        while batch := list(itertools.islice(components, size)):
            for component in batch:
                ref = component.get("bom-ref") if type(component) is dict else None
                if type(ref) is not str or ref in refs:
                    raise NotStreamable(self.path)
                refs.add(ref)
            try:  # the head was validated once: with each batch, only what the schema requires of it
                validate_document({"bomFormat": self.head["bomFormat"], "specVersion": self.spec_version,
                                   "components": batch}, self.path)
            except CbomError as e:
                raise NotStreamable(self.path) from e
            yield batch

    def _components(self) -> Iterator[Any]:
        for key, value in stream_json_object(self.path, "components"):
            if key == "components":
                yield from value


def stream_cbom(path: str | Path, *, max_bytes: int = MAX_CBOM_INPUT_BYTES,
                on_component: Callable[[Any], None] = lambda _: None) -> StreamedCbom:
    """The head of a CBOM file, read in one pass that hands each top-level component (unvalidated) to
    on_component. NotStreamable when the file is not a regular file within max_bytes, or its head is
    not a valid document: read_cbom then says exactly what is wrong (or reads what this cannot)."""
    p = require_file(path)
    if not p.is_file() or p.stat().st_size > max_bytes:
        raise NotStreamable(p)
    head: dict[str, Any] = {}
    for key, value in stream_json_object(p, "components"):
        if key == "components" and isinstance(value, Iterator):
            for component in value:
                on_component(component)
            value = []
        if key in head:  # a repeated key: json.loads keeps the last, and so would this, but say so
            raise NotStreamable(p)
        head[key] = value
    try:
        doc = validate_document(head, str(path))
    except CbomError as e:
        raise NotStreamable(p) from e
    head.pop("components", None)
    return StreamedCbom(path=str(path), spec_version=doc.spec_version, head=head)


def schema_errors(data: dict[str, Any]) -> str | None:
    """The first schema error of an in-memory document, or None when it is valid."""
    spec = data.get("specVersion")
    if spec not in SUPPORTED_SPECS:
        return f"unsupported specVersion {spec!r}"
    return _first_error(data, spec)


# --- model -> CycloneDX -------------------------------------------------------------------------
# Carnot writes the document itself, as cyclonedx-python-lib's outputter writes it: the library
# serialises each asset's cryptoProperties (its model and its views of 1.6 and 1.7); the component
# around it, the metadata and the flat dependency graph are written here, with the library's
# orders (its sorted sets) and defaults. Its Bom path looked up every component's dependency entry
# in a linear scan (`Bom.validate` -> `register_dependency`, quadratic: 20 of 43 s for 5,000
# components) and kept every component in sorted sets; tests/cbom_library_path.py keeps it as the
# reference this writer is compared with.
_VIEWS = {"1.6": SchemaVersion1Dot6, "1.7": SchemaVersion1Dot7}


def _occurrence(ev: Evidence) -> dict[str, Any]:
    # CycloneDX occurrences have location and line but no slot for the source or the file digest;
    # additionalContext carries them as a small JSON object so they stay machine-readable.
    context = {"source": str(ev.source)}
    if ev.sha256:
        context["sha256"] = ev.sha256
    if ev.context:
        context["context"] = ev.context
    occurrence: dict[str, Any] = {"location": ev.location, "additionalContext": json.dumps(context, sort_keys=True)}
    if ev.line is not None:
        occurrence["line"] = ev.line
    return occurrence


def _properties(pairs: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """Properties as the library's sorted set of them: ordered by (name, value), each once."""
    return [{"name": name, "value": value} for name, value in sorted(set(pairs))]


def asset_to_component(asset: Asset, spec: str = DEFAULT_SPEC) -> dict[str, Any]:
    """One asset as a CycloneDX cryptographic-asset component (JSON)."""
    sources = sorted({str(ev.source) for ev in asset.evidence})
    properties = [*asset.properties, *((Prop.SOURCE, s) for s in sources if (Prop.SOURCE, s) not in asset.properties)]
    component: dict[str, Any] = {"type": "cryptographic-asset", "bom-ref": asset.bom_ref, "name": asset.name,
                                 "cryptoProperties": json.loads(asset.crypto.as_json(view_=_VIEWS[spec]))}  # type: ignore[attr-defined]
    if asset.evidence:
        # Sorted by content: the library's set order for occurrences without a bom-ref depends on object ids.
        component["evidence"] = {"occurrences": sorted(map(_occurrence, asset.evidence), key=canonical_json)}
    if properties:
        component["properties"] = _properties(properties)
    return component


def shard_to_document(shard: Shard, spec: str = DEFAULT_SPEC, *, timestamp: datetime | None = None) -> dict[str, Any]:
    """A shard as a CycloneDX JSON document (a dict)."""
    if spec not in SUPPORTED_SPECS:
        raise CbomError(f"cannot write CycloneDX {spec}; Carnot writes {', '.join(SUPPORTED_SPECS)}")
    meta_props = [(Prop.STAGE.value, shard.stage), *shard.properties]
    meta_props += [(Prop.GAP.value, g.to_json()) for g in shard.gaps]
    meta_props += [(Prop.SKIPPED.value, s.to_json()) for s in shard.skipped[:MAX_SKIPPED_LISTED]]
    if shard.skipped:
        meta_props.append((Prop.SKIPPED_COUNT.value, str(len(shard.skipped))))
    moment = timestamp or build_time()
    tool = {"type": "application", "bom-ref": CARNOT_TOOL_REF, "name": "carnot", "version": __version__}
    data: dict[str, Any] = {
        "$schema": f"http://cyclonedx.org/schema/bom-{spec}.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": spec,
        "version": 1,
        "metadata": {"timestamp": (moment if moment.tzinfo else moment.astimezone()).isoformat(),
                     "tools": {"components": [tool]}, "properties": _properties(meta_props)},
    }
    if shard.assets:
        # The library's component order: by name, then bom-ref (type, group and version are alike).
        ordered = sorted(shard.assets, key=lambda a: (a.name, a.bom_ref))
        data["components"] = [asset_to_component(a, spec) for a in ordered]
        data["dependencies"] = [{"ref": ref} for ref in sorted({a.bom_ref for a in shard.assets})]
    data["serialNumber"] = serial_number_for(data)
    return data


def serial_number_for(data: dict[str, Any]) -> str:
    """A serial number derived from the content, so identical documents have identical bytes."""
    body = {k: v for k, v in data.items() if k != "serialNumber"}
    # uuid5 of the hex of the canonical JSON, hashed as it is encoded (the same value as
    # uuid.uuid5(namespace, canonical_json(body).hex()), without the document as bytes and hex at once)
    digest = hashlib.sha1(_SERIAL_NAMESPACE.bytes, usedforsecurity=False)
    for chunk in canonical_json_chunks(body):
        digest.update(chunk.hex().encode("ascii"))
    return f"urn:uuid:{uuid.UUID(bytes=digest.digest()[:16], version=5)}"


def write_document(data: dict[str, Any], path: str | Path) -> Path:
    """Validate and write a CycloneDX document atomically, deterministic bytes."""
    problem = schema_errors(data)
    if problem is not None:
        raise CbomError(f"refusing to write an invalid CBOM: {problem}", path=path)
    return write_pretty_json(path, data)


def write_shard(shard: Shard, path: str | Path, spec: str = DEFAULT_SPEC) -> Path:
    return write_document(shard_to_document(shard, spec), path)


# --- CycloneDX -> model -------------------------------------------------------------------------

def _evidence_from_occurrence(occ: dict[str, Any]) -> Evidence:
    # Carnot writes {source, sha256, context} as JSON here; other tools write free text.
    raw = occ.get("additionalContext")
    extra: dict[str, Any] = {}
    if raw:
        try:
            parsed = parse_json_bytes(raw, "additionalContext")
        except InputError:
            parsed = None
        extra = parsed if isinstance(parsed, dict) else {"context": raw}
    try:
        source = Source(extra.get("source", ""))
    except ValueError:
        source = Source.STATIC
    return Evidence(
        source=source,
        location=str(occ.get("location", "")),
        line=occ.get("line"),
        sha256=_text_or_none(extra.get("sha256")),
        context=_text_or_none(extra.get("context")),
    )


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def document_assets(doc: CbomDocument) -> list[Asset]:
    """The cryptographic assets of a validated document, their cryptoProperties typed by cyclonedx-python-lib."""
    assets: list[Asset] = []
    # Components often state the same cryptoProperties (an algorithm, a protocol version): each
    # distinct one is typed once and shared, as nothing changes an asset's crypto after reading.
    # Keyed by repr, which tells apart every value JSON parses to (1, 1.0, True, "1") at a quarter
    # of canonical JSON's cost; the same fields in another order are only typed once more.
    typed: dict[str, CryptoProperties] = {}
    for raw in doc.components():
        if raw.get("type") != "cryptographic-asset" or "cryptoProperties" not in raw:
            continue
        key = repr(raw["cryptoProperties"])
        crypto = typed.get(key)
        if crypto is None:
            crypto = typed[key] = _library_crypto(raw, doc.path)
        occurrences = raw.get("evidence", {}).get("occurrences", [])
        assets.append(
            Asset(
                bom_ref=str(raw.get("bom-ref") or ""),
                name=str(raw.get("name", "")),
                crypto=crypto,
                evidence=tuple(_evidence_from_occurrence(o) for o in occurrences),
                properties=tuple((str(p.get("name")), str(p.get("value", ""))) for p in raw.get("properties", [])),
            )
        )
    return assets


_IKEV2_TRANSFORMS = ("encr", "prf", "integ", "ke", "auth")


def _as_library_reads(raw: dict[str, Any]) -> dict[str, Any]:
    """A component in the shapes cyclonedx-python-lib 11 models: 1.7's IKEv2 transforms are objects
    naming their algorithm ({name, keyLength, algorithm}), which the library cannot hash; as in 1.6,
    each becomes the ref of its algorithm. The document itself keeps the 1.7 form."""
    component = {k: v for k, v in raw.items() if k != "components"}
    protocol = component.get("cryptoProperties", {}).get("protocolProperties", {})
    transforms = protocol.get("ikev2TransformTypes")
    if isinstance(transforms, dict) and any(isinstance(t, dict) for k in _IKEV2_TRANSFORMS
                                            for t in transforms.get(k, []) if isinstance(transforms.get(k), list)):
        refs = {k: [t["algorithm"] if isinstance(t, dict) else t for t in transforms.get(k, [])
                    if not isinstance(t, dict) or "algorithm" in t] for k in _IKEV2_TRANSFORMS if k in transforms}
        component = {**component, "cryptoProperties": {**component["cryptoProperties"], "protocolProperties": {
            **protocol, "ikev2TransformTypes": {**{k: v for k, v in transforms.items() if k not in refs}, **refs}}}}
    return component


def _without_one_field(component: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The component with one cryptoProperties field left out, then one whole section, in turn."""
    crypto = component.get("cryptoProperties", {})
    for section in sorted(crypto):
        if isinstance(crypto[section], dict):
            for key in sorted(crypto[section]):
                kept = {k: v for k, v in crypto[section].items() if k != key}
                yield {**component, "cryptoProperties": {**crypto, section: kept}}
    for section in sorted(crypto):
        yield {**component, "cryptoProperties": {k: v for k, v in crypto.items() if k != section}}


def _library_crypto(raw: dict[str, Any], origin: str) -> CryptoProperties:
    """The library's CryptoProperties of a validated component. Only the cryptoProperties are read
    into the library's model, not the whole Component: its sorted sets of every other field were
    nine tenths of reading a document (the API's time). A field it still cannot model (a later
    spec's shape) is left out of the library's view, field by field; the document keeps it."""
    component = _as_library_reads(raw)
    error: Exception | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for attempt in itertools.chain([component], _without_one_field(component)):
            try:
                return CryptoProperties.from_json(attempt["cryptoProperties"])  # type: ignore[attr-defined,no-any-return]
            except Exception as e:  # the library raises what it likes on a value it cannot model
                error = error or e
    raise CbomError(f"{_component_label(raw)}: cyclonedx-python-lib cannot read it: "
                    f"{type(error).__name__}: {str(error)[:120]!r}", path=origin) from error


def document_timestamp(doc: CbomDocument) -> str | None:
    ts = doc.data.get("metadata", {}).get("timestamp")
    return str(ts) if ts else None
