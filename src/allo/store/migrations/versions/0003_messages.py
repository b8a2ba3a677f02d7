"""messages of conversations and web chat sessions

Revision ID: 0003_messages
Revises: 0002_routing
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import allo.store.types

revision: str = "0003_messages"
down_revision: str | None = "0002_routing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = allo.store.types.UTCDateTime(timezone=True)
BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "contact_messages",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("author_kind", sa.String(length=16), nullable=False),
        sa.Column("adviser_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["adviser_id"], ["advisers.id"], name=op.f("fk_contact_messages_adviser_id_advisers")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_contact_messages_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_contact_messages_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_messages")),
    )
    op.create_index(
        "ix_contact_messages_contact_id_id", "contact_messages", ["contact_id", "id"], unique=False
    )
    op.create_table(
        "chat_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("last_seen_at", UTC, nullable=False),
        sa.Column("disconnected_at", UTC, nullable=True),
        sa.Column("csat_comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_chat_sessions_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_chat_sessions_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_sessions")),
        sa.UniqueConstraint("contact_id", name=op.f("uq_chat_sessions_contact_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_chat_sessions_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("chat_sessions")
    op.drop_index("ix_contact_messages_contact_id_id", table_name="contact_messages")
    op.drop_table("contact_messages")
