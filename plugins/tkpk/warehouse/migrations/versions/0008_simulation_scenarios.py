"""what-if scenarios: simulation_scenario and simulation_diff (tkpk simulate)

Scenarios live in their own tables keyed by scenario_id; the month's eligibility_decision, eligibility_change and
targeting_result are never written by a simulation.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('simulation_scenario',
    sa.Column('scenario_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('overrides', sa.JSON(), nullable=False),
    sa.Column('rules_file', sa.String(length=255), nullable=True),
    sa.Column('rule_set_version', sa.String(length=20), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=True),
    sa.Column('requested_by', sa.String(length=254), nullable=True),
    sa.Column('request_id', sa.String(length=250), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('scenario_id')
    )
    with op.batch_alter_table('simulation_scenario', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_simulation_scenario_period'), ['period'], unique=False)
        batch_op.create_index(batch_op.f('ix_simulation_scenario_request_id'), ['request_id'], unique=False)

    op.create_table('simulation_diff',
    sa.Column('diff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('scenario_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('program', sa.String(length=32), nullable=False),
    sa.Column('id_keluarga', sa.String(length=40), nullable=False),
    sa.Column('id_art', sa.String(length=40), nullable=False),
    sa.Column('kode_kelurahan', sa.String(length=13), nullable=True),
    sa.Column('kode_kecamatan', sa.String(length=8), nullable=True),
    sa.Column('baseline_eligible', sa.Boolean(), nullable=False),
    sa.Column('scenario_eligible', sa.Boolean(), nullable=False),
    sa.Column('baseline_benefit', sa.BigInteger(), nullable=False),
    sa.Column('scenario_benefit', sa.BigInteger(), nullable=False),
    sa.Column('baseline_rank', sa.Integer(), nullable=True),
    sa.Column('scenario_rank', sa.Integer(), nullable=True),
    sa.Column('baseline_reasons', sa.Text(), nullable=True),
    sa.Column('scenario_reasons', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['scenario_id'], ['simulation_scenario.scenario_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('diff_id')
    )
    with op.batch_alter_table('simulation_diff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_simulation_diff_scenario_id'), ['scenario_id'], unique=False)


def downgrade() -> None:
    # the index goes with its table (MariaDB refuses to drop an index its foreign key needs)
    op.drop_table('simulation_diff')
    with op.batch_alter_table('simulation_scenario', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_simulation_scenario_request_id'))
        batch_op.drop_index(batch_op.f('ix_simulation_scenario_period'))
    op.drop_table('simulation_scenario')
