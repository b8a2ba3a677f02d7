"""planning settings per site and stored plans

Revision ID: 0006_planning
Revises: 0005_insights
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import allo.store.types

revision: str = "0006_planning"
down_revision: str | None = "0005_insights"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = allo.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("planning", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("sites") as batch:
        batch.alter_column("planning", server_default=None)
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_plans_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_plans_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
    )
    op.create_index("ix_plans_tenant_id_id", "plans", ["tenant_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_plans_tenant_id_id", table_name="plans")
    op.drop_table("plans")
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("planning")
