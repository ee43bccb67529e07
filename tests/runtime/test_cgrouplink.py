"""Where loopback's wire view attaches (the cgroup v2 root, from /proc/self/mountinfo lines), and
whether the host allows it there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assess.sources.runtime import cgrouplink
from assess.sources.runtime.cgrouplink import cgroup2_root, is_hierarchy_root

HYBRID = """\
25 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 25 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755
27 26 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
28 26 0:25 / /sys/fs/cgroup/cpu rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,cpu
"""
UNIFIED = "31 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw\n"
V1_ONLY = "28 26 0:25 / /sys/fs/cgroup/cpu rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,cpu\n"
# A container's view: a sub-tree of the hierarchy bind-mounted first, the real root after it.
SUBTREE = ("40 39 0:26 /docker/abc /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n"
           "41 39 0:26 / /mnt/cgroup\\040root rw,relatime - cgroup2 cgroup2 rw\n")


def test_the_unified_hierarchy_of_a_hybrid_host_is_found() -> None:
    assert cgroup2_root(HYBRID) == Path("/sys/fs/cgroup/unified")


def test_a_pure_cgroup_v2_host_has_its_root_at_sys_fs_cgroup() -> None:
    assert cgroup2_root(UNIFIED) == Path("/sys/fs/cgroup")


def test_a_host_with_cgroup_v1_only_has_none() -> None:
    assert cgroup2_root(V1_ONLY) is None
    assert cgroup2_root("") is None


def test_a_mount_of_a_sub_tree_is_not_the_root_and_escaped_spaces_are_read() -> None:
    assert cgroup2_root(SUBTREE) == Path("/mnt/cgroup root")


def test_a_cgroup_namespaces_root_is_not_taken_for_the_hierarchys(tmp_path: Path) -> None:
    """Every cgroup but the real root has cgroup.events; a container's namespace root, mounted at
    /sys/fs/cgroup, is one of them."""
    (tmp_path / "container").mkdir()
    (tmp_path / "container" / "cgroup.events").write_text("populated 1\nfrozen 0\n")
    assert is_hierarchy_root(tmp_path)
    assert not is_hierarchy_root(tmp_path / "container")
    assert not is_hierarchy_root(tmp_path / "absent")


@pytest.mark.root
def test_the_kernel_is_asked_whether_cgroup_programs_may_read_the_network_namespace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if os.geteuid() != 0:
        pytest.skip("loading a BPF program needs root")
    assert cgrouplink.netns_cookie_in_cgroup_programs() is None  # (Linux 6.15 and later, as here)
    monkeypatch.setattr(cgrouplink, "BPF_FUNC_GET_NETNS_COOKIE", 99999)  # a helper no kernel has
    assert "Linux 6.15" in (cgrouplink.netns_cookie_in_cgroup_programs() or "")
