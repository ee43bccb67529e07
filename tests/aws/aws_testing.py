"""Helpers shared by the AWS inventory tests: marker credentials, fast retries, a throttling hook."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from assess.sources.aws import RetryPolicy

SECRET_MARKER = "CARNOT-TEST-SECRET-7f3a9c"
ACCESS_MARKER = "AKIACARNOTTESTMARKER"
# Quick retries for tests: botocore's attempts stay real, its sleeps stay short.
FAST_RETRY = RetryPolicy(
    mode="standard", sdk_attempts=2, backoff_attempts=6, backoff_base=0.01, backoff_cap=0.05
)


class Body:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


@dataclass
class Throttler:
    """A botocore before-send hook answering ThrottlingException for the first `remaining` matching calls."""

    remaining: int
    served: int = 0
    throttled: list[str] = field(default_factory=list)

    def __call__(self, request: Any, **kwargs: Any) -> AWSResponse | None:
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else str(target)).rsplit(".", 1)[-1]
        self.served += 1
        if self.remaining <= 0:
            return None
        self.remaining -= 1
        self.throttled.append(operation or request.url)
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
        return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.1"}, Body(body))


def session_with(*hooks: tuple[str, Any]) -> boto3.Session:
    session = boto3.Session(region_name="us-east-1")
    for event, handler in hooks:
        session.events.register_first(event, handler)
    return session
