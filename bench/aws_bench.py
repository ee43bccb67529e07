"""AWS inventory on a moto server: 3 regions × (2,000 KMS keys + 500 ACM certificates).

The moto server runs in a child process (as AWS is another machine), seeded directly through
moto's backends (sharing one generated key pair per key spec) so seeding is not what is
measured. The same inventory (KMS and ACM: list, describe, rotation, tags; about 21,000 API
calls) runs twice in this one run: serially (concurrency 1) and with the default concurrency,
and the ratio of the two times is reported.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
KEYS_PER_REGION = 2_000
CERTS_PER_REGION = 500

_SERVER = r"""
import sys
from datetime import datetime, timedelta, timezone
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from moto.acm.models import acm_backends
from moto.kms.models import kms_backends
from moto.server import ThreadedMotoServer
import logging
logging.getLogger("werkzeug").setLevel(logging.ERROR)

import moto.kms.models
# moto makes a fresh RSA-2048 key pair for every KMS key, symmetric ones included (0.1 s each):
# in this seeding-only process they share one per spec, so 6,000 keys seed in seconds.
_pairs = {}
_generate = moto.kms.models.generate_private_key
def _shared_pair(spec):
    if spec not in _pairs:
        _pairs[spec] = _generate(spec)
    return _pairs[spec]
moto.kms.models.generate_private_key = _shared_pair

account, regions, keys, certs = "123456789012", sys.argv[1].split(","), int(sys.argv[2]), int(sys.argv[3])
key = ec.generate_private_key(ec.SECP256R1())
key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
now = datetime.now(timezone.utc)
for region in regions:
    kms = kms_backends[account][region]
    for i in range(keys):
        tags = [{"TagKey": "Owner", "TagValue": f"team-{i % 17}"}] if i % 3 else None
        k = kms.create_key(None, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", f"bench key {i}", tags)
        if i % 2:
            kms.enable_key_rotation(k.id)
    acm = acm_backends[account][region]
    for i in range(certs):
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"h{i}.{region}.example.com")])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                .not_valid_after(now + timedelta(days=90 + i)).sign(key, hashes.SHA256()))
        acm.import_certificate(cert.public_bytes(serialization.Encoding.PEM), key_pem, None, None, [])
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
print(f"http://{host}:{port}", flush=True)
sys.stdin.read()
server.stop()
"""


def _inventory(url: str, concurrency: int) -> tuple[float, int, int]:
    import boto3

    from assess.sources.aws import InventoryConfig, collect

    session = boto3.Session(aws_access_key_id="AKIABENCHMARK0000000", aws_secret_access_key="bench",
                            region_name=REGIONS[0])
    config = InventoryConfig(regions=REGIONS, endpoint_url=url, concurrency=concurrency,
                             services=("kms", "acm"))
    started = time.perf_counter()
    shard = collect(config, session=session)
    return time.perf_counter() - started, len(shard.assets), len(shard.gaps)


def run() -> dict[str, Any]:
    from assess.sources.aws import DEFAULT_CONCURRENCY

    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, ",".join(REGIONS), str(KEYS_PER_REGION), str(CERTS_PER_REGION)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the moto server did not start (exit {server.poll()})")
        seeded = time.perf_counter() - started
        serial_s, serial_assets, serial_gaps = _inventory(url, 1)
        parallel_s, parallel_assets, parallel_gaps = _inventory(url, DEFAULT_CONCURRENCY)
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=30)
    expected = len(REGIONS) * (KEYS_PER_REGION + CERTS_PER_REGION)
    if {serial_assets, parallel_assets} != {expected} or serial_gaps or parallel_gaps:
        raise RuntimeError(f"incomplete inventory: {serial_assets}/{parallel_assets} of {expected} assets, "
                           f"gaps {serial_gaps}/{parallel_gaps}")
    return {
        "regions": len(REGIONS),
        "kms_keys": len(REGIONS) * KEYS_PER_REGION,
        "acm_certificates": len(REGIONS) * CERTS_PER_REGION,
        "assets": expected,
        "seed_s": round(seeded, 2),
        "serial_s": round(serial_s, 2),
        "concurrency": DEFAULT_CONCURRENCY,
        "concurrent_s": round(parallel_s, 2),
        "speedup_serial_over_concurrent": round(serial_s / parallel_s, 2),
        "assets_per_s_concurrent": round(expected / parallel_s, 1),
    }
