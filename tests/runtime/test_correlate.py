"""Joining the process view and the wire view by the connection's client endpoint."""

from __future__ import annotations

import json

from tlsbytes import app_data, ccs, client_hello, records, server_hello

from assess.sources.runtime.correlate import Correlator, Kind, ProbeEvent, ProcessInfo, WireFlow
from assess.sources.runtime.reassembly import Endpoint, Stream
from assess.sources.runtime.wire import summarise_handshake

CLIENT, SERVER = Endpoint("127.0.0.1", 40001), Endpoint("127.0.0.1", 8443)


def wire_flow(group: int = 0x11EC) -> WireFlow:
    c, s = Stream(), Stream()
    c.add(1, records(22, client_hello(groups=(group, 0x1D), shares=((group, 1216),))) + ccs() + app_data(), 10.0)
    s.add(1, records(22, server_hello(share=group)) + ccs() + app_data(), 10.001)
    return WireFlow(CLIENT, SERVER, summarise_handshake(c, s), first_seen=10.0)


def probe(kind: Kind, ts: float, **kw: object) -> ProbeEvent:
    return ProbeEvent(kind=kind, ts=ts, tgid=42, tid=43, comm="curl", **kw)  # type: ignore[arg-type]


def correlator() -> Correlator:
    return Correlator(host="h", resolve=lambda pid: ProcessInfo("/usr/bin/curl", "OpenSSL", "3.0.19"), join_wait=1.0)


def test_uprobe_and_wire_views_join_into_one_record() -> None:
    c = correlator()
    c.on_probe(probe(Kind.CONNECT, 9.9, fd=5, src=CLIENT, dst=SERVER))
    c.on_probe(probe(Kind.SNI, 9.95, ssl=7, sni="pq.test"))
    c.on_probe(probe(Kind.HANDSHAKE_ENTER, 10.0, ssl=7))
    c.on_probe(probe(Kind.FD, 10.0, ssl=7, fd=5))
    c.on_probe(probe(Kind.HANDSHAKE_RETURN, 10.004, ssl=7, ret=1))
    c.on_flow(wire_flow(), now=10.01)
    [record] = c.drain(10.02)
    assert record["source"] == "uprobe+wire"
    assert (record["pid"], record["comm"], record["role"], record["exe"]) == (42, "curl", "client", "/usr/bin/curl")
    assert (record["library"], record["library_version"]) == ("OpenSSL", "3.0.19")
    assert record["negotiated_group"] == "X25519MLKEM768" and record["pq_hybrid"] is True
    assert record["key_shares_offered"] == ["X25519MLKEM768"]
    assert record["success"] is True and record["handshake_ms"] == 4.0
    assert (record["src_port"], record["dst_port"], record["sni"]) == (40001, 8443, "example.test")
    assert c.drain(99.0) == []  # the flow was claimed by the client; no extra wire record


def test_fd_socket_and_sni_sent_with_the_handshakes_first_event_join_like_separate_events() -> None:
    """The kernel keeps what SSL_set_fd and SSL_set_tlsext_host_name said before the handshake and
    sends it with the handshake's first event: the record is the one separate events give."""
    separate, joined = correlator(), correlator()
    separate.on_probe(probe(Kind.SNI, 9.95, ssl=7, sni="pq.test"))
    separate.on_probe(probe(Kind.FD, 9.96, ssl=7, fd=5, src=CLIENT, dst=SERVER, role="client"))
    separate.on_probe(probe(Kind.HANDSHAKE_ENTER, 10.0, ssl=7))
    joined.on_probe(
        probe(Kind.HANDSHAKE_ENTER, 10.0, ssl=7, fd=5, src=CLIENT, dst=SERVER, role="client", sni="pq.test")
    )
    records = []
    for c in (separate, joined):
        c.on_probe(probe(Kind.HANDSHAKE_RETURN, 10.004, ssl=7, ret=1))
        records.append(c.drain(12.0))  # no wire view: what is reported comes from the probes alone
    assert records[0] == records[1]
    [record] = records[1]
    assert (record["source"], record["role"], record["sni"]) == ("uprobe", "client", "pq.test")
    assert record["src_port"] == 40001


def test_wire_only_flow_is_attributed_by_accept_and_waits_for_the_join() -> None:
    c = correlator()
    c.on_probe(ProbeEvent(Kind.ACCEPT, 9.9, tgid=77, tid=78, comm="java", fd=9, src=CLIENT))
    c.on_flow(wire_flow(0x001D), now=10.01)
    assert c.drain(10.5) == []  # still waiting for a process view that might join
    [record] = c.drain(11.1)
    assert record["source"] == "wire" and record["role"] == "server" and record["pid"] == 77
    assert record["library"] is None  # never guessed from the wire
    assert record["negotiated_group"] == "x25519" and record["pq_hybrid"] is False


def test_uprobe_only_handshake_failure_is_reported_after_ssl_free() -> None:
    c = correlator()
    c.on_probe(probe(Kind.HANDSHAKE_ENTER, 10.0, ssl=8))
    c.on_probe(probe(Kind.HANDSHAKE_RETURN, 10.002, ssl=8, ret=-1))  # "call again", or failed: not known yet
    [] = c.drain(11.0)
    c.on_probe(probe(Kind.FREE, 11.004, ssl=8))
    [record] = c.drain(12.5)  # (after waiting its join_wait for a wire view)
    assert record["source"] == "uprobe" and record["success"] is False
    assert record["handshake_ms"] == 1004.0  # until SSL_free: when the failure became known
    assert record["negotiated_group"] is None and record["pq_hybrid"] is None  # not observed, so null


def test_a_zero_return_is_a_failure_once_no_success_follows() -> None:
    c = correlator()
    c.on_probe(probe(Kind.HANDSHAKE_ENTER, 10.0, ssl=8))
    c.on_probe(probe(Kind.HANDSHAKE_RETURN, 10.002, ssl=8, ret=0))
    assert c.drain(10.5) == []  # within the grace period a success could still follow
    [record] = c.drain(12.1)
    assert record["success"] is False and record["handshake_ms"] == 2.0


def implicit_start(ts: float, role: str, **kw: object) -> ProbeEvent:
    """The one event of a handshake the first SSL_read/SSL_write drove: its start, at its first
    receive on the socket, with the socket and the SSL object's role."""
    return probe(Kind.IMPLICIT_START, ts, ssl=9, fd=5, src=CLIENT, dst=SERVER, role=role, tls_role=role, **kw)


def test_an_implicit_handshake_ends_when_its_wire_view_does() -> None:
    c = correlator()
    c.on_probe(implicit_start(10.0, "client", sni="pq.test"))
    assert c.drain(10.5) == []  # no end yet: nothing in the process view says when it ends
    c.on_flow(wire_flow(), now=10.6)
    [record] = c.drain(10.6)
    assert (record["source"], record["role"], record["pid"], record["library"]) == ("uprobe+wire", "client", 42,
                                                                                    "OpenSSL")
    assert (record["success"], record["outcome_source"]) == (True, "wire")
    assert record["handshake_ms"] == wire_flow().handshake.handshake_ms  # the wire's, not the probes'
    assert c.correlation_timeouts == 0


def test_an_implicit_client_joins_its_clienthello_sent_a_slow_round_trip_before_its_start() -> None:
    """An implicit client's start is its first receive: the ServerHello's, which a far or busy server
    sends long after the ClientHello (here 300 ms, six times the views' clock slack)."""
    c = correlator()
    c.on_flow(wire_flow(), now=10.31)  # ClientHello at 10.0
    c.on_probe(implicit_start(10.3, "client"))
    [record] = c.drain(10.31)
    assert (record["source"], record["role"], record["success"]) == ("uprobe+wire", "client", True)
    assert c.correlation_timeouts == 0


def test_an_implicit_server_handshake_joins_the_same_way() -> None:
    c = correlator()
    c.on_flow(wire_flow(), now=10.01)  # (a server reads the ClientHello after it arrived)
    c.on_probe(implicit_start(10.002, "server"))
    [record] = c.drain(10.02)
    assert (record["source"], record["role"], record["success"], record["outcome_source"]) == (
        "uprobe+wire", "server", True, "wire")


def test_an_implicit_handshake_the_wire_never_saw_has_no_outcome() -> None:
    c = correlator()
    c.on_probe(implicit_start(10.0, "client"))
    c.on_probe(probe(Kind.EXIT, 10.5))
    [record] = c.drain(13.0)
    assert (record["source"], record["role"], record["src_port"]) == ("uprobe", "client", 40001)
    assert (record["success"], record["handshake_ms"], record["outcome_source"]) == (None, None, None)
    assert c.correlation_timeouts == 1  # its connection was known, and its wire view never came


def test_an_implicit_handshake_without_a_socket_keeps_its_objects_role() -> None:
    c = correlator()
    c.on_probe(probe(Kind.IMPLICIT_START, 10.0, ssl=9, tls_role="server"))
    c.on_probe(probe(Kind.EXIT, 10.5))
    [record] = c.drain(13.0)
    assert (record["role"], record["src_ip"], record["success"]) == ("server", None, None)


def test_an_explicit_handshakes_outcome_is_the_uprobes() -> None:
    c = correlator()
    c.on_probe(probe(Kind.HANDSHAKE_ENTER, 10.0, ssl=7, fd=5, src=CLIENT, dst=SERVER, role="client"))
    c.on_probe(probe(Kind.HANDSHAKE_RETURN, 10.004, ssl=7, ret=1))
    c.on_flow(wire_flow(), now=10.01)
    [record] = c.drain(10.02)
    assert (record["success"], record["handshake_ms"], record["outcome_source"]) == (True, 4.0, "uprobe")


def test_tables_are_bounded_and_evictions_counted() -> None:
    c = Correlator(host="h", max_entries=10)
    for port in range(25):
        c.on_probe(ProbeEvent(Kind.CONNECT, 1.0, tgid=1, tid=1, comm="x", fd=port, src=Endpoint("10.0.0.1", port)))
    assert c.cache_evictions == 30  # 15 from each of the two socket tables


def test_fd_and_ssl_address_reused_by_many_connections_before_a_drain_each_join_their_own() -> None:
    c = correlator()
    flows = []
    for i in range(40):  # one worker: same fd, same SSL* address (malloc reuses it), new connection each time
        t = 10.0 + i * 0.01
        client = Endpoint("127.0.0.1", 41000 + i)
        c.on_probe(probe(Kind.CONNECT, t, fd=11, src=client, dst=SERVER))
        c.on_probe(probe(Kind.FD, t + 0.001, ssl=7, fd=11))
        c.on_probe(probe(Kind.HANDSHAKE_ENTER, t + 0.002, ssl=7))
        c.on_probe(probe(Kind.HANDSHAKE_RETURN, t + 0.005, ssl=7, ret=1))
        c.on_probe(probe(Kind.FREE, t + 0.006, ssl=7))
        flows.append(WireFlow(client, SERVER, wire_flow().handshake, first_seen=t))
    for flow in flows:
        c.on_flow(flow, now=11.0)
    records = c.drain(11.0)
    assert len(records) == 40
    assert all(r["source"] == "uprobe+wire" for r in records)
    assert sorted(r["src_port"] for r in records) == list(range(41000, 41040))


def test_owners_of_a_wire_only_flow_are_looked_up_only_when_its_join_window_closes() -> None:
    asked: list[tuple[Endpoint, Endpoint, float, tuple[str, ...]]] = []

    def owners(client: Endpoint, server: Endpoint, before: float, roles: tuple[str, ...]) -> list[ProbeEvent]:
        asked.append((client, server, before, roles))
        return [ProbeEvent(Kind.ACCEPT, 9.9, tgid=77, tid=78, comm="tlslite", fd=9, src=client)]

    c = Correlator(host="h", lookup_owners=owners, join_wait=1.0)
    c.on_flow(wire_flow(0x001D), now=10.01)
    assert c.drain(10.5) == [] and asked == []
    [record] = c.drain(11.1)
    assert asked == [(CLIENT, SERVER, 10.01, ("client", "server"))]
    assert (record["source"], record["role"], record["pid"], record["comm"]) == ("wire", "server", 77, "tlslite")


def test_owners_the_wire_view_brought_are_used_instead_of_a_lookup() -> None:
    def owners(client: Endpoint, server: Endpoint, before: float, roles: tuple[str, ...]) -> list[ProbeEvent]:
        raise AssertionError("the flow said who owns its ends")

    c = Correlator(host="h", lookup_owners=owners, join_wait=1.0)
    c.on_probe(ProbeEvent(Kind.HANDSHAKE_ENTER, 10.0, tgid=42, tid=42, comm="curl", ssl=7, fd=5, src=CLIENT,
                          dst=SERVER, role="client"))
    c.on_probe(ProbeEvent(Kind.HANDSHAKE_RETURN, 10.004, tgid=42, tid=42, comm="curl", ssl=7, ret=1))
    brought = (ProbeEvent(Kind.CONNECT, 9.9, tgid=42, tid=42, comm="curl", fd=5, src=CLIENT, dst=SERVER),
               ProbeEvent(Kind.ACCEPT, 9.9, tgid=77, tid=78, comm="nginx", fd=9, src=CLIENT))
    c.on_flow(wire_flow()._replace(owners=brought), now=10.01)
    records = c.drain(10.02) + c.drain(11.1)
    assert sorted((r["role"], r["source"], r["pid"], r["comm"]) for r in records) == [
        ("client", "uprobe+wire", 42, "curl"), ("server", "wire", 77, "nginx")]


def test_connections_from_a_reused_client_port_within_the_join_window_keep_their_own_records() -> None:
    """A busy client reuses a port seconds later (closed with a reset, it never waits in TIME_WAIT).
    The second connection's wire flow arrives while the first's server end still waits for its
    join: each client handshake joins its own flow, and each server end keeps its record."""
    c = Correlator(host="h", join_wait=2.0)

    def connection(t: float, client_pid: int, server_pid: int, sni: bytes) -> None:
        ssl = 0x5500 + client_pid
        c.on_probe(ProbeEvent(Kind.HANDSHAKE_ENTER, t, tgid=client_pid, tid=client_pid, comm="python3", ssl=ssl,
                              fd=5, src=CLIENT, dst=SERVER, role="client"), t)
        c.on_probe(ProbeEvent(Kind.HANDSHAKE_RETURN, t + 0.002, tgid=client_pid, tid=client_pid, comm="python3",
                              ssl=ssl, ret=1), t + 0.01)
        cs, ss = Stream(), Stream()
        cs.add(1, records(22, client_hello(sni=sni)) + ccs() + app_data(), t + 0.0005)
        ss.add(1, records(22, server_hello()) + ccs() + app_data(), t + 0.001)
        owners = (ProbeEvent(Kind.CONNECT, t - 0.001, tgid=client_pid, tid=client_pid, comm="python3", fd=5,
                             src=CLIENT, dst=SERVER),
                  ProbeEvent(Kind.ACCEPT, t - 0.0005, tgid=server_pid, tid=server_pid, comm="openssl", fd=4,
                             src=CLIENT))
        c.on_flow(WireFlow(CLIENT, SERVER, summarise_handshake(cs, ss), t + 0.0005, owners=owners), t + 0.01)

    connection(10.0, 41, 71, b"first.test")
    out = c.drain(10.1)
    connection(11.5, 42, 72, b"second.test")  # the first flow's server end is still waiting
    out += c.drain(11.6) + c.drain(20.0)
    got = sorted((r["sni"], r["role"], r["source"], r["pid"]) for r in out)
    assert got == [("first.test", "client", "uprobe+wire", 41), ("first.test", "server", "wire", 71),
                   ("second.test", "client", "uprobe+wire", 42), ("second.test", "server", "wire", 72)]
    assert c.correlation_timeouts == 0


def test_one_client_port_to_two_servers_at_once_joins_each_handshake_to_its_own_servers_flow() -> None:
    """Linux hands the same ephemeral port to connections to different servers at the same time (here
    two processes' in the same millisecond): the wire flows share their client endpoint, and each
    handshake takes the flow to its socket's server."""
    c = Correlator(host="h", join_wait=1.0)
    servers = {0x11EC: Endpoint("127.0.0.2", 443), 0x1D: Endpoint("127.0.0.3", 443)}
    for i, server in enumerate(servers.values()):
        t = 10.0 + i * 0.001
        c.on_probe(ProbeEvent(Kind.HANDSHAKE_ENTER, t, tgid=41 + i, tid=41 + i, comm="curl", ssl=0x100, fd=5,
                              src=CLIENT, dst=server, role="client"), t)
        c.on_probe(ProbeEvent(Kind.HANDSHAKE_RETURN, t + 0.004, tgid=41 + i, tid=41 + i, comm="curl", ssl=0x100,
                              ret=1), t + 0.004)
    for i, (group, server) in enumerate(servers.items()):
        cs, ss, t = Stream(), Stream(), 10.0005 + i / 1000
        cs.add(1, records(22, client_hello(groups=(group,), shares=((group, 32),))) + ccs() + app_data(), t)
        ss.add(1, records(22, server_hello(share=group)) + ccs() + app_data(), t + 0.0015)
        c.on_flow(WireFlow(CLIENT, server, summarise_handshake(cs, ss), first_seen=t), 10.01)
    got = sorted((r["pid"], r["dst_ip"], r["negotiated_group"], r["source"]) for r in c.drain(10.02) + c.drain(20.0))
    assert got == [(41, "127.0.0.2", "X25519MLKEM768", "uprobe+wire"), (42, "127.0.0.3", "x25519", "uprobe+wire")]


def test_a_server_behind_dnat_still_joins_the_flow_the_wire_saw_at_its_public_address() -> None:
    """The packet socket sees a connection to a published port before DNAT rewrites it; the client's
    socket names the public address and the server's the private one: a flow from the client's
    endpoint still joins when none goes to the socket's own server."""
    c = correlator()
    private = Endpoint("172.17.0.2", 443)
    c.on_probe(ProbeEvent(Kind.HANDSHAKE_ENTER, 10.0, tgid=71, tid=71, comm="nginx", ssl=9, fd=4, src=CLIENT,
                          dst=private, role="server"), 10.0)
    c.on_probe(ProbeEvent(Kind.HANDSHAKE_RETURN, 10.004, tgid=71, tid=71, comm="nginx", ssl=9, ret=1), 10.004)
    c.on_flow(wire_flow(), now=10.01)  # CLIENT -> SERVER (the public address)
    [record] = c.drain(10.02)
    assert (record["pid"], record["role"], record["source"]) == (71, "server", "uprobe+wire")
    assert record["negotiated_group"] == "X25519MLKEM768"


def test_a_flow_both_of_whose_ends_joined_a_process_view_never_asks_for_owners() -> None:
    def owners(client: Endpoint, server: Endpoint, before: float, roles: tuple[str, ...]) -> list[ProbeEvent]:
        raise AssertionError("no owner lookup was needed")

    c = Correlator(host="h", lookup_owners=owners, join_wait=1.0)
    for tgid, role, ssl in ((42, "client", 7), (43, "server", 8)):
        c.on_probe(ProbeEvent(Kind.HANDSHAKE_ENTER, 10.0, tgid=tgid, tid=tgid, comm="x", ssl=ssl))
        c.on_probe(ProbeEvent(Kind.FD, 10.0, tgid=tgid, tid=tgid, comm="x", ssl=ssl, fd=5, src=CLIENT, dst=SERVER,
                              role=role))
        c.on_probe(ProbeEvent(Kind.HANDSHAKE_RETURN, 10.004, tgid=tgid, tid=tgid, comm="x", ssl=ssl, ret=1))
    c.on_flow(wire_flow(), now=10.01)
    records = c.drain(10.02)
    assert sorted((r["role"], r["source"]) for r in records) == [("client", "uprobe+wire"), ("server", "uprobe+wire")]
    assert c.drain(99.0) == []


def _scenario(c: Correlator, comm: str, sni: str | None, wire: bool, port: int) -> None:
    client = Endpoint("127.0.0.1", port)
    ev = lambda kind, ts, **kw: ProbeEvent(kind=kind, ts=ts, tgid=port, tid=port + 1, comm=comm, **kw)  # type: ignore[arg-type]  # noqa: E731
    c.on_probe(ev(Kind.CONNECT, 9.9, fd=5, src=client, dst=SERVER))
    if sni is not None:
        c.on_probe(ev(Kind.SNI, 9.95, ssl=7, sni=sni))
    c.on_probe(ev(Kind.HANDSHAKE_ENTER, 10.0, ssl=7))
    c.on_probe(ev(Kind.FD, 10.0, ssl=7, fd=5))
    c.on_probe(ev(Kind.HANDSHAKE_RETURN, 10.004, ssl=7, ret=1 if port % 2 else 0))
    c.on_probe(ev(Kind.ACCEPT, 9.91, fd=9, src=client))
    if wire:
        flow = wire_flow(0x11EC if port % 3 else 0x1D)
        c.on_flow(flow._replace(client=client), now=10.01)


def test_records_as_json_text_are_exactly_the_records_json_encoded() -> None:
    """The sensor writes records rendered from cached parts (drain_json); other callers get dicts
    (drain). Both come from the same values: the text must be what json.dumps writes of the dict,
    hostile strings included, for joined, wire-only and process-only records alike."""
    import json

    encode = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    # The SNI of a record whose ClientHello was seen is the wire's; the others show the probe's.
    cases = [("curl", "pq.test", True), ('q"u\\ote', 'sni "with" \\ and \n newline', False),
             ("ünï", "non-ascii-ünïcødé.test", False), ("c\x01", "bad-utf8-\\xff.test\x00", False),
             ("python3", None, False), ("python3", "</script><b>", True)]
    resolvers = {True: lambda pid: ProcessInfo("/usr/bin/ünï \"x\"", "OpenSSL", "3.0.19"),
                 False: lambda pid: ProcessInfo(None, None, None)}
    for known in (True, False):
        as_dicts, as_text = (Correlator(host='h"ost', resolve=resolvers[known], join_wait=1.0) for _ in range(2))
        for i, (comm, sni, wire) in enumerate(cases):
            for c in (as_dicts, as_text):
                _scenario(c, comm, sni, wire, 40100 + i)
        dicts = as_dicts.drain(30.0, final=True)
        texts = as_text.drain_json(30.0, final=True)
        assert len(dicts) == len(texts) == sum(2 if wire else 1 for _, _, wire in cases)
        assert {r["source"] for r in dicts} == {"uprobe+wire", "uprobe", "wire"}
        assert texts == [encode(r) for r in dicts]


def test_a_quic_flow_says_transport_quic_and_a_tcp_one_tcp_in_dicts_and_text() -> None:
    for transport in ("quic", "tcp"):
        records = []
        for as_text in (False, True):
            c = Correlator(host="h")
            flow = wire_flow()._replace(transport=transport)
            c.on_flow(flow, 10.0)
            records.append(json.loads(c.drain_json(20.0, final=True)[0]) if as_text else c.drain(20.0, final=True)[0])
        assert records[0] == records[1]
        assert records[0]["transport"] == transport


def test_a_quic_flow_from_the_same_address_and_port_is_not_joined_to_a_tcp_handshake() -> None:
    c = correlator()
    c.on_probe(probe(Kind.CONNECT, 9.9, fd=5, src=CLIENT, dst=SERVER))
    c.on_probe(probe(Kind.HANDSHAKE_ENTER, 10.0, ssl=7))
    c.on_probe(probe(Kind.FD, 10.0, ssl=7, fd=5))
    c.on_probe(probe(Kind.HANDSHAKE_RETURN, 10.004, ssl=7, ret=1))
    c.on_flow(wire_flow()._replace(transport="quic", owners=()), now=10.01)
    records = c.drain(99.0, final=True)
    tcp = [r for r in records if r["source"] != "wire"]
    quic = [r for r in records if r["transport"] == "quic"]
    assert [r["source"] for r in tcp] == ["uprobe"] and tcp[0]["transport"] is None
    assert len(quic) == 1 and quic[0]["pid"] is None


def test_a_socket_found_at_its_io_without_an_fd_binds_like_one_with_its_fd() -> None:
    """The live sensor's kernel side meets a BIO program's socket, or an implicit handshake's, at
    its first send or receive: it knows the socket (its endpoints and role) but not the fd (-1).
    The handshake is bound to that socket exactly as when the fd came with it, and the fd-less
    socket is not filed under a descriptor another handshake could later be matched to."""
    with_fd, without = correlator(), correlator()
    with_fd.on_probe(probe(Kind.HANDSHAKE_ENTER, 10.0, ssl=7, fd=5, src=CLIENT, dst=SERVER, role="client"))
    without.on_probe(probe(Kind.HANDSHAKE_ENTER, 10.0, ssl=7, fd=-1, src=CLIENT, dst=SERVER, role="client"))
    late = correlator()  # a BIO program: the socket comes after the start, in an FD event
    late.on_probe(probe(Kind.HANDSHAKE_ENTER, 10.0, ssl=7))
    late.on_probe(probe(Kind.FD, 10.001, ssl=7, fd=-1, src=CLIENT, dst=SERVER, role="client"))
    records = []
    for c in (with_fd, without, late):
        c.on_probe(probe(Kind.HANDSHAKE_RETURN, 10.004, ssl=7, ret=1))
        c.on_flow(wire_flow(), now=10.01)
        records.append(c.drain(10.02))
    assert records[0] == records[1] == records[2]
    [record] = records[1]
    assert (record["source"], record["src_port"], record["dst_port"]) == ("uprobe+wire", 40001, 8443)
    assert all((42, -1) not in c._sockets for c in (without, late))


def test_the_processes_a_flow_came_with_are_resolved_when_it_arrives_not_when_its_record_is_written() -> None:
    """A short-lived program the wire alone saw is gone by the time its record is written after the
    join wait; what is known of it (its exe, from the kernel's exec path while it is kept) is taken
    when the flow arrives."""
    alive = {51: ProcessInfo("/usr/local/bin/fetcher", None, None), 52: ProcessInfo("/usr/sbin/server", None, None)}

    def resolve(tgid: int) -> ProcessInfo:
        return alive.get(tgid, ProcessInfo(None, None, None))

    c = Correlator(host="h", resolve=resolve, join_wait=1.0)
    owners = (ProbeEvent(Kind.CONNECT, 9.99, tgid=51, tid=51, comm="fetcher", fd=3, src=CLIENT, dst=SERVER),
              ProbeEvent(Kind.ACCEPT, 9.995, tgid=52, tid=52, comm="server", fd=4, src=CLIENT))
    flow = wire_flow()
    c.on_flow(WireFlow(flow.client, flow.server, flow.handshake, flow.first_seen, owners=owners), 10.01)
    alive.clear()  # both exit, and their exec paths are forgotten
    records = c.drain(12.0)
    assert sorted((r["role"], r["exe"], r["source"]) for r in records) == [
        ("client", "/usr/local/bin/fetcher", "wire"), ("server", "/usr/sbin/server", "wire")]
