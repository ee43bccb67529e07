"""`python -m stress.ab`: sensors side by side on one workload, each on phase between two off phases,
the arms' order reversed every other cycle, each arm paired with the first cycle by cycle; an arm's
sensor may run from another checkout."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console

from stress import ab
from stress.ab import Arm, order, paired, parse_arm, run_ab, with_trees
from stress.harness import end_sensor, start_sensor
from stress.loadgen import LoadResult
from stress.workloads import Setup, Workload

ROOT = Path(__file__).resolve().parents[2]


def test_an_arm_is_a_name_and_the_options_split_as_a_shell_would() -> None:
    assert parse_arm("default") == Arm("default")
    assert parse_arm("lean=--no-uprobes --priority 'idle'") == Arm("lean", ("--no-uprobes", "--priority", "idle"))
    for bad in ("", "=--no-uprobes", "two words=--x", "a/b", "../up"):
        with pytest.raises(ValueError, match="NAME"):
            parse_arm(bad)
    with pytest.raises(ValueError, match="--arm 'lean=--x \"open'"):
        parse_arm('lean=--x "open')


@pytest.mark.parametrize("args", [["--arm", "a/b", "--arm", "b"], ["--arm", "only"],
                                  ["--arm", "a", "--arm", "b", "--tree", "c=."],
                                  ["--arm", "a", "--arm", "b", "--phase-seconds", "nan"],
                                  ["--arm", "a", "--arm", "b", "--json", "/no/such/folder/ab.json"]])
def test_bad_arguments_are_one_line_exit_2_before_anything_starts(args: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", "stress.ab", "handshakes", *args], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.strip().splitlines()[-1].startswith("python -m stress.ab: ")


class _FakeLoad:
    """The load pool, its rates scripted: off phases at 100/s, on phases at each arm's rate."""

    def __init__(self, on_rates: dict[str | None, float], calls: list[Any]) -> None:
        self.on_rates, self.calls = on_rates, calls

    def __call__(self, _workers: Any) -> _FakeLoad:
        return self

    def __enter__(self) -> _FakeLoad:
        return self

    def __exit__(self, *_: Any) -> None:
        self.calls.append(("pool closed",))

    def run(self, seconds: float) -> LoadResult:
        running = self.calls[-1][1] if self.calls and self.calls[-1][0] == "start" else None
        if running == "broken":
            raise KeyboardInterrupt
        n = int(self.on_rates.get(running, 100.0) * seconds)
        return LoadResult(n, n, 0, 0, seconds, [], [])


def _scripted(monkeypatch: pytest.MonkeyPatch, on_rates: dict[str | None, float]) -> list[Any]:
    calls: list[Any] = []
    monkeypatch.setattr(ab, "LoadPool", _FakeLoad(on_rates, calls))
    monkeypatch.setattr(ab, "opened", lambda _link: nullcontext(None))
    monkeypatch.setattr(ab, "cpu_seconds", lambda _pid: 0.0)

    def start(out: Path, *options: str, tree: Path | None = None) -> Any:
        calls.append(("start", out.name.split("-")[0], options, tree))
        return SimpleNamespace(pid=1)

    def stop(_proc: Any, _out: Path, load: LoadResult, _cpu: float) -> tuple[dict[str, Any], int, int]:
        calls.append(("stop",))
        return {"sensor_cpu_s": 0.01, "kernel_drops": 0}, load.handshakes, 1

    monkeypatch.setattr(ab, "start_sensor", start)
    monkeypatch.setattr(ab, "stop_sensor", stop)
    monkeypatch.setattr(ab, "end_sensor", lambda _proc: calls.append(("ended",)))
    return calls


WORKLOAD = Workload("handshakes", "test", "handshakes/s", 1, "handshake",
                    lambda *_: Setup([], "scripted load", {}))


def test_each_arm_runs_its_options_from_its_tree_in_alternating_order_against_its_off_neighbours(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = _scripted(monkeypatch, {"a": 95.0, "b": 99.0})
    arms = [Arm("a"), Arm("b", ("--no-uprobes",), tmp_path)]
    result = run_ab(WORKLOAD, arms, cycles=3, phase_seconds=1.0, workers=1, link="loopback",
                    console=Console(file=io.StringIO()))
    starts = [c[1:] for c in calls if c[0] == "start"]
    assert starts == [("a", (), None), ("b", ("--no-uprobes",), tmp_path), ("b", ("--no-uprobes",), tmp_path),
                      ("a", (), None), ("a", (), None), ("b", ("--no-uprobes",), tmp_path)]
    assert [c[0] for c in calls].count("stop") == 6
    assert result["arms"]["a"]["rate_ratio_per_cycle"] == [0.95] * 3
    assert result["arms"]["b"]["rate_ratio_per_cycle"] == [0.99] * 3
    assert result["paired_with_first"]["b"]["mean"] == pytest.approx(0.04)
    assert result["arms"]["b"]["correlation_failures"] == 3 and result["arms"]["b"]["tree"] == str(tmp_path)
    assert [p["arm"] for p in result["phases"]] == [None, "a", None, "b", None, "b", None, "a", None,
                                                     "a", None, "b", None]


def test_a_load_that_breaks_off_with_a_sensor_running_stops_that_sensor(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _scripted(monkeypatch, {})
    with pytest.raises(KeyboardInterrupt):
        run_ab(WORKLOAD, [Arm("broken"), Arm("b")], cycles=2, phase_seconds=1.0, workers=1, link="loopback",
               console=Console(file=io.StringIO()))
    assert [c[0] for c in calls][-3:] == ["start", "ended", "pool closed"]


def test_a_tree_goes_to_its_arm_and_must_be_a_checkout(tmp_path: Path) -> None:
    arms = [Arm("before"), Arm("after", ("--no-uprobes",))]
    assert with_trees(arms, [f"before={ROOT}"]) == [Arm("before", (), ROOT), Arm("after", ("--no-uprobes",))]
    with pytest.raises(ValueError, match="one of the arms"):
        with_trees(arms, [f"other={ROOT}"])
    with pytest.raises(ValueError, match="not a checkout"):
        with_trees(arms, [f"before={tmp_path}"])
    with pytest.raises(ValueError, match="same name"):
        with_trees([Arm("a"), Arm("a")], [])


def test_the_arms_order_is_reversed_every_other_cycle() -> None:
    arms = [Arm("a"), Arm("b"), Arm("c")]
    assert [[a.name for a in order(arms, c)] for c in range(3)] == [["a", "b", "c"], ["c", "b", "a"], ["a", "b", "c"]]


def test_each_arm_is_paired_with_the_first_cycle_by_cycle() -> None:
    result = paired([1.00, 0.96, 0.98], [0.97, 0.95, 0.93])  # the second arm cost the load more
    assert result["per_cycle"] == pytest.approx([-0.03, -0.01, -0.05])
    assert result["mean"] == pytest.approx(-0.03)
    low, high = result["ci95"]
    assert low < -0.03 < high and high - low == pytest.approx(2 * 4.303 * 0.02 / 3**0.5, abs=1e-3)
    with pytest.raises(ValueError):
        paired([1.0, 1.0], [1.0])


def test_a_sensor_from_another_tree_runs_that_trees_code(tmp_path: Path) -> None:
    # A stand-in checkout whose `assess` writes a ready line saying which file it ran from: started
    # from here, the editable install's own `assess` must not be the one that runs.
    package = tmp_path / "tree" / "assess"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(
        "import json, sys, time\n"
        "out = sys.argv[sys.argv.index('--out') + 1]\n"
        "open(out, 'w').write(json.dumps({'type': 'ready', 'from': __file__, 'args': sys.argv[1:]}) + '\\n')\n"
        "time.sleep(60)\n")
    out = tmp_path / "out.jsonl"
    proc = start_sensor(out, "--no-uprobes", tree=tmp_path / "tree")
    try:
        ready = json.loads(out.read_text())
    finally:
        end_sensor(proc)
    assert Path(ready["from"]) == package / "__main__.py"
    assert ready["args"] == ["runtime", "capture", "--out", str(out), "--no-uprobes"]


@pytest.mark.root
def test_two_sensors_side_by_side_each_between_off_phases_paired_and_none_left_behind(tmp_path: Path) -> None:
    out = tmp_path / "ab.json"
    run = subprocess.Popen([sys.executable, "-m", "stress.ab", "handshakes", "--arm", "default",
                            "--arm", "lean=--no-uprobes", "--tree", f"lean={ROOT}", "--cycles", "2",
                            "--phase-seconds", "1", "--json", str(out)], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == 0, stderr
    result = json.loads(out.read_text())
    phases = result["phases"]
    # off, default, off, lean, off | lean, off, default, off
    assert [p["arm"] for p in phases] == [None, "default", None, "lean", None, "lean", None, "default", None]
    rates = [p["rate"] for p in phases]
    assert all(r > 0 for r in rates)
    expected = {"default": [], "lean": []}
    for i, p in enumerate(phases):
        if p["arm"]:
            expected[p["arm"]].append(rates[i] / ((rates[i - 1] + rates[i + 1]) / 2))
    for name, arm in result["arms"].items():
        assert arm["rate_ratio_per_cycle"] == pytest.approx(expected[name], abs=1e-3)
        assert arm["reported_fraction"] == 1.0 and arm["kernel_drops"] == 0
        assert arm["sensor_cpu_us_per_unit_median"] > 0
    assert result["arms"]["lean"]["tree"] == str(ROOT) and result["arms"]["lean"]["options"] == ["--no-uprobes"]
    differences = [lean - d for d, lean in zip(expected["default"], expected["lean"], strict=True)]
    assert result["paired_with_first"]["lean"]["per_cycle"] == pytest.approx(differences, abs=1e-3)
    assert "this arm less the first" in stdout
    left = subprocess.run(["pgrep", "-f", "carnot-ab-"], capture_output=True, text=True)
    assert left.stdout == "", f"a sensor or load outlived the comparison: {left.stdout}"
