"""Finding the cgroup v2 root loopback's wire view attaches to, from /proc/self/mountinfo lines."""

from __future__ import annotations

from pathlib import Path

from assess.sources.runtime.cgrouplink import cgroup2_root

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
