"""Operator-scoped API keys and capture sessions; audit entries name their HMAC key.

Existing keys: reviewer, auditor and admin keys become global (what they could do before); clerk
keys get no operator, so they are refused (403 key_not_scoped) for operator-bound actions until an
admin assigns one (`facekyc apikeys assign KEY --operator ID`) or replaces them. Existing audit
entries keep their plain SHA-256 (key_id NULL); the keyring records where they end on first start.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("operator_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("store", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("scope_global", sa.Boolean(), server_default=sa.text("false"),
                                      nullable=False))
    with op.batch_alter_table("capture_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("operator_id", sa.String(length=32), nullable=True))
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))
    op.execute(sa.text("UPDATE api_keys SET scope_global = true WHERE role IN ('reviewer', 'auditor', 'admin')"))


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("key_id")
    with op.batch_alter_table("capture_sessions", schema=None) as batch_op:
        batch_op.drop_column("operator_id")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("scope_global")
        batch_op.drop_column("store")
        batch_op.drop_column("operator_id")
