"""Service commands for `facekyc`: serve, db upgrade, keys rotate/status, audit verify, apikeys create,
retention purge. Registered on the main Typer app by `facekyc.cli`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from facekyc.config import Settings
from facekyc.errors import FaceKycError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

console = Console()
err_console = Console(stderr=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="Master keys: rotation without downtime.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
apikeys_app = typer.Typer(help="API keys and roles.", no_args_is_help=True)
retention_app = typer.Typer(help="Retained images (FACEKYC_RETAIN_IMAGES_DAYS > 0) and review evidence of cases "
                            "open too long (FACEKYC_REVIEW_EVIDENCE_MAX_DAYS).", no_args_is_help=True)


def _fail(exc: Exception) -> typer.Exit:
    err_console.print(f"[red]error[/red] {exc}")
    return typer.Exit(2)


def serve(host: Annotated[str | None, typer.Option(help="Bind address (default FACEKYC_HOST).")] = None,
          port: Annotated[int | None, typer.Option(help="Port (default FACEKYC_PORT).")] = None) -> None:
    """Run the API. With no configuration: SQLite and a key file under FACEKYC_DATA_DIR (./facekyc-data)."""
    import uvicorn

    from facekyc.api.app import create_app
    from facekyc.api.logs import configure
    from facekyc.registry.service import ConfigurationError

    configure()
    settings = Settings()
    try:
        app = create_app(settings)
    except (ConfigurationError, FaceKycError, ValueError) as exc:
        raise _fail(exc) from exc
    token = app.state.registry.ensure_admin_key()
    if token is not None:
        console.print("[bold]First start: an admin API key was created. It is shown only this once:[/bold]")
        console.print(f"  {token}")
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="info")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations up to the newest schema (serve does this on start too)."""
    from facekyc.registry.service import open_database
    from facekyc.storage import migrate

    engine = open_database(Settings())
    console.print(f"schema at revision {migrate.current_revision(engine)} ({engine.dialect.name})")
    engine.dispose()


def _sessions() -> sessionmaker[Session]:
    from facekyc.registry.service import open_database
    from facekyc.storage.db import make_sessionmaker

    return make_sessionmaker(open_database(Settings()))


@keys_app.command("rotate")
def keys_rotate(retire: Annotated[bool, typer.Option("--retire", help="Retire old keys once no row uses them.")]
                = False) -> None:
    """Add a new master key, re-wrap every data key under it (servers keep running)."""
    from facekyc.crypto import keyring_from_settings
    from facekyc.registry.keys import rotate

    settings = Settings()
    try:
        report = rotate(_sessions(), keyring_from_settings(settings), retire=retire)
    except FaceKycError as exc:
        raise _fail(exc) from exc
    console.print(f"new master key {report.new_key}; re-wrapped {report.rewrapped} data keys; "
                  f"retired {', '.join(report.retired) or 'none'}")
    console.print_json(json.dumps({"data_keys_per_master_key": report.remaining}))


@keys_app.command("status")
def keys_status() -> None:
    """The current master key and how many data keys each master key protects."""
    from facekyc.crypto import keyring_from_settings
    from facekyc.registry.keys import key_usage

    ring = keyring_from_settings(Settings())
    usage = key_usage(_sessions())
    console.print_json(json.dumps({"current": ring.key_id, "keys": list(ring.key_ids),
                                   "data_keys_per_master_key": usage}))


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; exit code 1 if any entry was edited, removed or reordered."""
    from facekyc.registry import audit

    with _sessions()() as session:
        report = audit.verify(session)
    console.print_json(json.dumps(report.to_dict()))
    if not report.ok:
        raise typer.Exit(1)


@apikeys_app.command("create")
def apikeys_create(role: Annotated[str, typer.Option(help="clerk, reviewer, auditor or admin")],
                   name: Annotated[str, typer.Option(help="Who or what uses the key")]) -> None:
    """Create an API key and print its token (shown once; only its hash is stored)."""
    from facekyc.registry import apikeys, audit
    from facekyc.storage.db import transaction

    try:
        with transaction(_sessions()) as session:
            key, token = apikeys.create_key(session, name, role)
            audit.append(session, actor="cli", action="apikey.created", target=key.id, details={"role": role})
    except FaceKycError as exc:
        raise _fail(exc) from exc
    console.print_json(json.dumps({"id": key.id, "role": role, "token": token}))


@retention_app.command("purge")
def retention_purge() -> None:
    """Delete retained images whose retention period is over, and the face crops of review cases open too long."""
    from facekyc.crypto import keyring_from_settings
    from facekyc.registry.retention import purge_due
    from facekyc.registry.service import open_database

    class _Minimal:  # purge needs only the sessions; no face engine is loaded
        def __init__(self) -> None:
            from facekyc.registry.vault import Vault
            from facekyc.storage.db import make_sessionmaker

            self.settings = Settings()
            self.sessions = make_sessionmaker(open_database(self.settings))
            self.vault = Vault(keyring_from_settings(self.settings))

    count = purge_due(_Minimal())  # type: ignore[arg-type]
    console.print(f"purged the images of {count} row(s) (retained images, review cases, unused captures)")


def register(app: typer.Typer) -> None:
    """Attach the service commands to the main CLI."""
    app.command("serve")(serve)
    app.add_typer(db_app, name="db")
    app.add_typer(keys_app, name="keys")
    app.add_typer(audit_app, name="audit")
    app.add_typer(apikeys_app, name="apikeys")
    app.add_typer(retention_app, name="retention")
