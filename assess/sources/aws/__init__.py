"""AWS cloud inventory: KMS, ACM, ACM PCA, ELB, CloudFront, API Gateway and IAM into one CBOM shard.

from assess.sources.aws import InventoryConfig, collect
shard = collect(InventoryConfig(regions=("eu-west-1",), role_arns=("arn:aws:iam::111:role/Audit",)))

from assess.sources.aws import simulated_estate
with simulated_estate() as estate:
    shard = collect(estate.config(), session=estate.session())
"""

from assess.sources.aws.collect import DEFAULT_CONCURRENCY, SERVICES, InventoryConfig, collect
from assess.sources.aws.estate import SimulatedEstate, simulated_estate, simulated_shard
from assess.sources.aws.session import RetryPolicy

__all__ = [
    "DEFAULT_CONCURRENCY",
    "SERVICES",
    "InventoryConfig",
    "RetryPolicy",
    "SimulatedEstate",
    "collect",
    "simulated_estate",
    "simulated_shard",
]
