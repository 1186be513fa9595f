"""What every facekyc command prints with: the consoles, the progress bar and the metrics table."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from facekyc.errors import FaceKycError

console = Console()
err_console = Console(stderr=True)


def progress_bar() -> Progress:
    """A Rich progress bar on stderr, so stdout stays clean for JSON."""
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err_console)


def format_metric(value: object) -> str:
    """Numbers to 4 significant digits; missing (None/NaN) as n/a."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def metrics_table(summary: Mapping[str, object]) -> Table:
    """A two-column table of a report summary; nested dicts become `key sub` rows."""
    table = Table("metric", "value")
    for key, value in summary.items():
        if isinstance(value, Mapping):
            for sub, v in value.items():
                if isinstance(v, Mapping):
                    table.add_row(f"{key} {sub}", ", ".join(f"{k}={format_metric(x)}" for k, x in v.items()))
                else:
                    table.add_row(f"{key} {sub}", format_metric(v))
        else:
            table.add_row(key, format_metric(value))
    return table


def print_error(exc: FaceKycError, as_json: bool) -> None:
    """A typed error as JSON on stdout (for --json) or one red line on stderr; the caller exits 2."""
    if as_json:
        console.print_json(json.dumps({"error": exc.code, "detail": exc.message}))
    else:
        err_console.print(f"[red]error[/red] {exc.code}: {exc.message}")
