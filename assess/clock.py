"""Build time that honours SOURCE_DATE_EPOCH, so outputs are reproducible."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from assess.errors import ConfigError


def source_date_epoch() -> int | None:
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError as e:
        raise ConfigError(f"SOURCE_DATE_EPOCH must be an integer number of seconds, got {raw!r}") from e
    if value < 0:
        raise ConfigError(f"SOURCE_DATE_EPOCH must not be negative, got {value}")
    return value


def build_time() -> datetime:
    """SOURCE_DATE_EPOCH when set, else now; always UTC, whole seconds."""
    epoch = source_date_epoch()
    if epoch is not None:
        return datetime.fromtimestamp(epoch, tz=UTC)
    return datetime.now(tz=UTC).replace(microsecond=0)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
