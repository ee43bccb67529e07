"""The shard writer as it was before the scale work: the whole document serialised by
cyclonedx-python-lib (Bom, its validate/register_dependency, its JSON outputter). Kept here, not in
the product, as the reference the faster writer (`assess.cbom.shard_to_document`) is compared with."""

from __future__ import annotations

import itertools
import json
import warnings
from datetime import datetime
from typing import Any

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
from cyclonedx.model.crypto import CryptoProperties
from cyclonedx.output.json import JsonV1Dot6, JsonV1Dot7

from assess import __version__
from assess.cbom import MAX_SKIPPED_LISTED, CbomDocument, serial_number_for
from assess.clock import build_time
from assess.fsio import canonical_json
from assess.model import Asset, Evidence, Prop, Shard


def _occurrence(ev: Evidence) -> Occurrence:
    context = {"source": str(ev.source)}
    if ev.sha256:
        context["sha256"] = ev.sha256
    if ev.context:
        context["context"] = ev.context
    return Occurrence(location=ev.location, line=ev.line, additional_context=json.dumps(context, sort_keys=True))


def asset_to_component(asset: Asset) -> Component:
    properties = [Property(name=k, value=v) for k, v in asset.properties]
    sources = sorted({str(ev.source) for ev in asset.evidence})
    properties += [Property(name=Prop.SOURCE, value=s) for s in sources if (Prop.SOURCE, s) not in asset.properties]
    evidence = ComponentEvidence(occurrences=[_occurrence(ev) for ev in asset.evidence]) if asset.evidence else None
    return Component(
        type=ComponentType.CRYPTOGRAPHIC_ASSET,
        name=asset.name,
        bom_ref=BomRef(asset.bom_ref),
        crypto_properties=asset.crypto,
        evidence=evidence,
        properties=properties,
    )


def shard_to_document(shard: Shard, spec: str = "1.6", *, timestamp: datetime | None = None) -> dict[str, Any]:
    meta_props = [Property(name=Prop.STAGE, value=shard.stage)]
    meta_props += [Property(name=k, value=v) for k, v in shard.properties]
    meta_props += [Property(name=Prop.GAP, value=g.to_json()) for g in shard.gaps]
    meta_props += [Property(name=Prop.SKIPPED, value=s.to_json()) for s in shard.skipped[:MAX_SKIPPED_LISTED]]
    if shard.skipped:
        meta_props.append(Property(name=Prop.SKIPPED_COUNT, value=str(len(shard.skipped))))
    metadata = BomMetaData(timestamp=timestamp or build_time(), properties=meta_props)
    tool = Component(type=ComponentType.APPLICATION, name="carnot", version=__version__, bom_ref=BomRef("carnot"))
    metadata.tools.components.add(tool)
    bom = Bom(components=[asset_to_component(a) for a in shard.assets], metadata=metadata)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        writer = JsonV1Dot7(bom) if spec == "1.7" else JsonV1Dot6(bom)
        data: dict[str, Any] = json.loads(writer.output_as_string())
    for comp in data.get("components", []):
        occurrences = comp.get("evidence", {}).get("occurrences")
        if occurrences:
            occurrences.sort(key=canonical_json)
    data.pop("serialNumber", None)
    data["serialNumber"] = serial_number_for(data)
    return data


def document_crypto(doc: CbomDocument) -> list[CryptoProperties | None]:
    """Each crypto asset's cryptoProperties as the reader had them before the scale work: the whole
    component read by the library (Component.from_json), its crypto_properties taken."""
    from assess.cbom import _as_library_reads, _without_one_field

    out = []
    for raw in doc.components():
        if raw.get("type") != "cryptographic-asset" or "cryptoProperties" not in raw:
            continue
        component = _as_library_reads(raw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for attempt in itertools.chain([component], _without_one_field(component)):
                try:
                    out.append(Component.from_json(attempt).crypto_properties)  # type: ignore[attr-defined]
                    break
                except Exception:  # as the reader did: the next attempt
                    continue
    return out
