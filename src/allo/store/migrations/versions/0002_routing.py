"""routing: queue policies, contact routing fields, live queue status

Revision ID: 0002_routing
Revises: 0001
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import allo.store.types

revision: str = "0002_routing"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = allo.store.types.UTCDateTime(timezone=True)
CONTACT_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("site_group", sa.String(length=64), nullable=True),
    sa.Column("site_only", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("offer_expires_at", UTC, nullable=True),
    sa.Column("callback_at", UTC, nullable=True),
    sa.Column("wrap_code", sa.String(length=64), nullable=True),
    sa.Column("wrap_notes", sa.Text(), nullable=True),
    sa.Column("resolved", sa.Boolean(), nullable=True),
    sa.Column("satisfaction", sa.Integer(), nullable=True),
    sa.Column("answered_at", UTC, nullable=True),
    sa.Column("ended_at", UTC, nullable=True),
]


def upgrade() -> None:
    with op.batch_alter_table("queues") as batch:
        batch.add_column(
            sa.Column("routing_policy", sa.JSON(), nullable=False, server_default="{}")
        )
    with op.batch_alter_table("contacts") as batch:
        for column in CONTACT_COLUMNS:
            batch.add_column(column)
    op.create_table(
        "queue_status",
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.Column("longest_wait", sa.Float(), nullable=False),
        sa.Column("estimates", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"], ["queues.id"], name=op.f("fk_queue_status_queue_id_queues")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_queue_status_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("queue_id", name=op.f("pk_queue_status")),
    )
    with op.batch_alter_table("queue_status") as batch:
        batch.create_index(batch.f("ix_queue_status_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_table("queue_status")
    with op.batch_alter_table("contacts") as batch:
        for column in reversed(CONTACT_COLUMNS):
            batch.drop_column(column.name)
    with op.batch_alter_table("queues") as batch:
        batch.drop_column("routing_policy")
