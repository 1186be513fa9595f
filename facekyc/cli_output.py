"""What every facekyc command prints with: the consoles, the progress bar and the metrics table."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from facekyc.errors import FaceKycError

if TYPE_CHECKING:
    from facekyc.vision.quality import QualityComponent, QualityReport

console = Console()
err_console = Console(stderr=True)


@dataclass
class _LineTask:
    description: str
    total: float
    done: float = 0.0
    next_line_at: float = 0.0
    started: float = field(default_factory=time.monotonic)


class LineProgress:
    """Progress for logs and CI, where stderr is no terminal and a bar would print nothing: one plain line
    on stderr at the start and at every further `step` of the total (10% by default)."""

    def __init__(self, step: float = 0.1) -> None:
        self.step = step
        self.tasks: list[_LineTask] = []

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, description: str, total: float | None = None) -> TaskID:
        self.tasks.append(_LineTask(description, float(total or 0)))
        self._report(self.tasks[-1])
        return TaskID(len(self.tasks) - 1)

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        task = self.tasks[task_id]
        task.done += advance
        self._report(task)

    def _report(self, task: _LineTask) -> None:
        if task.total <= 0 or task.done < task.next_line_at:
            return
        share = min(1.0, task.done / task.total)
        err_console.print(f"{task.description}: {task.done:,.0f} of {task.total:,.0f} ({share:.0%}), "
                          f"{time.monotonic() - task.started:.0f} s", highlight=False, soft_wrap=True)
        task.next_line_at = (math.floor(share / self.step + 1e-9) + 1) * self.step * task.total


def progress_bar() -> Progress | LineProgress:
    """A Rich progress bar on stderr (stdout stays clean for JSON); plain lines when stderr is no terminal."""
    if not err_console.is_terminal:
        return LineProgress()
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


def quality_table(qa: QualityReport, qb: QualityReport, name_a: str, name_b: str) -> Table:
    """Each quality component with its limit and, per image, the value and pass (✓) or fail (✗)."""
    table = Table("quality", "limit", name_a, name_b)
    for ca, cb in zip(qa.components, qb.components, strict=True):
        limit = ca.limit if ca.limit == cb.limit else f"{ca.limit} / {cb.limit}"
        table.add_row(ca.name, limit, _verdict(ca), _verdict(cb))
    table.add_row("[bold]all[/bold]", "", _overall(qa), _overall(qb))
    return table


def _verdict(component: QualityComponent) -> str:
    if component.passed:
        return f"{component.value:.2f} [green]✓ pass[/green]"
    return f"[red]{component.value:.2f} ✗ fail[/red]"


def _overall(report: QualityReport) -> str:
    return "[green]pass[/green]" if report.passed else f"[red]fail ({len(report.failed)})[/red]"


def note_missing(missing: list[str], base: Path) -> None:
    """Say how many listed images were not found and where relative paths were looked for."""
    if missing:
        err_console.print(f"[yellow]note[/yellow] {len(missing)} image(s) not found, e.g. {missing[0]} "
                          f"(relative paths in a list are read from its folder, {base})", soft_wrap=True)


def print_error(exc: FaceKycError, as_json: bool) -> None:
    """A typed error as JSON on stdout (for --json) or one red line on stderr; the caller exits 2."""
    if as_json:
        console.print_json(json.dumps({"error": exc.code, "detail": exc.message}))
    else:
        err_console.print(f"[red]error[/red] {exc.code}: {exc.message}")
