"""job indexes: the push ledger's day index split into partial indexes and a BRIN index; the outbox's
rate-key index only over rows that have one

Revision ID: 0006_job_indexes
Revises: 0005_curation
Create Date: 2026-12-02 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_job_indexes"
down_revision: str | None = "0005_curation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("push_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_push_ledger_day_entity")
        batch_op.create_index("ix_push_ledger_messages", ["day", "recipient"], unique=False,
                              sqlite_where=sa.text("entity = 'message'"), postgresql_where=sa.text("entity = 'message'"))
        batch_op.create_index("ix_push_ledger_capped", ["day", "recipient"], unique=False,
                              sqlite_where=sa.text("status = 'capped'"), postgresql_where=sa.text("status = 'capped'"))
        batch_op.create_index("ix_push_ledger_day", ["day"], unique=False, postgresql_using="brin")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_rate_key_sent")
        batch_op.create_index("ix_outbox_rate_key_sent", ["rate_key", "sent_at"], unique=False,
                              sqlite_where=sa.text("rate_key IS NOT NULL"), postgresql_where=sa.text("rate_key IS NOT NULL"))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_rate_key_sent")
        batch_op.create_index("ix_outbox_rate_key_sent", ["rate_key", "sent_at"], unique=False)
    with op.batch_alter_table("push_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_push_ledger_day", postgresql_using="brin")
        batch_op.drop_index("ix_push_ledger_capped")
        batch_op.drop_index("ix_push_ledger_messages")
        batch_op.create_index("ix_push_ledger_day_entity", ["day", "entity", "recipient"], unique=False)
