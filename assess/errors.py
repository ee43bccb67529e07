"""The error types of Carnot.

Stages raise these; only the CLI turns them into one line on stderr and an exit code.
Every error knows the file (and line, where there is one) it is about.
"""

from __future__ import annotations

from pathlib import Path


class CarnotError(Exception):
    """Base of every error Carnot reports to a user. Exit code 2 unless a subclass says otherwise."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line

    def one_line(self) -> str:
        """The path, line and message on one line, every control character escaped (a file name or
        a parser's message can carry terminal escapes or line breaks: they must not forge output)."""
        from assess.text import printable

        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        text = " ".join(self.message.split())
        return printable(f"{where}{text}")


class InputError(CarnotError):
    """A file given to Carnot is missing, unreadable, or not what it should be."""


class CbomError(InputError):
    """A document is not a CycloneDX CBOM Carnot can read."""


class ConfigError(InputError):
    """A configuration file is wrong."""


class OutputError(CarnotError):
    """Carnot could not write a result."""


class VerificationError(CarnotError):
    """A bundle or signature does not match what was recorded: it was changed."""

    exit_code = 1
