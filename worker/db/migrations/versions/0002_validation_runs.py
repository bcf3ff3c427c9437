"""validation runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 21:38:40.617409
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "validation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "running", "completed", "failed", name="run_status", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("images_total", sa.Integer(), nullable=False),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("batches_done", sa.Integer(), nullable=False),
        sa.Column("task_offset", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_validation_runs_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_validation_runs")),
    )
    with op.batch_alter_table("validation_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_validation_runs_job_id"), ["job_id"], unique=False)

    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.add_column(sa.Column("validation_run_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("pixel_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("phash", sa.String(length=16), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_images_validation_run_id_validation_runs"),
            "validation_runs",
            ["validation_run_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_images_validation_run_id_validation_runs"), type_="foreignkey"
        )
        batch_op.drop_column("phash")
        batch_op.drop_column("pixel_hash")
        batch_op.drop_column("validation_run_id")

    with op.batch_alter_table("validation_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_validation_runs_job_id"))

    op.drop_table("validation_runs")
