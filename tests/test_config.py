"""carnot.toml: the embedded default, relative paths, and errors that name the file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from assess.config import load_config
from assess.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_no_file_means_the_embedded_default_on_the_sample_estate():
    config = load_config(None)
    assert config.is_default
    assert config.scan.paths == (ROOT / "examples" / "estate",)  # a checkout reads its own tree
    assert config.runtime.workload == "demo"
    assert config.aws.simulated


def test_the_example_configuration_loads(tmp_path):
    config = load_config(ROOT / "carnot.example.toml")
    assert config.gate.profile == "balanced"
    assert len(config.aws.role_arns) == 2
    assert config.runtime.workload == "none"
    assert config.runtime.uprobes is True


def test_the_sensor_can_be_configured_without_uprobes(tmp_path):
    path = tmp_path / "carnot.toml"
    path.write_text("[runtime]\nuprobes = false\n")
    assert load_config(path).runtime.uprobes is False
    assert load_config(None).runtime.uprobes is True


def test_relative_paths_are_relative_to_the_file(tmp_path):
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "carnot.toml"
    path.write_text('[scan]\npaths = ["../src"]\n[gate]\nwaivers = "w.yaml"\n')
    config = load_config(path)
    assert config.scan.paths == (tmp_path / "conf" / "../src",)
    assert config.gate.waivers == tmp_path / "conf" / "w.yaml"


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ('[gate]\nprofile = "strict"\nenforc = true\n', 3, "[gate] enforc: unknown setting"),
        ('[gate\nprofile = "strict"\n', 1, "not valid TOML"),
        ('[gate]\nprofile = "lax"\n', 2, "must be one of strict, balanced, dev"),
        ('[runtime]\nduration_seconds = "ten"\n', 2, "expected float"),
        ('[runtime]\nduration_seconds = -1\n', 2, "must be positive"),
        ('[runtime]\nuprobes = "no"\n', 2, "expected bool"),
        ('\n[clouds]\nx = 1\n', 2, "unknown table [clouds]"),
        ('[aws]\nregions = [1, 2]\n', 2, "expected a list of strings"),
        ('[exposure]\nmigration_year = 5\n', None, "unknown key(s) migration_year"),
    ],
)
def test_a_bad_setting_names_the_file_and_line(tmp_path, text, line, needle):
    path = tmp_path / "carnot.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert needle in caught.value.one_line()
    assert caught.value.path == str(path)
    if line is not None:
        assert caught.value.line == line


def test_a_missing_config_file_is_an_input_error(tmp_path):
    with pytest.raises(Exception, match="no such file"):
        load_config(tmp_path / "nope.toml")
