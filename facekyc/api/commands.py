"""Service commands for `facekyc`: serve, db upgrade, keys rotate/status, audit verify/checkpoint/rotate-key,
apikeys create/assign, retention purge. Registered on the main Typer app by `facekyc.cli`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from facekyc.config import Settings
from facekyc.errors import FaceKycError

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.orm import Session, sessionmaker

console = Console()
err_console = Console(stderr=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="Master keys: rotation without downtime.", no_args_is_help=True)
audit_app = typer.Typer(help="The keyed, hash-chained audit log and its signed checkpoints.", no_args_is_help=True)
apikeys_app = typer.Typer(help="API keys and roles.", no_args_is_help=True)
retention_app = typer.Typer(help="Retained images (FACEKYC_RETAIN_IMAGES_DAYS > 0) and review evidence of cases "
                            "open too long (FACEKYC_REVIEW_EVIDENCE_MAX_DAYS).", no_args_is_help=True)


WORKER_START_S = 180


def _fail(exc: Exception | str) -> typer.Exit:
    err_console.print(f"[red]error[/red] {exc}")
    return typer.Exit(2)


def serve(host: Annotated[str | None, typer.Option(help="Bind address (default FACEKYC_HOST).")] = None,
          port: Annotated[int | None, typer.Option(help="Port (default FACEKYC_PORT).")] = None,
          workers: Annotated[int, typer.Option(min=1, max=64, help="Server processes (uvicorn workers); each "
                                               "loads the models and catches up with the shared database.")] = 1,
          ) -> None:
    """Run the API. With no configuration: SQLite and a key file under FACEKYC_DATA_DIR (./facekyc-data)."""
    import uvicorn

    from facekyc.api.logs import configure
    from facekyc.registry.service import ConfigurationError

    configure()
    settings = Settings()
    bind_host, bind_port = host or settings.host, port or settings.port
    if workers > 1:
        try:
            token = _prepare_shared(settings)
        except (ConfigurationError, FaceKycError, ValueError) as exc:
            raise _fail(exc) from exc
        _show_first_token(token)
        _share_milvus_lite(settings)
        # a worker loading the face models can miss uvicorn's 5 s health ping on a busy machine: allow more
        uvicorn.run("facekyc.api.commands:worker_app", factory=True, workers=workers, host=bind_host,
                    port=bind_port, log_level="info", timeout_worker_healthcheck=WORKER_START_S)
        return
    from facekyc.api.app import create_app

    try:
        app = create_app(settings)
    except (ConfigurationError, FaceKycError, ValueError) as exc:
        raise _fail(exc) from exc
    _show_first_token(app.state.registry.ensure_admin_key())
    uvicorn.run(app, host=bind_host, port=bind_port, log_level="info")


def _show_first_token(token: str | None) -> None:
    if token is not None:
        console.print("[bold]First start: an admin API key was created. It is shown only this once:[/bold]")
        console.print(f"  {token}")


def _prepare_shared(settings: Settings) -> str | None:
    """Before the workers fork: migrate once, create the key file once, make the first admin key."""
    from facekyc.crypto import keyring_from_settings
    from facekyc.registry import audit
    from facekyc.registry.service import check_settings, ensure_admin_key, open_database
    from facekyc.storage.db import make_sessionmaker

    check_settings(settings)
    keyring = keyring_from_settings(settings)
    engine = open_database(settings)
    try:
        return ensure_admin_key(make_sessionmaker(engine, info=audit.bind_keys({}, keyring)))
    finally:
        engine.dispose()


def _share_milvus_lite(settings: Settings) -> None:
    """Workers cannot share a Milvus Lite file: this process serves it and they get its loopback URL."""
    import os

    if settings.vector_backend == "milvus" and settings.milvus_uri:
        from facekyc.storage.vector_index.milvus import host_lite, is_lite_file

        if is_lite_file(settings.milvus_uri):
            os.environ["FACEKYC_MILVUS_URI"] = host_lite(settings.milvus_uri)
            console.print(f"Milvus Lite {settings.milvus_uri} is served to the workers by this process")


def worker_app() -> FastAPI:
    """The app one uvicorn worker serves (`serve --workers N`): its own Registry, settings from FACEKYC_*."""
    from facekyc.api.app import create_app
    from facekyc.api.logs import configure

    configure()
    return create_app(Settings())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations up to the newest schema (serve does this on start too)."""
    from facekyc.registry.service import open_database
    from facekyc.storage import migrate

    engine = open_database(Settings())
    console.print(f"schema at revision {migrate.current_revision(engine)} ({engine.dialect.name})")
    engine.dispose()


def _sessions() -> sessionmaker[Session]:
    """Sessions bound to the key ring (the audit chain's keys travel with them)."""
    from facekyc.crypto import keyring_from_settings
    from facekyc.registry import audit
    from facekyc.registry.service import open_database
    from facekyc.storage.db import make_sessionmaker

    settings = Settings()
    engine = open_database(settings)
    keyring = keyring_from_settings(settings)
    sessions = make_sessionmaker(engine, info=audit.bind_keys({}, keyring))
    with sessions() as session:
        unpinned = audit.record_legacy_cutoff(session, keyring)
    if unpinned is not None:
        err_console.print(f"[yellow]warning[/yellow] {unpinned} unkeyed audit entries from before migration 0002: "
                          f"set FACEKYC_AUDIT_LEGACY_UNTIL={unpinned}")
    return sessions


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
def audit_verify(checkpoint: Annotated[Path | None, typer.Option(
        "--checkpoint", help="A checkpoint exported earlier: also detects entries deleted since.")] = None) -> None:
    """Recheck the keyed chain; exit code 1 if any entry was edited, removed, reordered or re-hashed."""
    from facekyc.registry import audit

    try:
        pinned = json.loads(checkpoint.read_text(encoding="utf-8")) if checkpoint is not None else None
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read checkpoint {checkpoint}: {exc}") from exc
    if pinned is not None and not isinstance(pinned, dict):
        raise _fail(f"{checkpoint} is not a checkpoint")
    with _sessions()() as session:
        report = audit.verify(session, pinned)
    console.print_json(json.dumps(report.to_dict()))
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(out: Annotated[Path, typer.Option("--out", help="Where to write the signed JSON.")]) -> None:
    """Verify the chain, then write an Ed25519-signed checkpoint of its head; keep it outside the database."""
    from facekyc.registry import audit

    with _sessions()() as session:
        try:
            signed = audit.make_checkpoint(session)
        except ValueError as exc:
            raise _fail(exc) from exc
    out.write_text(json.dumps(signed, indent=2) + "\n", encoding="utf-8")
    console.print(f"checkpoint of entry {signed['seq']} written to {out}")


@audit_app.command("rotate-key")
def audit_rotate_key() -> None:
    """Start using a new audit HMAC key; entries under older keys stay verifiable."""
    from facekyc.crypto import keyring_from_settings

    try:
        key_id = keyring_from_settings(Settings()).add_audit_key()
    except FaceKycError as exc:
        raise _fail(exc) from exc
    console.print(f"new audit key {key_id}")


@apikeys_app.command("create")
def apikeys_create(role: Annotated[str, typer.Option(help="clerk, reviewer, auditor or admin")],
                   name: Annotated[str, typer.Option(help="Who or what uses the key")],
                   operator: Annotated[str | None, typer.Option(
                       "--operator", help="Operator id (required for clerk keys)")] = None,
                   store: Annotated[str | None, typer.Option("--store", help="Store label (clerk keys)")] = None,
                   scope_global: Annotated[bool, typer.Option(
                       "--global", help="Reviewer/auditor key that sees every operator")] = False) -> None:
    """Create an API key and print its token (shown once; only its hash is stored)."""
    from facekyc.registry import apikeys, audit
    from facekyc.storage.db import transaction

    try:
        with transaction(_sessions()) as session:
            key, token = apikeys.create_key(session, name, role, operator_id=operator, store=store,
                                            scope_global=scope_global)
            audit.append(session, actor="cli", action="apikey.created", target=key.id, details={
                "role": role, "operator": key.operator_id, "store": key.store, "global": key.scope_global})
    except FaceKycError as exc:
        raise _fail(exc) from exc
    console.print_json(json.dumps({"id": key.id, "role": role, "operator": key.operator_id, "store": key.store,
                                   "global": key.scope_global, "token": token}))


@apikeys_app.command("assign")
def apikeys_assign(key_id: Annotated[str, typer.Argument(help="The key id (key_...)")],
                   operator: Annotated[str, typer.Option("--operator", help="Operator id")],
                   store: Annotated[str | None, typer.Option("--store", help="Store label (clerk keys)")] = None
                   ) -> None:
    """Bind a key without an operator (a clerk key from before operator scoping) to one operator."""
    from facekyc.registry import apikeys, audit
    from facekyc.storage.db import transaction

    try:
        with transaction(_sessions()) as session:
            key = apikeys.assign_operator(session, key_id, operator, store)
            audit.append(session, actor="cli", action="apikey.assigned", target=key.id,
                         details={"operator": key.operator_id, "store": key.store})
    except FaceKycError as exc:
        raise _fail(exc) from exc
    console.print_json(json.dumps({"id": key.id, "role": key.role, "operator": key.operator_id, "store": key.store}))


@retention_app.command("purge")
def retention_purge() -> None:
    """Delete retained images whose retention period is over, and the face crops of review cases open too long."""
    from facekyc.crypto import keyring_from_settings
    from facekyc.registry.retention import purge_due

    class _Minimal:  # purge needs only the sessions; no face engine is loaded
        def __init__(self) -> None:
            from facekyc.registry.vault import Vault

            self.settings = Settings()
            self.sessions = _sessions()
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
