"""Inventory AWS accounts × regions × services in parallel, bounded; failures become gaps.

The plan is explicit: every (account, region, service) is one task, global services (IAM,
CloudFront) once per account. Tasks run on a bounded pool; each task's per-resource calls
(describe_key, describe_certificate, ...) run on a second bounded pool, so a region with many keys
is fetched in parallel too. A task that fails is a `Gap` naming its scope and the AWS error; the
other tasks still complete. `concurrency=1` runs everything serially.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from assess.model import Asset, Gap, Prop, Shard, Skipped, props
from assess.sources.aws import acm, apigateway, cloudfront, elb, iam, kms, pca
from assess.sources.aws.scope import Scope
from assess.sources.aws.session import (
    Account,
    Api,
    RetryPolicy,
    SessionClients,
    assume_role,
    caller_account,
    describe_error,
    quiet_sdk_logs,
)

STAGE = "aws"
GLOBAL_REGION = "us-east-1"  # IAM and CloudFront answer in their home region
DEFAULT_CONCURRENCY = 8

# The registry of service collectors: modules with SERVICE, REGIONAL, fetch(api), to_assets(records, scope).
SERVICES: tuple[ModuleType, ...] = (kms, acm, pca, elb, apigateway, cloudfront, iam)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InventoryConfig:
    regions: tuple[str, ...] = ()  # empty: every region enabled in the first account
    role_arns: tuple[str, ...] = ()  # empty: the caller's own account
    endpoint_url: str | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    page_size: int | None = None  # None: each API's default page size
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    simulated: bool = False
    services: tuple[str, ...] = ()  # empty: all of SERVICES
    external_id: str | None = None


@dataclass(frozen=True)
class Task:
    account: Account
    region: str
    service: ModuleType

    @property
    def scope(self) -> Scope:
        return Scope(self.account.account_id, self.region)


@dataclass(frozen=True)
class TaskResult:
    assets: tuple[Asset, ...] = ()
    gap: Gap | None = None
    skipped: tuple[Skipped, ...] = ()


def collect(
    config: InventoryConfig,
    *,
    session: boto3.Session | None = None,
    progress: Callable[[int], None] | None = None,
) -> Shard:
    """Inventory every account and region of the config into one shard; never raises for AWS failures."""
    quiet_sdk_logs()
    base = session or boto3.Session()
    accounts, gaps = _accounts(base, config)
    regions = list(config.regions)
    if not regions and accounts:
        try:
            regions = _enabled_regions(accounts[0], config)
        except (ClientError, BotoCoreError) as e:
            gaps.append(Gap(STAGE, "aws:regions", f"could not list enabled regions: {describe_error(e)}"))
    tasks = plan(accounts, regions, _services(config))
    results = run(tasks, config, progress=progress)
    assets: dict[str, Asset] = {}
    skipped: list[Skipped] = []
    for result in results:
        for asset in result.assets:
            assets.setdefault(asset.bom_ref, asset)
        skipped += result.skipped
        if result.gap:
            gaps.append(result.gap)
    shard_props: list[tuple[str, Any]] = [(Prop.AWS_REGIONS, ",".join(regions))]
    shard_props += [(Prop.AWS_ACCOUNTS, ",".join(a.account_id for a in accounts))]
    if config.simulated:
        shard_props.append((Prop.SIMULATED, True))
    return Shard(
        stage=STAGE,
        assets=tuple(sorted(assets.values(), key=lambda a: a.bom_ref)),
        gaps=tuple(sorted(set(gaps), key=lambda g: (g.scope, g.reason))),
        skipped=tuple(sorted(skipped, key=lambda s: s.location)),
        properties=props(shard_props),
    )


def _services(config: InventoryConfig) -> tuple[ModuleType, ...]:
    if not config.services:
        return SERVICES
    return tuple(s for s in SERVICES if s.SERVICE in config.services)


def _accounts(base: boto3.Session, config: InventoryConfig) -> tuple[list[Account], list[Gap]]:
    region = config.regions[0] if config.regions else (base.region_name or GLOBAL_REGION)
    pool = max(1, config.concurrency)
    accounts: list[Account] = []
    gaps: list[Gap] = []
    if not config.role_arns:
        clients = SessionClients(base, config.endpoint_url, config.retry, pool)
        try:
            accounts.append(Account(caller_account(clients, region), clients))
        except (ClientError, BotoCoreError) as e:
            gaps.append(Gap(STAGE, "aws:caller", f"no usable credentials: {describe_error(e)}"))
        return accounts, gaps
    for role_arn in config.role_arns:
        try:
            accounts.append(
                assume_role(
                    base,
                    role_arn,
                    region=region,
                    endpoint_url=config.endpoint_url,
                    retry=config.retry,
                    max_pool=pool,
                    external_id=config.external_id,
                )
            )
        except (ClientError, BotoCoreError) as e:
            gaps.append(Gap(STAGE, f"aws:role:{role_arn}", f"assume-role failed: {describe_error(e)}"))
    return accounts, gaps


def _enabled_regions(account: Account, config: InventoryConfig) -> list[str]:
    ec2 = account.clients.client("ec2", GLOBAL_REGION)
    return sorted(r["RegionName"] for r in ec2.describe_regions()["Regions"])


def plan(accounts: Sequence[Account], regions: Sequence[str], services: Sequence[ModuleType]) -> list[Task]:
    tasks = []
    for account in accounts:
        for service in services:
            if service.REGIONAL:
                tasks += [Task(account, region, service) for region in regions]
            elif regions:
                tasks.append(Task(account, GLOBAL_REGION, service))
    return tasks


def run(
    tasks: Sequence[Task], config: InventoryConfig, progress: Callable[[int], None] | None = None
) -> list[TaskResult]:
    workers = max(1, config.concurrency)
    with (
        ThreadPoolExecutor(workers, thread_name_prefix="aws-task") as task_pool,
        ThreadPoolExecutor(workers, thread_name_prefix="aws-detail") as detail_pool,
    ):

        def one(task: Task) -> TaskResult:
            result = run_task(task, config, detail_pool)
            if progress:
                progress(1)
            return result

        return list(task_pool.map(one, tasks))


def run_task(task: Task, config: InventoryConfig, details: ThreadPoolExecutor) -> TaskResult:
    scope = Scope(task.account.account_id, task.region, simulated=config.simulated)
    api = Api(
        task.account.clients, task.region, retry=config.retry, details=details, page_size=config.page_size
    )
    label = scope.label(task.service.SERVICE)
    try:
        records = task.service.fetch(api)
        assets = task.service.to_assets(records, scope)
    except (ClientError, BotoCoreError) as e:
        log.warning("%s: %s", label, describe_error(e))
        return TaskResult(gap=Gap(STAGE, label, describe_error(e)), skipped=_skipped(api))
    return TaskResult(assets=tuple(assets), skipped=_skipped(api))


def _skipped(api: Api) -> tuple[Skipped, ...]:
    return tuple(Skipped(location=loc, reason=reason) for loc, reason in api.skipped)
