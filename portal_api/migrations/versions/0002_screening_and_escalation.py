"""red-flag screening and escalation: system entries, urgent_since, escalations, notifications

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch_op:
        batch_op.alter_column("author_id", existing_type=sa.String(length=36), nullable=True)
    with op.batch_alter_table("items") as batch_op:
        batch_op.add_column(sa.Column("urgent_since", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_items_urgent_since"), ["urgent_since"], unique=False)
    op.execute("UPDATE items SET urgent_since = created_at WHERE priority = 'urgent'")
    op.create_table(
        "escalations",
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("urgent_since", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("on_call_id", sa.String(length=36), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_escalations_item_id_items")
        ),
        sa.PrimaryKeyConstraint("item_id", "urgent_since", name=op.f("pk_escalations")),
    )
    # Urgent work from before escalation existed is not paged all at once on the first tick
    # after the upgrade: staff have been seeing it in their inboxes. New urgency escalates.
    op.execute(
        "INSERT INTO escalations (item_id, urgent_since, reason, on_call_id, at) "
        "SELECT id, urgent_since, 'pre_existing', NULL, urgent_since FROM items "
        "WHERE urgent_since IS NOT NULL"
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("failed_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifications_next_attempt_at"), ["next_attempt_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("escalations")
    with op.batch_alter_table("items") as batch_op:
        batch_op.drop_index(batch_op.f("ix_items_urgent_since"))
        batch_op.drop_column("urgent_since")
    # 0001 has no authorless entries: the automatic replies keep a placeholder id.
    op.execute("UPDATE entries SET author_id = 'system' WHERE author_id IS NULL")
    with op.batch_alter_table("entries") as batch_op:
        batch_op.alter_column("author_id", existing_type=sa.String(length=36), nullable=False)
