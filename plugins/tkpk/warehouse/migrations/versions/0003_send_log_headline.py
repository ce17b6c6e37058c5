"""keep the headline figures of each sent report version in send_log

A re-sent report (REVISI) names the headline figures that changed since the version the reader got (old -> new);
the send log kept only a hash of the data, so the figures of each sent version are kept beside it (issue #12).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 21:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('send_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('headline', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('send_log', schema=None) as batch_op:
        batch_op.drop_column('headline')
