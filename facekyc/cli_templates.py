"""`facekyc templates status|migrate`: which model configurations enrolled templates use, and moving them."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from facekyc.cli_index import _open
from facekyc.cli_output import console

templates_app = typer.Typer(help="Face templates per model configuration (FACEKYC_MODELS + calibration).",
                            no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@templates_app.command("status")
def templates_status(as_json: JsonOption = False) -> None:
    """Enrolled templates per model configuration; which one is current; how many can move from a crop."""
    from facekyc.registry.template_migration import template_counts

    registry = _open()
    try:
        counts = template_counts(registry)
    finally:
        registry.close()
    if as_json:
        console.print_json(json.dumps({"current": registry.configs.current_id,
                                       "configurations": [c.to_dict() for c in counts]}))
        return
    table = Table("configuration", "templates", "with crop", "state")
    for c in counts:
        state = "current" if c.current else ("older: checked with its own models" if c.usable
                                             else "UNUSABLE here: customers must enrol again")
        table.add_row(c.config, str(c.templates), str(c.with_crop), state)
    console.print(table)
    older = sum(c.templates for c in counts if not c.current)
    if older:
        console.print(f"{older} template(s) are not current: each dedup search also runs once per older "
                      "configuration; `facekyc templates migrate` moves those with a kept crop.")


@templates_app.command("migrate")
def templates_migrate(as_json: JsonOption = False) -> None:
    """Re-embed older templates from kept enrolment crops with the current configuration (in place)."""
    from facekyc.registry.template_migration import migrate_templates

    registry = _open()
    try:
        report = migrate_templates(registry)
    finally:
        registry.close()
    if as_json:
        console.print_json(json.dumps(report.to_dict()))
        return
    console.print(f"{report.migrated} template(s) re-embedded as {report.current} from kept crops"
                  + (f"; {report.failed} crop(s) held no usable face" if report.failed else "") + ".")
    if report.awaiting_contact:
        console.print(f"{report.awaiting_contact} template(s) still need their customer's next face-verified "
                      "contact (SIM replacement or numbers query) to be re-enrolled "
                      + ("(no enrolment crop is kept: FACEKYC_KEEP_ENROLMENT_CROP is off or was off when they "
                         "enrolled)." if not registry.settings.keep_enrolment_crop else "(no usable crop)."))
    else:
        console.print("every enrolled template uses the current configuration.")


def register(app: typer.Typer) -> None:
    app.add_typer(templates_app, name="templates")
