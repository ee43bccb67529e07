"""boto3 at the edge: sessions per account (assume-role), clients with retries, paging with backoff.

Retries come in two layers. botocore's own retry mode (`adaptive` by default: client-side rate
limiting plus exponential backoff; `standard` is the alternative) handles most throttling. When a
call still fails with a throttling error after botocore's attempts, `Api` backs off itself
(exponential, full jitter, capped) and tries again, resuming a paginated listing at the page that
failed rather than from the start.

Nothing here logs or returns credentials; botocore's debug log (which prints response bodies,
STS credentials included) is held at WARNING by `quiet_sdk_logs`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol, TypeVar

import boto3
import botocore.session
import jmespath
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)
# botocore logs request and response bodies at DEBUG, STS credentials included.
_SDK_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")


def quiet_sdk_logs() -> None:
    for name in _SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


@dataclass(frozen=True)
class RetryPolicy:
    mode: str = "adaptive"  # botocore retry mode: "adaptive" or "standard"
    sdk_attempts: int = 5  # botocore's max_attempts (first call included)
    backoff_attempts: int = 5  # our own retries after botocore gives up on throttling
    backoff_base: float = 0.5  # seconds; delay = uniform(0, min(cap, base * 2**n))
    backoff_cap: float = 20.0
    connect_timeout: float = 10.0
    read_timeout: float = 60.0

    def config(self, max_pool: int) -> Config:
        return Config(
            retries={"mode": self.mode, "max_attempts": self.sdk_attempts},
            max_pool_connections=max(10, 2 * max_pool),  # task and detail pools share a client
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )


def error_code(error: BaseException) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "ClientError"))
    return type(error).__name__


def is_throttling(error: BaseException) -> bool:
    return isinstance(error, ClientError) and error_code(error) in THROTTLING_CODES


def describe_error(error: BaseException) -> str:
    """One line about an AWS failure: code and message, no request ids, no headers."""
    if isinstance(error, ClientError):
        message = str(error.response.get("Error", {}).get("Message", "")).strip()
        op = getattr(error, "operation_name", "")
        text = f"{error_code(error)} on {op}" if op else error_code(error)
        line = f"{text}: {message}" if message else text
    else:
        line = f"{type(error).__name__}: {error}"
    return " ".join(line.split())


class ClientFactory(Protocol):
    def client(self, service: str, region: str) -> BaseClient: ...


@dataclass
class SessionClients:
    """Clients of one boto3 session (one account), created once per (service, region), thread-safe."""

    session: boto3.Session
    endpoint_url: str | None
    retry: RetryPolicy
    max_pool: int = 10
    _cache: dict[tuple[str, str], BaseClient] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, service: str, region: str) -> BaseClient:
        # boto3 sessions are not thread-safe, clients are: create under the lock, share afterwards.
        with self._lock:
            key = (service, region)
            if key not in self._cache:
                self._cache[key] = self.session.client(
                    service,
                    region_name=region,
                    endpoint_url=self.endpoint_url,
                    config=self.retry.config(self.max_pool),
                )
            return self._cache[key]


@dataclass(frozen=True)
class Account:
    account_id: str
    clients: ClientFactory
    role_arn: str | None = None


def caller_account(clients: ClientFactory, region: str) -> str:
    identity = clients.client("sts", region).get_caller_identity()
    return str(identity["Account"])


def assume_role(
    base: boto3.Session,
    role_arn: str,
    *,
    region: str,
    endpoint_url: str | None,
    retry: RetryPolicy,
    max_pool: int = 10,
    session_name: str = "carnot-inventory",
    external_id: str | None = None,
) -> Account:
    """An account reached through sts:AssumeRole; its credentials live only in the returned session."""
    sts = base.client("sts", region_name=region, endpoint_url=endpoint_url, config=retry.config(2))
    params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session_name}
    if external_id:
        params["ExternalId"] = external_id
    creds = sts.assume_role(**params)["Credentials"]
    session = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )
    clients = SessionClients(session, endpoint_url, retry, max_pool)
    return Account(account_id=caller_account(clients, region), clients=clients, role_arn=role_arn)


class Api:
    """The calls one collection task makes: in one account and region, with backoff and paging."""

    def __init__(
        self,
        clients: ClientFactory,
        region: str,
        *,
        retry: RetryPolicy,
        details: Executor,
        page_size: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.clients = clients
        self.region = region
        self.retry = retry
        self.details = details
        self.page_size = page_size
        self.skipped: list[tuple[str, str]] = []
        self._sleep = sleep
        self._skipped_lock = threading.Lock()

    def client(self, service: str) -> BaseClient:
        return self.clients.client(service, self.region)

    def _with_backoff(self, attempt: Callable[[], T]) -> T:
        for n in range(self.retry.backoff_attempts + 1):
            try:
                return attempt()
            except ClientError as e:
                if not is_throttling(e) or n == self.retry.backoff_attempts:
                    raise
                delay = random.uniform(0, min(self.retry.backoff_cap, self.retry.backoff_base * 2**n))
                log.info("throttled (%s); backing off %.2fs", error_code(e), delay)
                self._sleep(delay)
        raise AssertionError("unreachable")

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        method = getattr(self.client(service), operation)
        response: dict[str, Any] = self._with_backoff(lambda: method(**params))
        return response

    def pages(self, service: str, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every page of a listing, following the service's own paginator model (botocore's data).

        Each page is one `call`, so a page that fails on throttling is retried alone with its
        token, never the listing from the start.
        """
        client = self.client(service)
        api_operation = client.meta.method_to_api_mapping[operation]
        model = _paginator_model(service, api_operation)
        if model is None:
            yield self.call(service, operation, **params)
            return
        inputs = _as_list(model["input_token"])
        outputs = _as_list(model["output_token"])
        limit_key = model.get("limit_key")
        more_results = model.get("more_results")
        request = dict(params)
        if self.page_size and limit_key:
            shape = client.meta.service_model.operation_model(api_operation).input_shape.members[limit_key]
            # Most APIs take the page size as an integer; CloudFront's MaxItems is a string.
            request[limit_key] = str(self.page_size) if shape.type_name == "string" else self.page_size
        previous: list[Any] | None = None
        while True:
            page = self.call(service, operation, **request)
            yield page
            tokens = [jmespath.search(expr, page) for expr in outputs]
            if more_results and not jmespath.search(more_results, page):
                return
            if all(t in (None, "") for t in tokens) or tokens == previous:
                return
            previous = tokens
            request.update(
                {key: tok for key, tok in zip(inputs, tokens, strict=True) if tok not in (None, "")}
            )

    def each(self, fetch: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """fetch(item) for every item, on the shared detail pool (bounded), results in item order."""
        return list(self.details.map(fetch, items))

    def skip(self, location: str, reason: str) -> None:
        with self._skipped_lock:
            self.skipped.append((location, reason))


@cache
def _paginator_model(service: str, api_operation: str) -> dict[str, Any] | None:
    model = botocore.session.get_session().get_paginator_model(service)
    try:
        return dict(model.get_paginator(api_operation))
    except ValueError:
        return None


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)
