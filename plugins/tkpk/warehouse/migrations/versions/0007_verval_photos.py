"""verval: photos (sha256, perceptual hash, household) and the outcome of each field visit

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'verval_photo',
        sa.Column('photo_id', BigId, autoincrement=True, nullable=False),
        sa.Column('batch_id', BigId, nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('opd_code', sa.String(length=32), nullable=False),
        sa.Column('photo_name', sa.String(length=255), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('phash', sa.String(length=16), nullable=True),
        sa.Column('household', sa.String(length=16), nullable=True),
        sa.Column('kode_kelurahan', sa.String(length=13), nullable=True),
        sa.Column('retention_until', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['batch_id'], ['submission_batch.batch_id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('photo_id'),
    )
    with op.batch_alter_table('verval_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verval_photo_batch_id'), ['batch_id'], unique=False)
    op.create_table(
        'verval_row',
        sa.Column('verval_id', BigId, autoincrement=True, nullable=False),
        sa.Column('batch_id', BigId, nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('opd_code', sa.String(length=32), nullable=False),
        sa.Column('source_file', sa.String(length=255), nullable=False),
        sa.Column('sheet', sa.String(length=100), nullable=True),
        sa.Column('row_number', sa.Integer(), nullable=False),
        sa.Column('nik', sa.String(length=16), nullable=True),
        sa.Column('no_kk', sa.String(length=16), nullable=True),
        sa.Column('kode_kelurahan', sa.String(length=13), nullable=True),
        sa.Column('hasil_verifikasi', sa.String(length=20), nullable=True),
        sa.Column('tanggal_kunjungan', sa.Date(), nullable=True),
        sa.Column('petugas', sa.String(length=200), nullable=True),
        sa.Column('foto_rumah', sa.String(length=255), nullable=True),
        sa.Column('catatan', sa.Text(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('checks', sa.String(length=255), nullable=True),
        sa.Column('retention_until', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['batch_id'], ['submission_batch.batch_id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('verval_id'),
    )
    with op.batch_alter_table('verval_row', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verval_row_batch_id'), ['batch_id'], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB refuses to drop an index a foreign key still needs).
    op.drop_table('verval_row')
    op.drop_table('verval_photo')
