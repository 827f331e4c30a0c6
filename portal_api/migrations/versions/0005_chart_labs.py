"""chart facts from the EHR: lab results on the patient

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch_op:
        batch_op.add_column(sa.Column("labs", JSON, nullable=True))
    op.execute("UPDATE patients SET labs = '[]'")
    with op.batch_alter_table("patients") as batch_op:
        batch_op.alter_column("labs", existing_type=JSON, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("patients") as batch_op:
        batch_op.drop_column("labs")
