"""Review evidence: a pending case's face crops under its own data key; the best live frame's crop on the
capture until it is used; optionally an enrolled subscriber's crop under the subscriber's key.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_evidence",
        sa.Column("registration_id", sa.String(length=32), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("document_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("live_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purge_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["registration_id"], ["registrations.id"],
                                name=op.f("fk_review_evidence_registration_id_registrations")),
        sa.PrimaryKeyConstraint("registration_id", name=op.f("pk_review_evidence")),
    )
    op.create_index(op.f("ix_review_evidence_purge_after"), "review_evidence", ["purge_after"], unique=False)
    with op.batch_alter_table("capture_sessions") as batch:
        batch.add_column(sa.Column("face_crop_ciphertext", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("face_crop_ciphertext", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("face_crop_ciphertext")
    with op.batch_alter_table("capture_sessions") as batch:
        batch.drop_column("face_crop_ciphertext")
    op.drop_index(op.f("ix_review_evidence_purge_after"), table_name="review_evidence")
    op.drop_table("review_evidence")
