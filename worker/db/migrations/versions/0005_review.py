"""review state of images

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.add_column(sa.Column(
            "review",
            sa.Enum("unreviewed", "accepted", "rejected", name="review_state", native_enum=False,
                    length=16),
            nullable=False, server_default="unreviewed"))
        batch.create_index("ix_images_job_review", ["job_id", "review"])


def downgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.drop_index("ix_images_job_review")
        batch.drop_column("review")
