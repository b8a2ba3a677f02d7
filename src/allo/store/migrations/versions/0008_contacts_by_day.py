"""contacts: index by tenant and creation time (the wall's figures of the day)

Revision ID: 0008_contacts_by_day
Revises: 0007_voice
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_contacts_by_day"
down_revision: str | None = "0007_voice"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_contacts_tenant_created", "contacts", ["tenant_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_contacts_tenant_created", table_name="contacts")
