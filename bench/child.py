"""Running a measured command in a child process: wall and CPU seconds and the child's own peak RSS.

The kernel's RUSAGE_CHILDREN peak is the largest of all children so far, so each child reports its
own (RUSAGE_SELF) on stderr as it exits.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_WRAPPER = ("import resource, runpy, sys, time; t = time.perf_counter(); rc = 0\n"
            "try:\n"
            "    sys.argv = sys.argv[1:]\n"
            "    if sys.argv[0].endswith('.py'):\n"
            "        runpy.run_path(sys.argv[0], run_name='__main__')\n"
            "    else:\n"
            "        runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n"
            "except SystemExit as e:\n"
            "    rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)\n"
            "r = resource.getrusage(resource.RUSAGE_SELF)\n"
            "print('CHILD', time.perf_counter() - t, r.ru_utime + r.ru_stime, r.ru_maxrss, file=sys.stderr)\n"
            "sys.exit(rc)\n")


@dataclass(frozen=True)
class Measured:
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    stdout: str


def run_python(module_or_script: str, *args: str | Path, env: dict[str, str] | None = None) -> Measured:
    """`python -m MODULE ARGS` (or a script path), measured; a failure raises with the child's stderr."""
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, module_or_script, *map(str, args)],
                          capture_output=True, text=True, env=env, check=False)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("CHILD ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{module_or_script} {' '.join(map(str, args))} failed: {proc.stderr[-2000:]}")
    _, wall, cpu, maxrss = lines[-1].split()
    return Measured(float(wall), float(cpu), int(maxrss) / 1024, proc.stdout)
