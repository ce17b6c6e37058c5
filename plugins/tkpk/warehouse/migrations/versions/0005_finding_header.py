"""finding.header: the column's header as the OPD's file wrote it

Feedback names a column the way the clerk wrote it ("Kode Kel", "Mulai Kepesertaan"); `column` keeps the canonical
name for code and the `tkpk validate --json` contract (issue #14).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('header', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_column('header')
