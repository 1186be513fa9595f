"""Migration 0005 on an 0004 database holding templates: each template id gains the calibration that made it,
and downgrading gives the old ids back (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import Engine, text

from facekyc.registry.template_configs import calibration_tag, config_id
from facekyc.storage import migrate
from facekyc.vision.calibration import Calibration


def _versions(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        return {ref: v for ref, v in conn.execute(text("SELECT ref, template_version FROM subscribers"))}


def test_0005_names_the_calibration_of_every_template_and_downgrades(empty_db: Engine) -> None:
    migrate.upgrade(empty_db, "0004")
    now = datetime.now(UTC).isoformat()
    with empty_db.begin() as conn:
        for ref, version, template in (("sbr_fused", "sface+dlib", b"t"), ("sbr_unlabelled", None, b"t"),
                                       ("sbr_erased", None, None)):
            conn.execute(text("INSERT INTO subscribers (ref, doc_type, template_ciphertext, template_version, "
                              "status, created_at) VALUES (:ref, 'cn_ric', :t, :v, 'active', :at)"),
                         {"ref": ref, "t": template, "v": version, "at": now})
    migrate.upgrade(empty_db)
    frozen = Path(migrate.MIGRATIONS) / "versions" / "0005_calibration.json"  # what made the earlier templates
    fused = config_id(["sface", "dlib"], Calibration.load(frozen))
    assert _versions(empty_db) == {"sbr_fused": fused, "sbr_unlabelled": fused, "sbr_erased": None}
    with empty_db.connect() as conn:  # the calibration those templates were made with is kept by its tag
        kept = conn.execute(text("SELECT tag, calibration FROM template_calibrations")).all()
    assert [(tag, calibration_tag(Calibration.from_json(body))) for tag, body in kept] == [(fused[-12:],) * 2]
    config = migrate.alembic_config()
    with empty_db.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")
    assert _versions(empty_db) == {"sbr_fused": "sface+dlib", "sbr_unlabelled": "sface+dlib", "sbr_erased": None}
