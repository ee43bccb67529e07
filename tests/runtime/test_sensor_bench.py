"""The sensor benchmark replays synthetic kernel output through the sensor's own user space; it
must keep producing a client and a server record per handshake as that user space changes."""

from __future__ import annotations

import pytest

from bench import sensor_bench


@pytest.mark.parametrize("summarised", [True, False], ids=["kernel-summary", "passed-segments"])
def test_each_synthetic_handshake_gives_a_client_and_a_server_record(
    summarised: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sensor_bench, "HANDSHAKES", 50)
    seconds, records = sensor_bench._replay(summarised)
    assert records == 100 and seconds > 0


# As `openssl s_server` runs live: its handshake starts implicitly (the kernel sends the start at its
# first receive) and ends on the wire; its record joins the process view, like the client's. And as
# a sensor run with --no-uprobes sees the storm: the socket filter's summary and the owners it found
# at both ends, nothing else, so both records are the wire's.
@pytest.mark.parametrize(("server_probe", "client_probe"), [(True, True), (False, False)],
                         ids=["server-implicit-start-joins-both-views", "no-uprobes-both-from-the-wire"])
def test_each_handshakes_two_records_come_from_the_views_sent_each_with_its_process(
    server_probe: bool, client_probe: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sensor_bench, "HANDSHAKES", 50)
    seconds, counted = sensor_bench._replay(True, server_probe=server_probe, client_probe=client_probe)
    assert counted == 100 and seconds > 0
