"""provenance of images, warnings of chunks

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 23:59:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.add_column(sa.Column("query", sa.Text(), nullable=True))
        batch.add_column(sa.Column("license", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("license_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("creator", sa.Text(), nullable=True))
        batch.add_column(sa.Column("attribution", sa.Text(), nullable=True))
    with op.batch_alter_table("chunks") as batch:
        batch.add_column(
            sa.Column("warnings", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("chunks") as batch:
        batch.drop_column("warnings")
    with op.batch_alter_table("images") as batch:
        for name in ("attribution", "creator", "license_url", "license", "query"):
            batch.drop_column(name)
