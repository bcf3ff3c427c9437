"""images carry an indexed key of their source URL, so a chunk skips what its job already has

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 02:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.add_column(sa.Column("url_key", sa.BigInteger(), nullable=True))
        batch.create_index("ix_images_job_url", ["job_id", "url_key"])


def downgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.drop_index("ix_images_job_url")
        batch.drop_column("url_key")
