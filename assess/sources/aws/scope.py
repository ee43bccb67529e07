"""Where a resource was seen (account, region) and how an AWS asset is assembled from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from cyclonedx.model.crypto import CryptoProperties

from assess.model import Asset, Evidence, Prop, Source, props, stable_ref
from assess.sources.aws.tags import ownership


@dataclass(frozen=True)
class Scope:
    """One account in one region (global services use their home region, us-east-1)."""

    account: str
    region: str
    simulated: bool = False

    def label(self, service: str | None = None) -> str:
        base = f"aws:{self.account}:{self.region}"
        return f"{base}:{service}" if service else base

    def asset(
        self,
        *,
        kind: str,
        arn: str,
        name: str,
        service: str,
        crypto: CryptoProperties,
        facts: Mapping[Prop, Any] = MappingProxyType({}),
        tags: Mapping[str, str] | None = None,
        context: str | None = None,
    ) -> Asset:
        """An asset whose identity is its ARN, with provenance, ownership and the simulated flag."""
        pairs: list[tuple[str, Any]] = [
            (Prop.SOURCE, str(Source.AWS)),
            (Prop.AWS_SERVICE, service),
            (Prop.AWS_ACCOUNT, self.account),
            (Prop.AWS_REGION, self.region),
            (Prop.AWS_ARN, arn),
        ]
        pairs += list(facts.items())
        pairs += list(ownership(tags or {}))
        if self.simulated:
            pairs.append((Prop.SIMULATED, True))
        return Asset(
            bom_ref=stable_ref(kind, arn),
            name=name,
            crypto=crypto,
            evidence=(Evidence(source=Source.AWS, location=arn, context=context),),
            properties=props(pairs),
        )
