"""`facekyc operators` and `facekyc numbers`: set up an operator and its number pool without curl.

They talk to the configured database (FACEKYC_DATABASE_URL, or ./facekyc-data) through the registry, as
`facekyc apikeys create` does, and are audited with actor `cli`; a running server sees them at once.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from facekyc.cli_output import console, err_console, print_error
from facekyc.errors import FaceKycError

operators_app = typer.Typer(help="Mobile operators (each with its own number pool).", no_args_is_help=True)
numbers_app = typer.Typer(help="An operator's pool of phone numbers (MSISDNs).", no_args_is_help=True)
ACTOR = "cli"


def _fail(exc: FaceKycError) -> typer.Exit:
    print_error(exc, as_json=False)
    return typer.Exit(2)


@operators_app.command("add")
def operators_add(
    operator_id: Annotated[str, typer.Argument(metavar="ID", help="Short id, e.g. op (lower-case, digits, _ -).")],
    name: Annotated[str, typer.Option("--name", help="Display name, e.g. 'Example Mobile'.")],
    country: Annotated[str, typer.Option("--country", help="ISO 3166 code; national numbers are read for it.")],
    max_numbers: Annotated[int | None, typer.Option("--max-numbers", min=1, max=1000,
                                                    help="Numbers one identity may hold (default: "
                                                    "FACEKYC_MAX_NUMBERS_PER_IDENTITY).")] = None,
) -> None:
    """Add an operator."""
    from facekyc.api.commands import _sessions
    from facekyc.registry.operators import create_operator
    from facekyc.storage.db import transaction

    try:
        with transaction(_sessions()) as session:
            create_operator(session, operator_id=operator_id, name=name, country=country.upper(),
                            max_numbers_per_identity=max_numbers, actor=ACTOR)
    except FaceKycError as exc:
        raise _fail(exc) from exc
    console.print(f"operator [bold]{operator_id}[/bold] added ({name}, {country.upper()}); "
                  f"next: facekyc numbers add {operator_id} NUMBER...")


@operators_app.command("list")
def operators_list() -> None:
    """Every operator with its number pool counts."""
    from facekyc.api.commands import _sessions
    from facekyc.registry.operators import list_operators

    with _sessions()() as session:
        rows = list_operators(session)
    if not rows:
        console.print("no operators yet: facekyc operators add ID --name NAME --country CC")
        return
    table = Table("id", "name", "country", "max numbers per identity", "free", "assigned", "quarantined")
    for op, counts in rows:
        limit = str(op.max_numbers_per_identity) if op.max_numbers_per_identity else "default"
        table.add_row(op.id, op.name, op.country, limit, *(str(counts[k]) for k in ("free", "assigned", "quarantined")))
    console.print(table)


def _read_numbers(path: Path) -> list[str]:
    """One number per line; blank lines and lines starting with # are skipped; `-` reads stdin."""
    text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@numbers_app.command("add")
def numbers_add(
    operator_id: Annotated[str, typer.Argument(metavar="OPERATOR", help="Operator id.")],
    msisdns: Annotated[list[str] | None, typer.Argument(metavar="MSISDN...",
                                                        help="Numbers, E.164 or national form.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="A file of numbers, one per line (- for stdin).")]
    = None,
) -> None:
    """Add numbers to an operator's pool: all or nothing; numbers already present are skipped."""
    from facekyc.api.commands import _sessions
    from facekyc.registry.operators import add_numbers
    from facekyc.storage.db import transaction

    numbers = list(msisdns or [])
    if file is not None:
        try:
            numbers += _read_numbers(file)
        except (OSError, UnicodeDecodeError) as exc:
            err_console.print(f"[red]error[/red] cannot read {file}: {exc}")
            raise typer.Exit(2) from exc
    if not numbers:
        err_console.print("[red]error[/red] give numbers as arguments or with --file")
        raise typer.Exit(2)
    try:
        with transaction(_sessions()) as session:
            added, skipped = add_numbers(session, operator_id, numbers, ACTOR)
    except FaceKycError as exc:
        bad = [numbers[int(f.rsplit(".", 1)[1])] for f in getattr(exc, "fields", None) or []]
        if bad:
            exc.message += f": {', '.join(bad[:10])}{' ...' if len(bad) > 10 else ''} (nothing was added)"
        raise _fail(exc) from exc
    console.print(f"added {added} number(s) to {operator_id}; {skipped} already present")


@numbers_app.command("list")
def numbers_list(
    operator_id: Annotated[str, typer.Argument(metavar="OPERATOR", help="Operator id.")],
    status: Annotated[str | None, typer.Option("--status", help="Only free, assigned or quarantined.")] = None,
) -> None:
    """The operator's numbers and their status."""
    from facekyc.api.commands import _sessions
    from facekyc.registry.operators import list_numbers

    if status not in (None, "free", "assigned", "quarantined"):
        raise typer.BadParameter("free, assigned or quarantined", param_hint="--status")
    try:
        with _sessions()() as session:
            rows = [n for n in list_numbers(session, operator_id) if status is None or n.status == status]
    except FaceKycError as exc:
        raise _fail(exc) from exc
    table = Table("msisdn", "status", "since")
    for n in rows:
        table.add_row(n.msisdn, n.status, f"{n.updated_at:%Y-%m-%d %H:%M}")
    console.print(table)
    console.print(f"{len(rows)} number(s)")


def register(app: typer.Typer) -> None:
    """Add the operator and number commands to the main CLI."""
    app.add_typer(operators_app, name="operators")
    app.add_typer(numbers_app, name="numbers")
