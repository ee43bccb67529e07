"""Who is whose parent, read from /proc: for tests that follow the processes a server forks."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def parents() -> dict[int, int]:
    """Every process's parent pid, from one pass over /proc (a process that exits meanwhile is left out)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            out[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])  # (comm may hold spaces and ")")
    return out


def children(pid: int) -> set[int]:
    return {child for child, parent in parents().items() if parent == pid}


def descendants(pid: int, known: Iterable[int] = ()) -> set[int]:
    """The processes below `pid` now, plus those below any of `known` (which may have lost their
    parent since), from one pass over /proc."""
    by_parent: dict[int, set[int]] = {}
    for child, parent in parents().items():
        by_parent.setdefault(parent, set()).add(child)
    found: set[int] = set()
    frontier = [pid, *known]
    while frontier:
        for child in by_parent.get(frontier.pop(), ()):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found
