"""`facekyc index sync` and `facekyc keys rotate-transform`: the face index against the database."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from facekyc.cli_output import console, err_console
from facekyc.config import Settings
from facekyc.errors import FaceKycError

if TYPE_CHECKING:
    from facekyc.registry.service import Registry

index_app = typer.Typer(help="The 1:N dedup index (the database is the truth).", no_args_is_help=True)


def _open() -> Registry:
    """A Registry on the configured database and backend (loads the face engine for its scorer)."""
    from facekyc.registry.service import ConfigurationError, Registry
    from facekyc.vision.engine import FaceEngine

    settings = Settings()
    try:
        return Registry.open(settings, FaceEngine(threads=settings.engine_threads))
    except (ConfigurationError, FaceKycError, ValueError, OSError) as exc:
        err_console.print(f"[red]error[/red] {exc}")
        raise typer.Exit(2) from exc
    except Exception as exc:  # e.g. a Milvus Lite file held by a running server
        err_console.print(f"[red]error[/red] cannot open the {settings.vector_backend} index: {exc}")
        raise typer.Exit(2) from exc


@index_app.command("sync")
def index_sync() -> None:
    """Rebuild the configured index from the database and report the drift it had (exit 1 if any)."""
    registry = _open()
    try:
        report = registry.feed.sync()
    finally:
        registry.close()
    console.print_json(json.dumps({"backend": registry.settings.vector_backend, "enrolled": report.enrolled,
                                   "held_before": report.held_before, "missing": report.missing,
                                   "extra": report.extra, "drift": report.drift, "cursor": report.cursor}))
    if report.drift:
        raise typer.Exit(1)


def rotate_transform() -> None:
    """Renew the keyed rotation of vectors held by Milvus: re-project into a new collection, switch, drop the old."""
    from facekyc.registry.transform_rotation import rotate

    registry = _open()
    try:
        old, new, count = rotate(registry)
    except ValueError as exc:
        err_console.print(f"[red]error[/red] {exc}")
        raise typer.Exit(2) from exc
    finally:
        registry.close()
    console.print(f"vector transform v{old} -> v{new}: {count} templates re-projected; old collection dropped")


def register(app: typer.Typer, keys_app: typer.Typer) -> None:
    app.add_typer(index_app, name="index")
    keys_app.command("rotate-transform")(rotate_transform)
