"""Template configurations: every template id names its models and its calibration
("sface+dlib" becomes "sface+dlib@cal-<sha8>", the calibration shipped when this migration runs).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_subscribers = sa.table("subscribers", sa.column("template_version", sa.String(64)),
                        sa.column("template_ciphertext", sa.LargeBinary()))


def _suffix() -> str:
    """Frozen copy of registry.template_configs.calibration_tag (a migration must not follow later code)."""
    import hashlib

    from facekyc.vision.calibration import Calibration

    return "@cal-" + hashlib.sha256(Calibration.load().to_json().encode()).hexdigest()[:8]


def upgrade() -> None:
    version = _subscribers.c.template_version
    op.execute(_subscribers.update().where(_subscribers.c.template_ciphertext.is_not(None), version.is_(None))
               .values(template_version="sface+dlib"))  # the only configuration before this revision
    op.execute(_subscribers.update().where(version.is_not(None), version.not_like("%@%"))
               .values(template_version=version + _suffix()))


def downgrade() -> None:
    version = _subscribers.c.template_version
    suffix = _suffix()
    op.execute(_subscribers.update().where(version.like("%" + suffix))
               .values(template_version=sa.func.substr(version, 1, sa.func.length(version) - len(suffix))))
