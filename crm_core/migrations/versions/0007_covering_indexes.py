"""covering indexes for churn scoring: projects by customer with their start, proposal versions by proposal
with their id, proposal views by version with their time (each replaces the single-column index it extends)

Revision ID: 0007_covering_indexes
Revises: 0006_job_indexes
Create Date: 2026-12-02 14:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_covering_indexes"
down_revision: str | None = "0006_job_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table, old single-column index, its column, new index, its columns
REPLACED = (
    ("projects", "ix_projects_customer_id", "customer_id", "ix_projects_customer_start",
     ["customer_id", "start", "created_at"]),
    ("proposal_versions", "ix_proposal_versions_proposal_id", "proposal_id", "ix_proposal_versions_proposal",
     ["proposal_id", "id"]),
    ("proposal_views", "ix_proposal_views_version_id", "version_id", "ix_proposal_views_version_viewed",
     ["version_id", "viewed_at"]),
)


def upgrade() -> None:
    for table, old, _column, new, columns in REPLACED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(new, columns, unique=False)
            batch_op.drop_index(old)


def downgrade() -> None:
    for table, old, column, new, _columns in REPLACED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(old, [column], unique=False)
            batch_op.drop_index(new)
