"""chunks say where their target went, and which shares they took over

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COUNTERS = ("results_found", "filtered_out", "failed_timeout", "failed_not_image",
            "failed_too_large", "failed_robots", "failed_optout", "failed_http",
            "failed_network", "failed_other")


def upgrade() -> None:
    with op.batch_alter_table("chunks") as batch:
        for name in COUNTERS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False,
                                       server_default=sa.text("0")))
        batch.add_column(sa.Column("search_end", sa.String(16), nullable=True))
        batch.add_column(sa.Column("took_over", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chunks") as batch:
        batch.drop_column("took_over")
        batch.drop_column("search_end")
        for name in reversed(COUNTERS):
            batch.drop_column(name)
