"""period_rebuild: later months marked for rebuild when an earlier month is revised (issue #13)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 21:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'period_rebuild',
        sa.Column('rebuild_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                  nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('because_of', sa.String(length=7), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('requested_by', sa.String(length=250), nullable=False),
        sa.Column('rebuilt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('rebuilt_by', sa.String(length=250), nullable=True),
        sa.PrimaryKeyConstraint('rebuild_id'),
    )
    with op.batch_alter_table('period_rebuild', schema=None) as batch_op:
        batch_op.create_index('ix_period_rebuild_period', ['period'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('period_rebuild', schema=None) as batch_op:
        batch_op.drop_index('ix_period_rebuild_period')
    op.drop_table('period_rebuild')
