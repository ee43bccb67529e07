"""Where Carnot's data files are, for an installed package and a source checkout alike.

The repository keeps them at its top (`bpf/`, `policies/`, `site/`, `tools/provision.sh`,
`examples/estate/`); the wheel maps each into the package as `assess/_data/<same path>`
(pyproject.toml, `[tool.hatch.build.targets.wheel.force-include]`). An editable install or a
checkout on `sys.path` has no `_data`: there the files are found beside the package, in the tree
it was imported from. Every command asks this module, so a wheel run from any folder finds them.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from assess.errors import CarnotError

PACKAGED = "_data"
_CHECKOUT_MARKER = "pyproject.toml"


class ResourceError(CarnotError):
    """A data file Carnot ships with is missing: the installation is incomplete."""


def _package_dir() -> Path:
    package = files("assess")
    if not isinstance(package, Path):  # a zip import: bcc, bash and jinja need files on disk
        raise ResourceError(f"Carnot must be installed as files on disk, not imported from {package}")
    return package


def checkout() -> Path | None:
    """The source tree Carnot runs from (an editable install, or the tree on sys.path), else None."""
    package = _package_dir()
    tree = package.parent
    if not (package / PACKAGED).is_dir() and (tree / _CHECKOUT_MARKER).is_file() and (tree / "policies").is_dir():
        return tree
    return None


def root() -> Path:
    """The folder holding bpf/, policies/, site/, tools/ and examples/: packaged data or the checkout."""
    packaged = _package_dir() / PACKAGED
    if packaged.is_dir():
        return packaged
    tree = checkout()
    if tree is None:
        raise ResourceError(f"Carnot's data files are missing from {packaged}; reinstall Carnot from its wheel")
    return tree


def resource(relative: str) -> Path:
    """The path of one shipped file or folder (e.g. "policies", "bpf/tls_wire.c"); it must exist."""
    path = root() / relative
    if not path.exists():
        raise ResourceError(f"Carnot's data file {relative} is missing; reinstall Carnot", path=path)
    return path


def bpf_dir() -> Path:
    """The eBPF programs bcc compiles (tls_probes.c, tls_wire.c)."""
    return resource("bpf")


def policies_dir() -> Path:
    """The Rego policies and their data: the gate's default."""
    return resource("policies")


def site_dir() -> Path:
    """The site's and the report's templates and static files."""
    return resource("site")


def provision_script() -> Path:
    """The one script that installs and prepares the sensor's system parts (Debian/Ubuntu)."""
    return resource("tools/provision.sh")


def policy_guide() -> Path:
    """docs/POLICY_GUIDE.md, which every finding's remediation link points into."""
    return resource("docs/POLICY_GUIDE.md")


def sample_estate() -> Path:
    """The example estate the embedded default assessment scans."""
    return resource("examples/estate")


def optional_registry_file(name: str) -> Path | None:
    """A registry file Carnot can do without (IANA's SSH registries, vendored once reachable)."""
    path = _package_dir() / "registry" / name
    return path if path.is_file() else None


def registry_file(name: str) -> Path:
    """One of the TLS registries `assess.tlsnames` reads (IANA's CSVs and Carnot's own); they live
    inside the package, in a wheel and a checkout alike."""
    path = _package_dir() / "registry" / name
    if not path.is_file():
        raise ResourceError(f"Carnot's registry file {name} is missing; reinstall Carnot", path=path)
    return path
