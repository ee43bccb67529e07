"""`carnot serve --workers N`: N processes forked after start-up answer on one socket and stop together."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import httpx
from serving import running_server
from test_attest_api import cbom_bytes


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _post_concurrently(url: str, body: bytes, count: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=60) as client:
        return await asyncio.gather(*(client.post(f"{url}/attest", content=body,
                                                  headers={"content-type": "application/json"})
                                      for _ in range(count)))


def test_two_workers_answer_on_one_port_and_stop_with_the_server() -> None:
    body = cbom_bytes(("h.example", "x25519", "secret"))
    with running_server("--workers", "2") as server:
        workers = _children(server.pid)
        assert len(workers) == 2
        responses = asyncio.run(_post_concurrently(server.url, body, 8))
        assert {r.status_code for r in responses} == {200}
        assert len({r.content for r in responses}) == 1  # the same body, the same answer, whichever worker
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)


def test_a_worker_that_dies_is_replaced() -> None:
    with running_server("--workers", "2") as server:
        first = _children(server.pid)
        victim = min(first)
        os.kill(victim, 9)
        deadline = time.monotonic() + 30
        while (len(_children(server.pid)) < 2 or victim in _children(server.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_children(server.pid)) == 2 and victim not in _children(server.pid)
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
