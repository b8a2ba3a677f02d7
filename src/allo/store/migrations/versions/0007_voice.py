"""voice: recording flag and retention per queue, recordings per contact

Revision ID: 0007_voice
Revises: 0006_planning
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import allo.store.types

revision: str = "0007_voice"
down_revision: str | None = "0006_planning"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = allo.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("queues") as batch:
        batch.add_column(
            sa.Column("recording", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column(
                "recording_retention_days", sa.Integer(), nullable=False, server_default="183"
            )
        )
    with op.batch_alter_table("queues") as batch:
        batch.alter_column("recording", server_default=None)
        batch.alter_column("recording_retention_days", server_default=None)
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.Column("paused_spans", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_recordings_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_recordings_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
    )
    op.create_index(op.f("ix_recordings_contact_id"), "recordings", ["contact_id"], unique=False)
    op.create_index(op.f("ix_recordings_expires_at"), "recordings", ["expires_at"], unique=False)
    op.create_index("ix_recordings_tenant_id_id", "recordings", ["tenant_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_recordings_tenant_id_id", table_name="recordings")
    op.drop_index(op.f("ix_recordings_expires_at"), table_name="recordings")
    op.drop_index(op.f("ix_recordings_contact_id"), table_name="recordings")
    op.drop_table("recordings")
    with op.batch_alter_table("queues") as batch:
        batch.drop_column("recording_retention_days")
        batch.drop_column("recording")
