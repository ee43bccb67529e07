"""The `carnot` command: flags in, library calls out, CarnotError -> one line on stderr.

Each sub-command lives in its own module with `register(subparsers)`; COMMANDS below is the one
explicit list of them. Only this module exits.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from assess import __version__
from assess.cli import (
    assessing,
    attest,
    bundling,
    diffing,
    doctor,
    explain,
    gate,
    inventory,
    merging,
    report,
    runtime,
    scan,
    serve,
    site,
    viz,
)
from assess.errors import CarnotError
from assess.text import printable

# The registry of sub-command modules, in the order `carnot --help` lists them.
COMMANDS: tuple[ModuleType, ...] = (
    assessing,
    runtime,
    scan,
    inventory,
    merging,
    gate,
    attest,
    viz,
    bundling,
    diffing,
    site,
    report,
    serve,
    doctor,
    explain,
)

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse's own usage errors: one line, exit 2, like every other bad input.
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="carnot",
        description="Post-quantum cryptography readiness assessments: inventory, CBOM, gate, exposure, bundles.",
    )
    parser.add_argument("--version", action="version", version=f"carnot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module in COMMANDS:
        module.register(sub)
    return parser


def add_common(parser: argparse.ArgumentParser, *, json_report: bool = False) -> None:
    """The flags every sub-command shares."""
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log on stderr")
    if json_report:
        parser.add_argument("--json", action="store_true", help="print the report as JSON on stdout")


def add_max_bom_bytes(parser: argparse.ArgumentParser) -> None:
    """`--max-bom-bytes`: the size limit of the CBOM files a command reads (docs/SECURITY.md, Limits)."""
    from assess.fsio import MAX_CBOM_INPUT_BYTES

    parser.add_argument("--max-bom-bytes", type=_byte_count, default=MAX_CBOM_INPUT_BYTES, metavar="BYTES",
                        help=f"refuse a CBOM file larger than this (default {MAX_CBOM_INPUT_BYTES}, 2 GiB; "
                             "a million components take about 1 GB)")


def _byte_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of bytes: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 byte, not {value}")
    return value


class PrintableFormatter(logging.Formatter):
    """Log lines with every control character escaped: logged names and messages are data."""

    def format(self, record: logging.LogRecord) -> str:
        return "\n".join(printable(line) for line in super().format(record).split("\n"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    log = logging.StreamHandler()
    log.setFormatter(PrintableFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if getattr(args, "verbose", 0) > 0 else logging.WARNING, handlers=[log])
    handler: Handler = args.handler
    try:
        return handler(args)
    except CarnotError as e:
        print(f"carnot: error: {e.one_line()}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("carnot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # a bug in Carnot: still one line unless asked for the traceback
        if getattr(args, "verbose", 0) > 0:
            raise
        print(printable(f"carnot: internal error: {type(e).__name__}: {e} (run with -v for the traceback)"),
              file=sys.stderr)
        return 2
