"""The attestation API: `POST /attest` with a CycloneDX CBOM as JSON -> attestation + Markdown.

FastAPI on uvicorn (`carnot serve`). Nothing is kept between requests: every request builds its
statement from its own body and the settings fixed when the app was made. The body limit is
enforced while the body streams in (a declared Content-Length over the limit is refused before
reading, and a chunked body is cut off as soon as it passes the limit), so an oversized request
never sits whole in memory. Errors are JSON: `{"error": <code>, "message": <text>}`.

The API attests a CBOM alone: there are no gate results, so the policy is `not_assessed` and the
gap list says so; the subject is the posted document (`bom.cdx.json`) with its sha256.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from assess import __version__
from assess.attest import AttestConfig, Provenance, Subject, build_statement, collect_provenance
from assess.attest_markdown import render_markdown
from assess.cbom import validate_document
from assess.errors import CbomError, InputError
from assess.fsio import parse_json_bytes

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
SUBJECT_NAME = "bom.cdx.json"


@dataclass(frozen=True)
class ApiSettings:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    config: AttestConfig = field(default_factory=AttestConfig)


class AttestResponse(BaseModel):
    attestation: dict[str, Any]
    markdown: str


class ErrorResponse(BaseModel):
    error: str
    message: str


class Health(BaseModel):
    status: str
    version: str


class _TooLarge(Exception):
    pass


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": code, "message": message})


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def attest_body(body: bytes, config: AttestConfig, provenance: Provenance) -> dict[str, Any]:
    """Parse, validate and attest one posted CBOM. Raises InputError (bad JSON) or CbomError."""
    data = parse_json_bytes(body, "request body")
    doc = validate_document(data, "request body")
    digest = hashlib.sha256(body).hexdigest()
    statement, _ = build_statement(
        doc,
        gate=None,
        stages=None,
        subjects=[Subject(SUBJECT_NAME, digest)],
        provenance=dataclasses.replace(provenance, inputs=(("bom", SUBJECT_NAME, digest),)),
        config=config,
    )
    return {"attestation": statement, "markdown": render_markdown(statement)}


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    # Tool, git and library versions do not change while the server runs: read them once.
    provenance = collect_provenance([])
    app = FastAPI(
        title="Carnot attestation API",
        version=__version__,
        description="Post a CycloneDX 1.6/1.7 CBOM; get an in-toto Statement v1 with "
        "harvest-now-decrypt-later exposure, and a Markdown report. Stateless.",
    )

    @app.get("/healthz", response_model=Health, summary="Liveness")
    async def healthz() -> Health:
        return Health(status="ok", version=__version__)

    @app.post(
        "/attest",
        response_model=AttestResponse,
        summary="Attest a CBOM",
        responses={
            400: {"model": ErrorResponse, "description": "the body is not JSON"},
            413: {"model": ErrorResponse, "description": f"the body is over {settings.max_body_bytes} bytes"},
            422: {"model": ErrorResponse, "description": "the JSON is not valid CycloneDX 1.6/1.7"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "a CycloneDX 1.6 or 1.7 document (a CBOM), as JSON",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    )
    async def attest(request: Request) -> Any:
        try:
            body = await _read_limited(request, settings.max_body_bytes)
        except _TooLarge:
            limit = settings.max_body_bytes
            return _error(413, "body_too_large", f"request body is over the {limit} byte limit")
        try:
            return await run_in_threadpool(attest_body, body, settings.config, provenance)
        except CbomError as e:
            return _error(422, "not_a_cbom", e.one_line())
        except InputError as e:
            return _error(400, "malformed_json", e.one_line())

    return app
