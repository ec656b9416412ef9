"""indexes on cases.updated_at and kb_articles.updated_at: the search index's freshness check asks
max(updated_at) of both tables every few seconds (a full scan each, 80 ms at 100,000 records)

Revision ID: 0008_updated_at_indexes
Revises: 0007_covering_indexes
Create Date: 2026-12-03 08:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_updated_at_indexes"
down_revision: str | None = "0007_covering_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (("cases", "ix_cases_updated_at"), ("kb_articles", "ix_kb_articles_updated_at"))


def upgrade() -> None:
    for table, name in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, ["updated_at"], unique=False)


def downgrade() -> None:
    for table, name in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
