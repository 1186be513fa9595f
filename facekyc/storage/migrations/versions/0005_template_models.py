"""Template configurations: every template id names its models and the calibration that made it
("sface+dlib" becomes "sface+dlib@cal-<sha8>"), and every such calibration is kept in
`template_calibrations` so its templates stay checkable after the shipped calibration changes.

Templates before this revision were all made by the calibration frozen beside this file
(`0005_calibration.json`, a copy of `facekyc/vision/data/calibration.json` as shipped then).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_subscribers = sa.table("subscribers", sa.column("template_version", sa.String(64)),
                        sa.column("template_ciphertext", sa.LargeBinary()))
_FROZEN = Path(__file__).with_name("0005_calibration.json")


def _frozen() -> tuple[str, str]:
    """(tag, JSON) of the calibration every earlier template was made with; the tag as
    registry.template_configs.calibration_tag computes it (copied: a migration must not follow later code)."""
    text = _FROZEN.read_text()
    data = json.loads(text)
    canonical = json.dumps({"fusion": data["fusion"], "scores": data["scores"]}, sort_keys=True)
    return "cal-" + hashlib.sha256(canonical.encode()).hexdigest()[:8], text


def upgrade() -> None:
    table = op.create_table(
        "template_calibrations",
        sa.Column("tag", sa.String(length=16), nullable=False),
        sa.Column("calibration", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tag", name=op.f("pk_template_calibrations")),
    )
    tag, text = _frozen()
    op.bulk_insert(table, [{"tag": tag, "calibration": text, "created_at": datetime.now(UTC)}])
    version = _subscribers.c.template_version
    op.execute(_subscribers.update().where(_subscribers.c.template_ciphertext.is_not(None), version.is_(None))
               .values(template_version="sface+dlib"))  # the only configuration before this revision
    op.execute(_subscribers.update().where(version.is_not(None), version.not_like("%@%"))
               .values(template_version=version + "@" + tag))


def downgrade() -> None:
    version = _subscribers.c.template_version
    suffix = "@" + _frozen()[0]
    op.execute(_subscribers.update().where(version.like("%" + suffix))
               .values(template_version=sa.func.substr(version, 1, sa.func.length(version) - len(suffix))))
    op.drop_table("template_calibrations")
