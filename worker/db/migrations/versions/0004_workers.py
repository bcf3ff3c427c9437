"""workers: live worker processes and the tasks they hold

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holding", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_workers")),
    )

def downgrade() -> None:
    op.drop_table("workers")
