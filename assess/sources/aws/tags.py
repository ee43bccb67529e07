"""Owner, data classification and data shelf-life from cloud tags, with documented defaults.

Tag keys are matched case-insensitively, first match wins, in the order listed. When the data
class or the shelf-life is not stated by a tag, the defaults below are used and the asset is
marked `carnot:shelf_life_defaulted = true` (docs/AWS.md, "Tags and defaults").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from assess.model import Prop

OWNER_KEYS: tuple[str, ...] = ("carnot:owner", "owner", "team", "contact")
DATA_CLASS_KEYS: tuple[str, ...] = (
    "carnot:data_class",
    "data-classification",
    "dataclassification",
    "data_classification",
    "classification",
)
SHELF_LIFE_KEYS: tuple[str, ...] = (
    "carnot:shelf_life_years",
    "data-shelf-life-years",
    "datashelflifeyears",
    "data_shelf_life_years",
    "shelf-life-years",
    "shelf_life_years",
)

DEFAULT_OWNER = "unassigned"
DEFAULT_DATA_CLASS = "internal"
# How long data of each class must stay confidential, in years (Mosca's "x"), when no tag says.
SHELF_LIFE_BY_CLASS: dict[str, int] = {
    "public": 0,
    "internal": 5,
    "confidential": 10,
    "restricted": 25,
    "secret": 25,
}
DEFAULT_SHELF_LIFE_YEARS = SHELF_LIFE_BY_CLASS[DEFAULT_DATA_CLASS]

_YEARS = re.compile(r"^\s*(\d{1,3})\s*(y|yr|yrs|year|years)?\s*$", re.IGNORECASE)


def tag_map(tags: Iterable[Mapping[str, str]] | Mapping[str, str] | None) -> dict[str, str]:
    """AWS tags in any of their shapes ([{Key, Value}], [{TagKey, TagValue}], {k: v}) as a dict."""
    if not tags:
        return {}
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items()}
    out: dict[str, str] = {}
    for tag in tags:
        key = tag.get("Key", tag.get("TagKey"))
        if key is not None:
            out[str(key)] = str(tag.get("Value", tag.get("TagValue", "")))
    return out


def _first(tags: Mapping[str, str], keys: tuple[str, ...]) -> str | None:
    lowered = {k.lower(): v for k, v in tags.items()}
    for key in keys:
        value = lowered.get(key)
        if value is not None and value.strip():
            return value.strip()
    return None


def shelf_life_years(text: str) -> int | None:
    m = _YEARS.match(text)
    return int(m.group(1)) if m else None


def ownership(tags: Mapping[str, str]) -> tuple[tuple[str, str | int | bool], ...]:
    """The ownership properties of an asset with these tags, defaults applied and flagged; tags verbatim."""
    owner = _first(tags, OWNER_KEYS)
    data_class = _first(tags, DATA_CLASS_KEYS)
    stated_life = _first(tags, SHELF_LIFE_KEYS)
    years = shelf_life_years(stated_life) if stated_life is not None else None
    defaulted = years is None or data_class is None
    if years is None:
        years = SHELF_LIFE_BY_CLASS.get((data_class or DEFAULT_DATA_CLASS).lower(), DEFAULT_SHELF_LIFE_YEARS)
    pairs: list[tuple[str, str | int | bool]] = [
        (Prop.OWNER, owner or DEFAULT_OWNER),
        (Prop.DATA_CLASS, (data_class or DEFAULT_DATA_CLASS).lower()),
        (Prop.SHELF_LIFE_YEARS, years),
        (Prop.SHELF_LIFE_DEFAULTED, defaulted),
        (Prop.AWS_TAGGED, bool(tags)),
    ]
    pairs += [(f"{Prop.TAG_PREFIX}{key}", value) for key, value in sorted(tags.items())]
    return tuple(pairs)
