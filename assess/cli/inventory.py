"""`carnot inventory aws --out FILE [--regions R1,R2] [--role-arn ARN ...] [--endpoint-url URL]`."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

import boto3

from assess.cbom import write_shard
from assess.cli.output import emit_json, emit_table, progress
from assess.errors import ConfigError
from assess.model import Prop, Shard
from assess.sources.aws import DEFAULT_CONCURRENCY, InventoryConfig, RetryPolicy, collect, simulated_estate
from assess.sources.aws.estate import simulated_session


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assess.cli import add_common

    inventory = sub.add_parser("inventory", help="inventory cloud cryptography into a CBOM shard")
    clouds = inventory.add_subparsers(dest="cloud", metavar="CLOUD", parser_class=type(inventory))
    clouds.required = True
    p = clouds.add_parser(
        "aws",
        help="AWS: KMS, ACM, ACM PCA, ELB, CloudFront, API Gateway, IAM (read-only)",
        description=run.__doc__,
    )
    p.add_argument("--out", required=True, metavar="FILE", help="the CBOM shard to write (e.g. aws.cdx.json)")
    p.add_argument("--regions", metavar="R1,R2", help="regions to inventory (default: every enabled region)")
    p.add_argument(
        "--role-arn",
        action="append",
        default=[],
        metavar="ARN",
        help="assume this role for one account (repeat for several accounts)",
    )
    p.add_argument("--endpoint-url", metavar="URL", help="send every AWS call here (e.g. a moto server)")
    p.add_argument("--external-id", metavar="ID", help="sts:AssumeRole ExternalId, if the roles require one")
    p.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"parallel calls at most (default {DEFAULT_CONCURRENCY}; 1 = serial)",
    )
    p.add_argument(
        "--retry-mode",
        choices=("adaptive", "standard"),
        default="adaptive",
        help="botocore retry mode (default adaptive)",
    )
    p.add_argument(
        "--simulated",
        action="store_true",
        help="inventory the built-in simulated estate (a moto server on loopback); output is "
        "labelled simulated",
    )
    add_common(p, json_report=True)
    p.set_defaults(handler=run)


def _regions(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    regions = tuple(r.strip() for r in text.split(",") if r.strip())
    if not regions:
        raise ConfigError(f"--regions: no region in {text!r}")
    return regions


@contextlib.contextmanager
def _target(
    args: argparse.Namespace, config: InventoryConfig
) -> Iterator[tuple[InventoryConfig, boto3.Session | None]]:
    if not args.simulated:
        yield config, None
        return
    if args.endpoint_url:
        raise ConfigError("--simulated starts its own endpoint; do not combine it with --endpoint-url")
    with simulated_estate() as estate:
        yield (
            estate.config(
                regions=config.regions or estate.regions,
                role_arns=config.role_arns or estate.role_arns,
                concurrency=config.concurrency,
                retry=config.retry,
            ),
            simulated_session(),
        )


def run(args: argparse.Namespace) -> int:
    """Inventory AWS cryptography (read-only) into one CBOM shard; failed regions/accounts become gaps."""
    if args.concurrency < 1:
        raise ConfigError(f"--concurrency must be at least 1, got {args.concurrency}")
    config = InventoryConfig(
        regions=_regions(args.regions),
        role_arns=tuple(args.role_arn),
        endpoint_url=args.endpoint_url,
        concurrency=args.concurrency,
        retry=RetryPolicy(mode=args.retry_mode),
        external_id=args.external_id,
    )
    with _target(args, config) as (effective, session), progress("inventorying AWS") as advance:
        shard = collect(effective, session=session, progress=advance)
    write_shard(shard, args.out)
    _report(args, shard)
    return 0


def _report(args: argparse.Namespace, shard: Shard) -> None:
    by_service: dict[str, int] = {}
    for asset in shard.assets:
        service = asset.prop(Prop.AWS_SERVICE) or "?"
        by_service[service] = by_service.get(service, 0) + 1
    simulated = any(k == Prop.SIMULATED for k, _ in shard.properties)
    if args.json:
        emit_json(
            {
                "out": args.out,
                "simulated": simulated,
                "assets": len(shard.assets),
                "assets_by_service": dict(sorted(by_service.items())),
                "gaps": [{"stage": g.stage, "scope": g.scope, "reason": g.reason} for g in shard.gaps],
                "skipped": len(shard.skipped),
            }
        )
        return
    rows = [(f"{service} assets", str(n)) for service, n in sorted(by_service.items())]
    rows += [("gaps", str(len(shard.gaps)))] + [(f"  gap {g.scope}", g.reason) for g in shard.gaps]
    rows += [("skipped resources", str(len(shard.skipped)))]
    title = f"AWS inventory -> {args.out}" + (" (SIMULATED estate)" if simulated else "")
    emit_table(title, rows)
