"""drop the staged_row indexes no query uses; index review decisions by fingerprint

Every reader reaches a period's staged rows through the current submission batches (join on batch_id), and the
batch replace deletes by batch_id, so ix_staged_nik and ix_staged_period_type only cost write time: on PostgreSQL
they took about a third of the server CPU of a million-row COPY (issue 3, BENCHMARKS.md). Linkage looks steward
decisions up by fingerprint alone, which the (id_art, fingerprint) unique constraint cannot serve.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 03:40:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('staged_row', schema=None) as batch_op:
        batch_op.drop_index('ix_staged_period_type')
        batch_op.drop_index('ix_staged_nik')
    with op.batch_alter_table('review_decision', schema=None) as batch_op:
        batch_op.create_index('ix_review_decision_fingerprint', ['fingerprint'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('review_decision', schema=None) as batch_op:
        batch_op.drop_index('ix_review_decision_fingerprint')
    with op.batch_alter_table('staged_row', schema=None) as batch_op:
        batch_op.create_index('ix_staged_nik', ['nik'], unique=False)
        batch_op.create_index('ix_staged_period_type', ['period', 'submission_type'], unique=False)
