"""chunks wait for their engine's search quota

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chunks") as batch:
        batch.add_column(sa.Column("waiting_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("search_state", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chunks") as batch:
        batch.drop_column("search_state")
        batch.drop_column("waiting_until")
