"""Kernel struct offsets from the running kernel's BTF, for the BPF programs' socket walk."""

from __future__ import annotations

from assess.sources.runtime.kernel_btf import FIELDS, struct_offsets


def test_every_field_the_udp_owner_lookup_reads_is_found_in_this_kernels_btf() -> None:
    offsets = struct_offsets()
    assert offsets is not None, "no /sys/kernel/btf/vmlinux or no libbpf: the sensor's tests need both here"
    assert set(offsets) == {macro for macro, _, _ in FIELDS}


def test_nested_anonymous_members_are_found_where_the_kernel_lays_them_out() -> None:
    offsets = struct_offsets()
    assert offsets is not None
    # struct sock_common: skc_daddr, skc_rcv_saddr (8), skc_hash (4), then the port pair (skc_dport,
    # skc_num, in an anonymous struct in an anonymous union), then skc_family.
    assert offsets["OFF_SOCK_NUM"] == 14
    assert offsets["OFF_SOCK_FAMILY"] == 16
    assert offsets["OFF_FDT_MAX_FDS"] == 0 and offsets["OFF_FDT_FD"] == 8
