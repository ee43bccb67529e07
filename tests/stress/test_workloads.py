"""The stress workloads for real, without a sensor: each starts its servers and its clients move
TLS traffic for a moment, and the connections are accounted for as the harness needs them."""

from __future__ import annotations

import shutil
from contextlib import ExitStack
from pathlib import Path

import pytest

from stress.loadgen import REQUEST_BYTES, LoadPool, LoadResult, run_load
from stress.workloads import BULK_BYTES, WORKLOADS


def run(name: str, folder: Path) -> LoadResult:
    with ExitStack() as stack:
        return run_load(WORKLOADS[name].start(folder, stack, 2).workers, 1.0)


@pytest.mark.parametrize("name", ["handshakes", "bulk", "requests"])
def test_each_workload_moves_traffic_and_records_every_connection(name: str, tmp_path: Path) -> None:
    load = run(name, tmp_path)
    assert load.errors == 0 and load.completed > 0
    assert len(load.client_ends) == load.handshakes > 0
    assert all(openssl for _, _, openssl in load.client_ends)
    if name == "bulk":
        assert load.completed >= BULK_BYTES  # at least one whole file fetched
    if name == "requests":  # 4 clients: each its long-lived connection and one of the phase's own
        assert load.handshakes == 8 and load.bytes_moved == 2 * REQUEST_BYTES * load.completed


def test_requests_keep_their_long_lived_connections_across_phases_with_one_new_handshake_each(
        tmp_path: Path) -> None:
    with ExitStack() as stack:
        pool = stack.enter_context(LoadPool(WORKLOADS["requests"].start(tmp_path, stack, 2).workers))
        first, second = pool.run(0.5), pool.run(0.5)
    assert first.errors == second.errors == 0 and second.completed > 0
    assert first.handshakes == 8 and second.handshakes == len(second.client_ends) == 4
    # the long-lived connections are the ones opened second in the first phase, not new in the next
    long_lived = {port for port, _, _ in first.client_ends[1::2]}
    assert len(long_lived) == 4 and not long_lived & {port for port, _, _ in second.client_ends}


def test_the_mixed_population_runs_every_client_kind(tmp_path: Path) -> None:
    load = run("mixed", tmp_path)
    kinds = {"python-ssl ipv4", "python-ssl ipv6", "tlslite-ng ipv4"}
    if shutil.which("go"):  # the harness builds its Go client where Go is installed (nox -s stress installs it)
        kinds.add("go ipv4+ipv6")
    assert load.errors == 0 and set(load.by_client) == kinds and all(load.by_client.values())
    not_openssl = load.by_client["tlslite-ng ipv4"] + load.by_client.get("go ipv4+ipv6", 0)
    assert sum(not openssl for _, _, openssl in load.client_ends) == not_openssl
