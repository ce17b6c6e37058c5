"""indexes for the TKPK view's paged pages (Karantina, Tinjauan)

The Karantina page reads one batch's row errors a page at a time in Excel row order; the Tinjauan page reads a
period's open review items a page at a time by probability. Without these indexes each page sorts the whole batch or
period, which at province scale is the difference between milliseconds and seconds.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 21:10:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.create_index('ix_finding_batch_severity_row', ['batch_id', 'severity', 'row_number'], unique=False)
    with op.batch_alter_table('review_item', schema=None) as batch_op:
        batch_op.create_index('ix_review_item_open', ['period', 'status', 'match_probability'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('review_item', schema=None) as batch_op:
        batch_op.drop_index('ix_review_item_open')
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_index('ix_finding_batch_severity_row')
