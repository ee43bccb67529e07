"""`carnot serve --workers N`: N processes forked after start-up answer on one socket and stop together."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from serving import running_server
from test_attest_api import cbom_bytes

from tests.processes import children as _children


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


def _sockets(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:"):
            found.add(target)
    return found


def test_connections_opened_at_once_are_spread_over_the_workers() -> None:
    # Keep-alive clients that connect together must not all land on the worker that woke first
    # (asyncio alone accepts every waiting connection in one go): the other would idle meanwhile.
    with running_server("--workers", "2") as server:
        workers = sorted(_children(server.pid))
        time.sleep(0.5)  # the start-up health checks' connections are closed
        before = {pid: _sockets(pid) for pid in workers}
        clients = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(4)]
        try:
            deadline = time.monotonic() + 10
            held = {pid: len(_sockets(pid) - before[pid]) for pid in workers}
            while sum(held.values()) < 4 and time.monotonic() < deadline:
                time.sleep(0.1)
                held = {pid: len(_sockets(pid) - before[pid]) for pid in workers}
        finally:
            for client in clients:
                client.close()
        assert sorted(held.values()) == [2, 2], held


def test_a_worker_that_dies_is_replaced() -> None:
    with running_server("--workers", "2") as server:
        first = _children(server.pid)
        victim = min(first)
        os.kill(victim, 9)
        deadline = time.monotonic() + 30
        children = _children(server.pid)  # (one reading of /proc per check, judged as read)
        while (len(children) < 2 or victim in children) and time.monotonic() < deadline:
            time.sleep(0.1)
            children = _children(server.pid)
        assert len(children) == 2 and victim not in children, children
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200


_CRASHING_WORKERS = """
import sys
from assess.api import _Workers
def run():
    with open(sys.argv[1], "a") as fh:
        fh.write("started\\n")
    raise RuntimeError("a worker that cannot start")
_Workers(run, 2).supervise()
"""


def test_workers_that_die_at_once_are_replaced_ever_more_slowly(tmp_path: Path) -> None:
    """A worker that cannot start (a broken policy, no memory) must not make the supervisor fork
    as fast as it can: each quick death doubles the pause before the next replacement (up to
    10 s), and a stop is still obeyed at once."""
    import signal
    import subprocess
    import sys

    starts = tmp_path / "starts"
    supervisor = subprocess.Popen([sys.executable, "-c", _CRASHING_WORKERS, str(starts)], stderr=subprocess.PIPE,
                                  text=True)
    time.sleep(3)
    supervisor.send_signal(signal.SIGTERM)
    stopped = time.monotonic()
    _, stderr = supervisor.communicate(timeout=10)
    assert time.monotonic() - stopped < 2
    count = len(starts.read_text().splitlines())
    # 2 at once, then pauses of 0.1, 0.2, 0.4, 0.8 and 1.6 s: about 7 in 3 s (thousands without them)
    assert 4 <= count <= 10, count
    assert "died" in stderr and "its replacement starts in" in stderr


def test_a_worker_killed_during_its_turn_to_accept_does_not_stop_the_others() -> None:
    """The workers take turns to read the counts, accept and publish; the kernel ends the turn of
    a worker that dies in it (a lock a killed worker kept would stop every other from accepting)."""
    from assess.api import _Loads

    loads = _Loads(2)
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # a worker that takes its turn and is killed in it
        try:
            with loads.turn() as ours:
                os.write(ready_w, b"1" if ours else b"0")
                time.sleep(60)
        finally:
            os._exit(0)
    os.close(ready_w)  # (so that a child that fails before it writes ends the read)
    try:
        assert os.read(ready_r, 1) == b"1"
        with loads.turn() as ours:
            assert not ours
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(ready_r)
    with loads.turn() as ours:
        assert ours
    loads.lock_file.close()


def test_workers_that_cannot_lock_choose_without_turns_and_say_so(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A lock file that cannot be locked at all (ENOLCK: a temporary folder on NFS) must not stop a
    worker accepting (an error in its accept callback would recur on every loop turn)."""
    import errno
    import fcntl

    from assess.api import _Loads

    def no_locks(*_: object) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    loads = _Loads(2)
    monkeypatch.setattr(fcntl, "lockf", no_locks)
    with loads.turn() as first, loads.turn() as second:
        assert first and second
    assert [r.getMessage() for r in caplog.records].count(
        "the workers cannot take turns to accept (their lock file: No locks available); connections that arrive "
        "together may be spread less evenly") == 1
    loads.lock_file.close()


@contextlib.asynccontextmanager
async def _in_process_worker(slots: int) -> AsyncIterator[tuple[Any, socket.socket]]:
    """A worker (`_WorkerServer`) started in this process's running loop, in slot 0 of `slots`,
    on a listening socket of its own; stopped at the end."""
    import uvicorn

    from assess.api import _Loads, _Protocol, _WorkerServer, create_app

    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(8)
    config = uvicorn.Config(create_app(), http=_Protocol, log_level="warning")
    config.load()
    loads = _Loads(slots)
    server = _WorkerServer(config, listening, loads)
    server.lifespan = config.lifespan_class(config)  # (as uvicorn's serve() does before startup)
    await server.startup()
    try:
        yield server, listening
    finally:
        await server.shutdown()
        listening.close()
        loads.lock_file.close()


def test_a_connection_being_set_up_is_counted_once() -> None:
    """A worker's count of its connections (what the others compare theirs with) must not count a
    connection twice while it is set up: once accepted, and again once uvicorn has it. Counted
    twice, a worker holding one connection held back from a second while the other held one."""

    async def scenario() -> list[int]:
        async with _in_process_worker(1) as (server, listening):
            client = socket.socket()
            client.setblocking(False)
            try:
                client.connect_ex(listening.getsockname())
                held = []
                for _ in range(200):  # loop turns: the accept, the protocol made, the task done, and on
                    await asyncio.sleep(0)
                    held.append(server._held())
                return held
            finally:
                client.close()

    held = asyncio.run(scenario())
    assert held[-1] == 1 and max(held) == 1, held


async def _accepted_after(loads_setup: Callable[[Any], None], *, connections_before: int = 0) -> float:
    """Seconds from a client's connect until an in-process worker (slot 0 of two) holds it, with
    `loads_setup(loads)` run just before that connect."""
    async with _in_process_worker(2) as (server, listening):
        clients = []

        async def connect_and_wait(held: int) -> float:
            client = socket.socket()
            client.setblocking(False)
            clients.append(client)
            start = time.monotonic()
            client.connect_ex(listening.getsockname())
            while server._held() < held and time.monotonic() - start < 10:
                await asyncio.sleep(0.001)
            return time.monotonic() - start

        try:
            for n in range(connections_before):
                await connect_and_wait(n + 1)
            loads_setup(server.loads)
            return await connect_and_wait(connections_before + 1)
        finally:
            for client in clients:
                client.close()


def test_a_worker_holding_more_waits_two_head_starts_while_the_other_does_not_take_it() -> None:
    """The other worker (alive, holding none) never accepts here: the worker holding one waits its
    head start, sees the other still holding fewer, waits one more, then takes the connection."""
    from assess.api import ACCEPT_HEAD_START_S

    def another_idle_worker(loads: Any) -> None:
        loads.pids[1], loads.counts[1] = os.getppid(), 0  # (a living process: the worker that does not accept)

    waited = asyncio.run(_accepted_after(another_idle_worker, connections_before=1))
    assert waited >= 2 * ACCEPT_HEAD_START_S, waited


def test_a_worker_accepts_only_in_its_turn() -> None:
    """While another worker holds the turn (a forked process here), the worker does not accept,
    however few connections it holds; it accepts once the turn is free."""
    hold_s = 0.3
    holders: list[int] = []

    def another_worker_choosing(loads: Any) -> None:
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                with loads.turn():
                    os.write(ready_w, b"1")
                    time.sleep(hold_s)
            finally:
                os._exit(0)
        holders.append(pid)
        os.close(ready_w)
        assert os.read(ready_r, 1) == b"1"
        os.close(ready_r)

    try:
        waited = asyncio.run(_accepted_after(another_worker_choosing))
    finally:
        for pid in holders:
            os.waitpid(pid, 0)
    assert hold_s * 0.8 <= waited < 10, waited
