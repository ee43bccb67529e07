"""The attestation API: `POST /attest` with a CycloneDX CBOM as JSON -> attestation + Markdown.

FastAPI on uvicorn (`carnot serve`, or `serve(...)` here). Nothing is kept between requests: every
request builds its statement from its own body and the settings fixed when the app was made.
Errors are JSON: `{"error": <code>, "message": <text>}`.

Hostile clients get bounded time and memory (docs/API.md, Limits):
- the body limit holds while the body streams in (a declared Content-Length over it is refused
  before reading; a chunked body is cut off as soon as it passes it);
- a body must arrive within `body_timeout` seconds in all, with no gap longer than `idle_timeout`
  (else 408, and the connection is closed);
- at most `max_concurrent_uploads` requests receive a body at once; another waits up to
  `idle_timeout` for a slot, then gets 503 with Retry-After; so bodies in memory stay under
  max_concurrent_uploads x max_body_bytes;
- a connection running no request (just opened, between requests, or still sending a body that was
  already refused) is closed `idle_timeout` seconds after it went idle (`_Protocol`), and uvicorn
  serves at most `max_connections` connections (503 beyond), with request heads up to 16 KiB.

The API attests a CBOM alone: there are no gate results, so the policy is `not_assessed` and the
gap list says so; the subject is the posted document (`bom.cdx.json`) with its sha256.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import fcntl
import gc
import hashlib
import logging
import multiprocessing
import os
import signal
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from uvicorn.protocols.http.h11_impl import H11Protocol

from assess import __version__
from assess.attest import AttestConfig, Provenance, Subject, build_statement, collect_provenance
from assess.attest_markdown import render_markdown
from assess.cbom import validate_document
from assess.errors import CbomError, InputError
from assess.fsio import parse_json_bytes
from assess.model import parse_count

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_REQUEST_HEAD_BYTES = 16 * 1024  # request line and headers; h11 answers 400 beyond
SUBJECT_NAME = "bom.cdx.json"


@dataclass(frozen=True)
class ApiSettings:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    body_timeout: int = 60  # seconds to receive a whole body
    idle_timeout: int = 10  # seconds a client may send nothing, mid-body or with no request running
    max_concurrent_uploads: int = 8
    max_connections: int = 100
    config: AttestConfig = field(default_factory=AttestConfig)


class AttestResponse(BaseModel):
    attestation: dict[str, Any]
    markdown: str


class ErrorResponse(BaseModel):
    error: str
    message: str


class Health(BaseModel):
    status: str
    version: str


class _Refused(Exception):
    """A request answered with an error before its body was (fully) received."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.response = _error(status, code, message, headers)


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": code, "message": message}, headers=headers)


async def _receive_body(request: Request, settings: ApiSettings, uploads: asyncio.Semaphore) -> bytes:
    """The whole body, within the size limit and the timeouts, holding one of the upload slots."""
    declared = request.headers.get("content-length")
    if declared is not None:
        length = parse_count(declared)  # h11 has checked the digits; None means over 18 of them
        if length is None or length > settings.max_body_bytes:
            raise _too_large(settings)
    try:
        await asyncio.wait_for(uploads.acquire(), settings.idle_timeout)
    except TimeoutError:
        raise _Refused(503, "too_many_uploads", f"{settings.max_concurrent_uploads} uploads are being received "
                       "already; retry later", {"retry-after": str(settings.idle_timeout)}) from None
    try:
        return await _read_timed(request.stream(), settings)
    finally:
        uploads.release()


async def _read_timed(stream: AsyncIterator[bytes], settings: ApiSettings) -> bytes:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.body_timeout
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - loop.time()
        try:
            async with asyncio.timeout(min(settings.idle_timeout, left)):
                chunk = await anext(stream)
        except StopAsyncIteration:
            return b"".join(chunks)
        except TimeoutError:
            why = (f"no body data for {settings.idle_timeout} s" if left > settings.idle_timeout
                   else f"the body was not received within {settings.body_timeout} s")
            # the client is stalled: answer, and close rather than wait for the rest
            raise _Refused(408, "body_timeout", why, {"connection": "close"}) from None
        except ClientDisconnect:
            raise _Refused(400, "client_disconnected", "the client went away mid-body") from None
        size += len(chunk)
        if size > settings.max_body_bytes:
            raise _too_large(settings)
        chunks.append(chunk)


def _too_large(settings: ApiSettings) -> _Refused:
    return _Refused(413, "body_too_large", f"request body is over the {settings.max_body_bytes} byte limit")


def attest_body(body: bytes, config: AttestConfig, provenance: Provenance) -> dict[str, Any]:
    """Parse, validate and attest one posted CBOM. Raises InputError (bad JSON) or CbomError."""
    data = parse_json_bytes(body, "request body")
    doc = validate_document(data, "request body")
    digest = hashlib.sha256(body).hexdigest()
    statement, _ = build_statement(
        doc,
        gate=None,
        stages=None,
        subjects=[Subject(SUBJECT_NAME, digest)],
        provenance=dataclasses.replace(provenance, inputs=(("bom", SUBJECT_NAME, digest),)),
        config=config,
    )
    return {"attestation": statement, "markdown": render_markdown(statement)}


def _attested(body: bytes, config: AttestConfig, provenance: Provenance) -> JSONResponse:
    # A response, not the dict: FastAPI would validate and re-encode the whole statement against
    # the response model first, a third of a request's time. Encoded here, in the attesting thread,
    # so the event loop does not hold the interpreter for it while other connections send bodies.
    return JSONResponse(attest_body(body, config, provenance))


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    # Tool, git and library versions do not change while the server runs: read them once.
    provenance = collect_provenance([])
    uploads = asyncio.Semaphore(settings.max_concurrent_uploads)
    # One attestation at a time: it is CPU-bound Python, which several threads only run in turn
    # while contending for the GIL (server CPU a request 102-108 ms instead of 121, bench api).
    attesting = asyncio.Semaphore(1)
    app = FastAPI(
        title="Carnot attestation API",
        version=__version__,
        description="Post a CycloneDX 1.6/1.7 CBOM; get an in-toto Statement v1 with "
        "harvest-now-decrypt-later exposure, and a Markdown report. Stateless.",
    )

    @app.get("/healthz", response_model=Health, summary="Liveness")
    async def healthz() -> Health:
        return Health(status="ok", version=__version__)

    @app.post(
        "/attest",
        response_model=AttestResponse,
        summary="Attest a CBOM",
        responses={
            400: {"model": ErrorResponse, "description": "the body is not JSON, or nests too deep, or has a "
                  "number out of bounds"},
            408: {"model": ErrorResponse, "description": f"the body did not arrive within {settings.body_timeout} s, "
                  f"or stalled for {settings.idle_timeout} s"},
            413: {"model": ErrorResponse, "description": f"the body is over {settings.max_body_bytes} bytes"},
            422: {"model": ErrorResponse, "description": "the JSON is not valid CycloneDX 1.6/1.7, or a carnot:* "
                  "property has a value of the wrong type"},
            503: {"model": ErrorResponse, "description": f"{settings.max_concurrent_uploads} uploads are being "
                  "received already (see Retry-After)"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "a CycloneDX 1.6 or 1.7 document (a CBOM), as JSON",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    )
    async def attest(request: Request) -> Any:
        try:
            body = await _receive_body(request, settings, uploads)
        except _Refused as refused:
            return refused.response
        try:
            async with attesting:
                return await run_in_threadpool(_attested, body, settings.config, provenance)
        except CbomError as e:
            return _error(422, "not_a_cbom", e.one_line())
        except InputError as e:
            return _error(400, "malformed_json", e.one_line())

    return app


class _Protocol(H11Protocol):
    """uvicorn's h11 protocol, plus a deadline for a connection that runs no request.

    uvicorn times out an idle connection only after a response, and cancels that timer on any byte:
    a client that connects and sends nothing, trickles a request head, or stalls in the rest of a
    body the app already refused would keep its connection forever. Here such a connection is
    closed `timeout_keep_alive` seconds after it went idle, whatever trickles in; a request in the
    app is bounded by the app's own body timeouts instead.
    """

    _deadline: asyncio.TimerHandle | None = None
    on_made: Callable[[], None] | None = None  # a worker's: the connection is now among the server's
    on_lost: Callable[[], None] | None = None  # a worker's: it publishes how many connections it holds

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.on_made is not None:
            self.on_made()
        self._restart_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._restart_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)
        if self.on_lost is not None:
            self.on_lost()

    def _restart_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(self.timeout_keep_alive, self._on_deadline)

    def _on_deadline(self) -> None:
        running = self.cycle is not None and not self.cycle.response_complete
        if not running and not self.transport.is_closing():
            self.transport.close()


def serve(settings: ApiSettings, host: str, port: int, *, workers: int = 1, verbose: bool = False) -> None:
    """Run the API on uvicorn until interrupted, with the connection limits of `settings`; with
    workers > 1, that many processes forked after start-up serve one listening socket, each with
    those limits (a process attests one request at a time: one core each)."""
    app = create_app(settings)
    # What is imported and built by now lives as long as the server: frozen out of the collector's
    # sight, the collections each request triggers no longer walk it (measured: 121 instead of
    # 145-148 ms of server CPU a request, bench api). Forked workers share it copy-on-write.
    gc.freeze()
    config = uvicorn.Config(
        app, host=host, port=port, http=_Protocol,
        timeout_keep_alive=settings.idle_timeout, limit_concurrency=settings.max_connections,
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
        log_level="debug" if verbose else "warning", access_log=verbose,
    )
    if workers == 1:
        uvicorn.Server(config).run()
        return
    listening = config.bind_socket()
    listening.listen(config.backlog)  # (uvicorn's listener would; the workers accept themselves)
    loads = _Loads(workers)
    _Workers(lambda: _WorkerServer(config, listening, loads).run(), workers).supervise()


# How long a worker holding more connections than another waits before it accepts a new one, so the
# other takes it first (longer than the 5 ms an attesting thread may keep the event loop's waiting).
ACCEPT_HEAD_START_S = 0.01
HEAD_STARTS = 2  # at most, in a row, for one connection
# How long a worker that found another choosing waits before it looks at the socket again.
TURN_WAIT_S = 0.001
# How long a starting worker waits for its turn to claim a slot (one stopped in its turn, SIGSTOP,
# would otherwise keep it from ever serving).
CLAIM_WAIT_S = 5.0


class _Loads:
    """How many connections each worker holds, in memory the workers share (made before they fork).
    A slot is a worker's pid and its count; a replacement takes the slot of a worker that died.

    A worker reads the others' counts, accepts and publishes its own in one turn: a record lock on
    a file made before the fork, which the kernel releases if its holder dies. Without it a worker
    read a count another had not yet published after its accept and held back while the two were
    even (then both held back, and whichever waited less took the connection: 1 and 3 of 4, ~1 burst
    in 100)."""

    def __init__(self, workers: int) -> None:
        self.pids = multiprocessing.RawArray("i", workers)
        self.counts = multiprocessing.RawArray("i", workers)
        self.lock_file = tempfile.TemporaryFile()  # (record locks are the process's: not inherited)
        self.unlockable = False
        self.slot = -1

    def claim(self) -> None:
        deadline = time.monotonic() + CLAIM_WAIT_S
        while True:
            with self.turn() as ours:
                if ours or time.monotonic() > deadline:  # (a worker stopped in its turn: claim all the same)
                    for i, pid in enumerate(self.pids):
                        if pid == 0 or not _alive(pid):
                            self.pids[i], self.counts[i], self.slot = os.getpid(), 0, i
                            return
                    return
            time.sleep(TURN_WAIT_S)

    @contextlib.contextmanager
    def turn(self) -> Iterator[bool]:
        """Whether this worker has the turn (False: another worker is choosing right now). Where the
        file cannot be locked at all (ENOLCK: a temporary folder on NFS), the workers choose without
        taking turns, as they did before turns, and each worker says so once."""
        if self.unlockable:
            yield True
            return
        try:
            fcntl.lockf(self.lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EACCES):
                self.unlockable = True
                log.warning("the workers cannot take turns to accept (their lock file: %s); connections that "
                            "arrive together may be spread less evenly", e.strerror)
            locked = False
        else:
            locked = True
        if not locked:
            yield self.unlockable
            return
        try:
            yield True
        finally:
            fcntl.lockf(self.lock_file, fcntl.LOCK_UN)

    def publish(self, held: int) -> None:
        if self.slot >= 0:
            self.counts[self.slot] = held

    def fewest_elsewhere(self) -> int | None:
        """The fewest connections another living worker holds (None: no other worker)."""
        others = [count for i, (pid, count) in enumerate(zip(self.pids, self.counts, strict=True))
                  if i != self.slot and pid and _alive(pid)]
        return min(others, default=None)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _WorkerServer(uvicorn.Server):
    """A worker: uvicorn, but it accepts connections from the socket the workers share itself, one at
    a time, and one holding more connections than another worker gives it a head start.

    asyncio accepts every connection waiting when its loop wakes, and every worker's loop wakes: a few
    keep-alive clients that connect at once all went to one worker, which then served every request
    while the other idled (bench api: 4 connections, one worker with all the CPU, 9-11 instead of
    17-22 requests/s, whichever worker won).
    """

    def __init__(self, config: uvicorn.Config, listening: socket.socket, loads: _Loads) -> None:
        super().__init__(config)
        self.listening, self.loads = listening, loads
        self.deferred: asyncio.TimerHandle | None = None
        self.connecting: set[asyncio.Task[None]] = set()  # (the loop holds tasks weakly)
        self.unmade = 0  # accepted connections whose protocol is not yet among the server's connections

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # the app and its lifespan, with no listener of uvicorn's own
        self.loop = asyncio.get_running_loop()
        self.loads.claim()
        self.listening.setblocking(False)
        self.loop.add_reader(self.listening.fileno(), self._readable)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._stop_watching()
        await super().shutdown(sockets=sockets)

    def _held(self) -> int:
        return len(self.server_state.connections) + self.unmade

    def _publish(self) -> None:
        self.loads.publish(self._held())

    def _readable(self) -> None:
        self._choose(head_starts=0)

    def _choose(self, head_starts: int) -> None:
        """In its turn: accept the waiting connection, or, holding more connections than another
        worker, give the others a head start first, and a second one if another still holds fewer
        when the first ends (it may have been holding back itself, and waited longer: its own head
        start ends about now). After HEAD_STARTS, this worker takes the connection whatever the counts."""
        with self.loads.turn() as ours:
            if not ours:  # another worker is choosing: look again in a moment, as far on as now
                self._pause(TURN_WAIT_S, lambda: self._resume(head_starts))
                return
            fewest = self.loads.fewest_elsewhere()
            if head_starts < HEAD_STARTS and fewest is not None and self._held() > fewest:
                self._pause(ACCEPT_HEAD_START_S, lambda: self._resume(head_starts + 1))
            else:
                self._accept()

    def _resume(self, head_starts: int) -> None:
        self._watch()
        if head_starts:  # the connection still waiting, if no other worker took it meanwhile
            self._choose(head_starts)

    def _accept(self) -> None:
        try:
            connection, _ = self.listening.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return  # another worker took it, or the client gave up
        except OSError as e:  # out of descriptors or memory: as asyncio does, stop accepting for a second
            log.warning("accepting a connection failed (%s); accepting again in 1 s", e)
            self._pause(1.0, self._watch)
            return
        connection.setblocking(False)
        self.unmade += 1
        task = self.loop.create_task(self._serve_connection(connection))
        self.connecting.add(task)
        task.add_done_callback(self.connecting.discard)
        self._publish()

    async def _serve_connection(self, connection: socket.socket) -> None:
        made = False

        def counted() -> None:  # no longer "accepted, being set up": once, whichever comes first
            nonlocal made
            if not made:
                made = True
                self.unmade -= 1

        try:
            # (once made, the protocol is among the server's connections: counted there alone)
            await self.loop.connect_accepted_socket(lambda: self._new_protocol(counted), connection)
        except OSError:
            connection.close()
        finally:
            if not made:  # failed, or cancelled (at shutdown: its connection_made may still come)
                counted()
                self._publish()

    def _new_protocol(self, on_made: Callable[[], None]) -> _Protocol:
        protocol = _Protocol(config=self.config, server_state=self.server_state, app_state=self.lifespan.state)
        protocol.on_made, protocol.on_lost = on_made, self._publish
        return protocol

    def _pause(self, seconds: float, then: Callable[[], None]) -> None:
        self._stop_watching()
        self.deferred = self.loop.call_later(seconds, then)

    def _watch(self) -> None:
        self.deferred = None
        self.loop.add_reader(self.listening.fileno(), self._readable)

    def _stop_watching(self) -> None:
        if self.deferred is not None:
            self.deferred.cancel()
            self.deferred = None
        self.loop.remove_reader(self.listening.fileno())


# A worker that dies sooner than this after it started is replaced only after a pause, doubled
# each time in a row (up to the maximum): a worker that cannot start (a broken policy file, no
# memory) does not make the supervisor fork as fast as it can.
QUICK_DEATH_S = 1.0
FIRST_PAUSE_S = 0.1
MAX_PAUSE_S = 10.0


class _Workers:
    """Pre-forked server processes on one socket: a worker that dies is replaced (after a pause
    that grows while workers keep dying at once); SIGINT or SIGTERM stops them all (each finishes
    the requests it is running, as uvicorn does on SIGTERM)."""

    def __init__(self, run: Callable[[], None], count: int) -> None:
        self.run, self.count = run, count
        self.pids: dict[int, float] = {}  # worker pid -> when it starts serving (monotonic)
        self.stopping = False
        self.pause = 0.0

    def supervise(self) -> None:
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not self.stopping:
                while len(self.pids) < self.count and not self.stopping:
                    self._fork(self.pause)
                with contextlib.suppress(ChildProcessError, InterruptedError):
                    pid, status = os.wait()
                    started = self.pids.pop(pid, None)
                    if started is not None and not self.stopping:
                        self._died(pid, status, time.monotonic() - started)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for pid in self.pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            for pid in self.pids:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
            self.pids.clear()

    def _died(self, pid: int, status: int, lived: float) -> None:
        code = os.waitstatus_to_exitcode(status)
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        if lived < QUICK_DEATH_S:
            self.pause = min(MAX_PAUSE_S, max(FIRST_PAUSE_S, self.pause * 2))
            log.warning("worker %d died %.2f s after it started (%s); its replacement starts in %.1f s", pid, lived,
                        how, self.pause)
        else:
            self.pause = 0.0
            log.warning("worker %d died (%s); replacing it", pid, how)

    def _fork(self, pause: float) -> None:
        """A worker, which first waits `pause` seconds: the supervisor itself never sleeps, so it
        reaps, replaces and stops workers at once (a stop kills a pausing worker too)."""
        pid = os.fork()
        if pid == 0:  # the worker: uvicorn installs its own signal handlers
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_DFL)
            code = 0
            try:
                if pause:
                    time.sleep(pause)
                self.run()
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        self.pids[pid] = time.monotonic() + pause  # (when it starts serving, after its pause)

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True  # os.wait() returns once the workers have stopped
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
