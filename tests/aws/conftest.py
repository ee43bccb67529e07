"""AWS inventory fixtures: fake credentials, moto in-process and on a loopback server, a throttler."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aws_testing import ACCESS_MARKER, SECRET_MARKER

from assess.sources.aws.estate import moto_server


@pytest.fixture(autouse=True)
def fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never reach a real account: fake, recognisable credentials and no profile or metadata service."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_MARKER)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_MARKER)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ENDPOINT_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/carnot-test-aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/carnot-test-aws-credentials")


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    """A real moto server on 127.0.0.1 and a random port, fresh state."""
    with moto_server() as url:
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
        yield url
