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


def test_with_the_servers_implicit_start_both_records_of_each_handshake_join_both_views(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    # As `openssl s_server` runs live: its handshake starts implicitly (the kernel sends the start at
    # its first receive) and ends on the wire; its record joins the process view, like the client's.
    monkeypatch.setattr(sensor_bench, "HANDSHAKES", 50)
    seconds, joined = sensor_bench._replay(True, server_probe=True)
    assert joined == 100 and seconds > 0


def test_without_any_process_view_both_records_come_from_the_wire_with_their_processes(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a sensor run with --no-uprobes sees the storm: the socket filter's summary and the owners
    # it found at both ends, nothing else.
    monkeypatch.setattr(sensor_bench, "HANDSHAKES", 50)
    seconds, from_wire = sensor_bench._replay(True, client_probe=False)
    assert from_wire == 100 and seconds > 0
