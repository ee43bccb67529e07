"""How sub-commands report: a rich table or summary for people, JSON for scripts; progress on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from assess.text import printable

T = TypeVar("T")

stderr = Console(stderr=True)
stdout = Console()


def emit_json(report: Any) -> None:
    sys.stdout.write(json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def emit_table(title: str, rows: Iterable[tuple[str, str]]) -> None:
    """A two-column table; titles and values are text, never markup, with control characters escaped."""
    table = Table(title=Text(printable(title)), show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(Text(printable(key)), Text(printable(value)))
    stdout.print(table)


def problem(label: str, text: str) -> None:
    """One `label: text` line on stderr, the label in red; text is data (escaped, never markup)."""
    stderr.print(Text.assemble((f"{label}: ", "red"), printable(text)), highlight=False)


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Any]:
    """A progress bar on stderr (drawn only on a terminal); yields a function advance(n=1)."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,
    ) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    with progress(description, total) as advance:
        for item in items:
            yield item
            advance()
