"""The attestation API over real HTTP against a running uvicorn: 200, 400, 422, 413, concurrency."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import httpx
from cyclonedx.model.crypto import (
    CryptoAssetType,
    CryptoProperties,
    ProtocolProperties,
    ProtocolPropertiesType,
)
from serving import SDE

from assess.api import attest_body
from assess.attest import AttestConfig, collect_provenance
from assess.cbom import shard_to_document
from assess.model import Asset, Prop, Shard, props


def cbom_bytes(*flows: tuple[str, str, str]) -> bytes:
    """A CBOM of observed TLS flows (ref, negotiated group, data class), as a producer writes it."""
    assets = tuple(
        Asset(
            bom_ref=ref, name=f"TLS {ref}",
            crypto=CryptoProperties(
                asset_type=CryptoAssetType.PROTOCOL,
                protocol_properties=ProtocolProperties(type=ProtocolPropertiesType.TLS, version="1.3"),
            ),
            properties=props({Prop.SOURCE: "runtime", Prop.TLS_NEGOTIATED_GROUP: group, Prop.DATA_CLASS: cls,
                              Prop.RUNTIME_ENDPOINT: "10.0.0.1:443", Prop.RUNTIME_HANDSHAKES: "3"}),
        )
        for ref, group, cls in flows
    )
    return json.dumps(shard_to_document(Shard(stage="runtime", assets=assets))).encode()


def _assert_json_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == code and response.json()["message"]


def _still_serving(server) -> None:
    body = cbom_bytes(("carnot:tls:alive", "x25519", "internal"))
    response = httpx.post(f"{server.url}/attest", content=body, timeout=60)
    assert response.status_code == 200
    assert httpx.get(f"{server.url}/healthz", timeout=10).json()["status"] == "ok"


def test_a_real_cbom_gets_its_attestation_and_markdown(server):
    body = cbom_bytes(("carnot:tls:a", "x25519", "secret"), ("carnot:tls:b", "X25519MLKEM768", "secret"))
    response = httpx.post(f"{server.url}/attest", content=body, headers={"content-type": "application/json"},
                          timeout=60)
    assert response.status_code == 200, response.text
    answer = response.json()
    statement = answer["attestation"]
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    digest = hashlib.sha256(body).hexdigest()
    assert statement["subject"] == [{"name": "bom.cdx.json", "digest": {"sha256": digest}}]
    results = {r["bom_ref"]: r for r in statement["predicate"]["exposure"]["results"]}
    assert results["carnot:tls:a"]["exposed"] is True and results["carnot:tls:a"]["exposure_years"] == 15.0
    assert results["carnot:tls:b"]["risk"] == "quantum_safe"
    assert statement["predicate"]["policy"]["status"] == "not_assessed"
    assert statement["predicate"]["generated_at"] == "2026-01-01T00:00:00Z"  # the server's SOURCE_DATE_EPOCH
    assert "## Summary" in answer["markdown"] and "## What was not assessed" in answer["markdown"]


def test_an_outside_tools_cbom_from_the_conformance_set_is_attested(server, conformance_cboms):
    for path in conformance_cboms:
        body = Path(path).read_bytes()
        response = httpx.post(f"{server.url}/attest", content=body, timeout=60)
        assert response.status_code == 200, f"{path.name}: {response.text[:300]}"
        assert response.json()["attestation"]["predicate"]["summary"]["components"] > 0


def _as_sent(answer: dict) -> bytes:
    """How the API encodes an answer: compact JSON, UTF-8 left as it is (Starlette's JSONResponse)."""
    return json.dumps(answer, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def test_the_answer_on_the_wire_is_the_attestation_as_compact_json_byte_for_byte(server, conformance_cboms,
                                                                                    monkeypatch):
    # Pins the bytes, not just the parsed JSON: a faster encoder or a pre-encoded response must
    # send exactly what the attestation function's result encodes to.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", SDE)
    provenance = collect_provenance([])
    bodies = [cbom_bytes(("carnot:tls:ü", "x25519", "secret"), ("carnot:tls:\u2603", "X25519MLKEM768", "pii"))]
    bodies += [Path(path).read_bytes() for path in conformance_cboms[:3]]
    for body in bodies:
        response = httpx.post(f"{server.url}/attest", content=body, timeout=60)
        assert response.status_code == 200, response.text[:300]
        expected = _as_sent(attest_body(body, AttestConfig(), provenance))
        assert response.content == expected
        assert response.headers["content-type"] == "application/json"
        assert response.headers["content-length"] == str(len(expected))


def test_same_body_twice_gives_the_same_answer_no_state_between_requests(server):
    body = cbom_bytes(("carnot:tls:s", "secp256r1", "pii"))
    other = cbom_bytes(("carnot:tls:t", "x25519", "health"))
    first = httpx.post(f"{server.url}/attest", content=body, timeout=60).json()
    httpx.post(f"{server.url}/attest", content=other, timeout=60)
    assert httpx.post(f"{server.url}/attest", content=body, timeout=60).json() == first


def test_malformed_json_is_400_and_the_server_keeps_serving(server):
    for bad in (b"{not json", b"", b"\xff\xfe\x00garbage", b'{"bomFormat": "CycloneDX",'):
        _assert_json_error(httpx.post(f"{server.url}/attest", content=bad, timeout=30), 400, "malformed_json")
    _still_serving(server)


def test_json_that_is_not_a_cbom_is_422(server):
    not_cboms = [
        {"hello": "world"},
        [1, 2, 3],
        {"bomFormat": "CycloneDX", "specVersion": "1.4", "version": 1},
        {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": "one", "components": "nope"},
    ]
    for doc in not_cboms:
        response = httpx.post(f"{server.url}/attest", content=json.dumps(doc).encode(), timeout=30)
        _assert_json_error(response, 422, "not_a_cbom")
    _still_serving(server)


def test_oversized_bodies_are_413_declared_or_streamed_and_the_server_keeps_serving(server):
    too_big = b" " * (server.max_body + 1)
    _assert_json_error(httpx.post(f"{server.url}/attest", content=too_big, timeout=30), 413, "body_too_large")

    def chunked():  # no Content-Length: the limit must hold while the body streams in
        for _ in range(64):
            yield b" " * 65536

    streamed = httpx.post(f"{server.url}/attest", content=chunked(), timeout=30)
    _assert_json_error(streamed, 413, "body_too_large")
    _still_serving(server)


def test_fifty_concurrent_requests_are_all_answered_correctly(server):
    bodies = [cbom_bytes((f"carnot:tls:c{i}", "x25519" if i % 2 else "X25519MLKEM768", "secret"))
              for i in range(50)]

    async def fire() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as client:
            return await asyncio.gather(*(client.post("/attest", content=b) for b in bodies))

    responses = asyncio.run(fire())
    for i, (body, response) in enumerate(zip(bodies, responses, strict=True)):
        assert response.status_code == 200, response.text
        statement = response.json()["attestation"]
        assert statement["subject"][0]["digest"]["sha256"] == hashlib.sha256(body).hexdigest()
        (result,) = statement["predicate"]["exposure"]["results"]
        assert result["bom_ref"] == f"carnot:tls:c{i}"
        assert result["exposed"] is bool(i % 2)


def test_openapi_documents_the_endpoints_and_errors(server):
    spec = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
    attest = spec["paths"]["/attest"]["post"]
    assert {"200", "400", "413", "422"} <= set(attest["responses"])
    assert "application/json" in attest["requestBody"]["content"]
    assert "/healthz" in spec["paths"]
    assert httpx.get(f"{server.url}/docs", timeout=10).status_code == 200
