"""`assessment.json`: who an assessment is for, what it covers and when it was made.

`carnot assess` writes it from the configuration's `[assessment] client` and `scope` into the
assessment folder (so the attestation covers it); the PDF report's cover reads it and says
"not recorded" rather than guessing when it is absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from assess.clock import build_time, iso
from assess.errors import InputError
from assess.fsio import pretty_json, read_json, write_atomic

ASSESSMENT_INFO = "assessment.json"
_LIMIT = 200


@dataclass(frozen=True)
class AssessmentInfo:
    client: str | None
    scope: str | None
    date: str | None


def write_assessment_info(folder: str | Path, client: str, scope: str, when: datetime | None = None) -> Path:
    return write_atomic(Path(folder) / ASSESSMENT_INFO,
                        pretty_json({"client": client, "scope": scope, "date": iso(when or build_time())}))


def read_assessment_info(folder: str | Path) -> AssessmentInfo:
    path = Path(folder) / ASSESSMENT_INFO
    if not path.exists():
        return AssessmentInfo(None, None, None)
    data = read_json(path)
    if not isinstance(data, dict):
        raise InputError("expected a JSON object with client, scope and date", path=path)

    def text(key: str) -> str | None:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            return None
        return value if len(value) <= _LIMIT else value[: _LIMIT - 1] + "…"

    return AssessmentInfo(text("client"), text("scope"), text("date"))
