"""initial warehouse schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-29 00:15:36.261486
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('audit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=True),
    sa.Column('opd_code', sa.String(length=32), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('audit_id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('eligibility_change',
    sa.Column('change_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('program', sa.String(length=32), nullable=False),
    sa.Column('id_keluarga', sa.String(length=40), nullable=False),
    sa.Column('id_art', sa.String(length=40), nullable=False),
    sa.Column('kode_kelurahan', sa.String(length=13), nullable=False),
    sa.Column('kode_kecamatan', sa.String(length=8), nullable=False),
    sa.Column('change', sa.String(length=20), nullable=False),
    sa.Column('reasons_before', sa.Text(), nullable=True),
    sa.Column('reasons_after', sa.Text(), nullable=True),
    sa.Column('reason_changed', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('change_id')
    )
    with op.batch_alter_table('eligibility_change', schema=None) as batch_op:
        batch_op.create_index('ix_eligibility_change_period', ['period', 'program'], unique=False)

    op.create_table('expected_submission',
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('opd_code', sa.String(length=32), nullable=False),
    sa.Column('submission_type', sa.String(length=32), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('file_count', sa.Integer(), nullable=False),
    sa.Column('first_received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('discovered_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('period', 'opd_code', 'submission_type')
    )
    op.create_table('kecamatan',
    sa.Column('kode_kecamatan', sa.String(length=8), nullable=False),
    sa.Column('nama', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('kode_kecamatan')
    )
    op.create_table('person_key',
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('person_key', sa.String(length=64), nullable=False),
    sa.Column('first_period', sa.String(length=7), nullable=False),
    sa.Column('last_period', sa.String(length=7), nullable=False),
    sa.PrimaryKeyConstraint('fingerprint')
    )
    with op.batch_alter_table('person_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_key_person_key'), ['person_key'], unique=False)

    op.create_table('pipeline_run',
    sa.Column('run_id', sa.String(length=250), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('dag_id', sa.String(length=250), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('opd_filter', sa.String(length=32), nullable=True),
    sa.Column('rule_set_version', sa.String(length=20), nullable=True),
    sa.Column('config_version', sa.String(length=20), nullable=True),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('run_id')
    )
    with op.batch_alter_table('pipeline_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pipeline_run_period'), ['period'], unique=False)

    op.create_table('registry_snapshot',
    sa.Column('snapshot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('snapshot_date', sa.Date(), nullable=False),
    sa.Column('source_uri', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('persons', sa.Integer(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('loaded_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('snapshot_id'),
    sa.UniqueConstraint('snapshot_date')
    )
    op.create_table('review_decision',
    sa.Column('decision_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('id_art', sa.String(length=40), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('decision_id'),
    sa.UniqueConstraint('id_art', 'fingerprint', name='uq_review_decision')
    )
    op.create_table('send_log',
    sa.Column('send_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('report', sa.String(length=64), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('run_id', sa.String(length=250), nullable=True),
    sa.PrimaryKeyConstraint('send_id')
    )
    with op.batch_alter_table('send_log', schema=None) as batch_op:
        batch_op.create_index('ix_send_log_key', ['period', 'report', 'recipient'], unique=False)

    op.create_table('submission_batch',
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('opd_code', sa.String(length=32), nullable=False),
    sa.Column('submission_type', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_accepted', sa.Integer(), nullable=False),
    sa.Column('rows_quarantined', sa.Integer(), nullable=False),
    sa.Column('rows_warning', sa.Integer(), nullable=False),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('run_id', sa.String(length=250), nullable=True),
    sa.Column('retention_until', sa.Date(), nullable=True),
    sa.Column('check_version', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('batch_id')
    )
    with op.batch_alter_table('submission_batch', schema=None) as batch_op:
        batch_op.create_index('ix_batch_key', ['period', 'opd_code', 'submission_type'], unique=False)

    op.create_table('targeting_result',
    sa.Column('targeting_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('program', sa.String(length=32), nullable=False),
    sa.Column('id_keluarga', sa.String(length=40), nullable=True),
    sa.Column('id_art', sa.String(length=40), nullable=True),
    sa.Column('row_id', sa.BigInteger(), nullable=True),
    sa.Column('kode_kelurahan', sa.String(length=13), nullable=True),
    sa.Column('kode_kecamatan', sa.String(length=8), nullable=True),
    sa.Column('eligible', sa.Boolean(), nullable=False),
    sa.Column('receiving', sa.Boolean(), nullable=False),
    sa.Column('category', sa.String(length=10), nullable=False),
    sa.Column('rupiah', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('targeting_id')
    )
    with op.batch_alter_table('targeting_result', schema=None) as batch_op:
        batch_op.create_index('ix_targeting_period_prog', ['period', 'program', 'category'], unique=False)

    op.create_table('eligibility_decision',
    sa.Column('decision_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('program', sa.String(length=32), nullable=False),
    sa.Column('id_keluarga', sa.String(length=40), nullable=False),
    sa.Column('id_art', sa.String(length=40), nullable=False),
    sa.Column('kode_kelurahan', sa.String(length=13), nullable=False),
    sa.Column('kode_kecamatan', sa.String(length=8), nullable=False),
    sa.Column('eligible', sa.Boolean(), nullable=False),
    sa.Column('benefit_rupiah', sa.BigInteger(), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('rule_set_version', sa.String(length=20), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['registry_snapshot.snapshot_id'], ),
    sa.PrimaryKeyConstraint('decision_id'),
    sa.UniqueConstraint('period', 'program', 'id_keluarga', 'id_art', name='uq_eligibility_decision')
    )
    with op.batch_alter_table('eligibility_decision', schema=None) as batch_op:
        batch_op.create_index('ix_eligibility_period_kec', ['period', 'kode_kecamatan'], unique=False)

    op.create_table('finding',
    sa.Column('finding_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('opd_code', sa.String(length=32), nullable=False),
    sa.Column('submission_type', sa.String(length=32), nullable=False),
    sa.Column('source_file', sa.String(length=255), nullable=True),
    sa.Column('sheet', sa.String(length=100), nullable=True),
    sa.Column('row_number', sa.Integer(), nullable=True),
    sa.Column('column', sa.String(length=64), nullable=True),
    sa.Column('check', sa.String(length=100), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('retention_until', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['submission_batch.batch_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('finding_id')
    )
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_batch_id'), ['batch_id'], unique=False)

    op.create_table('kelurahan',
    sa.Column('kode_kelurahan', sa.String(length=13), nullable=False),
    sa.Column('kode_kecamatan', sa.String(length=8), nullable=False),
    sa.Column('nama', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['kode_kecamatan'], ['kecamatan.kode_kecamatan'], ),
    sa.PrimaryKeyConstraint('kode_kelurahan')
    )
    with op.batch_alter_table('kelurahan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kelurahan_kode_kecamatan'), ['kode_kecamatan'], unique=False)

    op.create_table('quarantined_row',
    sa.Column('quarantine_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('opd_code', sa.String(length=32), nullable=False),
    sa.Column('submission_type', sa.String(length=32), nullable=False),
    sa.Column('source_file', sa.String(length=255), nullable=False),
    sa.Column('sheet', sa.String(length=100), nullable=True),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('retention_until', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['submission_batch.batch_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('quarantine_id')
    )
    with op.batch_alter_table('quarantined_row', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantined_row_batch_id'), ['batch_id'], unique=False)

    op.create_table('registry_household',
    sa.Column('snapshot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('id_keluarga', sa.String(length=40), nullable=False),
    sa.Column('no_kk', sa.String(length=16), nullable=True),
    sa.Column('kode_kelurahan', sa.String(length=13), nullable=False),
    sa.Column('kode_kecamatan', sa.String(length=8), nullable=False),
    sa.Column('alamat', sa.Text(), nullable=True),
    sa.Column('rt', sa.String(length=3), nullable=True),
    sa.Column('rw', sa.String(length=3), nullable=True),
    sa.Column('desil', sa.Integer(), nullable=True),
    sa.Column('status_kepemilikan_rumah', sa.String(length=20), nullable=True),
    sa.Column('rumah_tidak_layak', sa.Boolean(), nullable=False),
    sa.Column('sumber_air_layak', sa.Boolean(), nullable=False),
    sa.Column('jamban_sendiri', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['registry_snapshot.snapshot_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('snapshot_id', 'id_keluarga')
    )
    with op.batch_alter_table('registry_household', schema=None) as batch_op:
        batch_op.create_index('ix_registry_household_kec', ['snapshot_id', 'kode_kecamatan'], unique=False)
        batch_op.create_index('ix_registry_household_kk', ['snapshot_id', 'no_kk'], unique=False)

    op.create_table('registry_person',
    sa.Column('snapshot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('id_art', sa.String(length=40), nullable=False),
    sa.Column('id_keluarga', sa.String(length=40), nullable=False),
    sa.Column('nik', sa.String(length=16), nullable=True),
    sa.Column('no_kk', sa.String(length=16), nullable=True),
    sa.Column('nama', sa.String(length=200), nullable=False),
    sa.Column('jenis_kelamin', sa.String(length=1), nullable=True),
    sa.Column('tanggal_lahir', sa.Date(), nullable=True),
    sa.Column('hubungan_keluarga', sa.String(length=20), nullable=True),
    sa.Column('alamat', sa.Text(), nullable=True),
    sa.Column('rt', sa.String(length=3), nullable=True),
    sa.Column('rw', sa.String(length=3), nullable=True),
    sa.Column('kode_kelurahan', sa.String(length=13), nullable=False),
    sa.Column('pekerjaan_sektor', sa.String(length=20), nullable=True),
    sa.Column('jenjang_sekolah', sa.String(length=5), nullable=True),
    sa.Column('disabilitas_berat', sa.Boolean(), nullable=False),
    sa.Column('hamil', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['registry_snapshot.snapshot_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('snapshot_id', 'id_art')
    )
    with op.batch_alter_table('registry_person', schema=None) as batch_op:
        batch_op.create_index('ix_registry_person_keluarga', ['snapshot_id', 'id_keluarga'], unique=False)
        batch_op.create_index('ix_registry_person_nik', ['snapshot_id', 'nik'], unique=False)

    op.create_table('staged_row',
    sa.Column('row_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('opd_code', sa.String(length=32), nullable=False),
    sa.Column('submission_type', sa.String(length=32), nullable=False),
    sa.Column('source_file', sa.String(length=255), nullable=False),
    sa.Column('sheet', sa.String(length=100), nullable=True),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('nik', sa.String(length=16), nullable=True),
    sa.Column('no_kk', sa.String(length=16), nullable=True),
    sa.Column('nama', sa.String(length=200), nullable=True),
    sa.Column('jenis_kelamin', sa.String(length=1), nullable=True),
    sa.Column('tanggal_lahir', sa.Date(), nullable=True),
    sa.Column('kode_kelurahan', sa.String(length=13), nullable=True),
    sa.Column('has_warning', sa.Boolean(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['submission_batch.batch_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('row_id')
    )
    with op.batch_alter_table('staged_row', schema=None) as batch_op:
        batch_op.create_index('ix_staged_nik', ['nik'], unique=False)
        batch_op.create_index('ix_staged_period_type', ['period', 'submission_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_staged_row_batch_id'), ['batch_id'], unique=False)

    op.create_table('household_link',
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('row_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('id_keluarga', sa.String(length=40), nullable=True),
    sa.Column('match_status', sa.String(length=12), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=True),
    sa.Column('household_key', sa.String(length=64), nullable=False),
    sa.Column('duplicate_of', sa.String(length=40), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['row_id'], ['staged_row.row_id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['snapshot_id'], ['registry_snapshot.snapshot_id'], ),
    sa.PrimaryKeyConstraint('period', 'row_id')
    )
    with op.batch_alter_table('household_link', schema=None) as batch_op:
        batch_op.create_index('ix_household_link_kel', ['period', 'id_keluarga'], unique=False)

    op.create_table('person_link',
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('row_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('id_art', sa.String(length=40), nullable=True),
    sa.Column('id_keluarga', sa.String(length=40), nullable=True),
    sa.Column('match_status', sa.String(length=8), nullable=False),
    sa.Column('match_probability', sa.Float(), nullable=False),
    sa.Column('candidate_id_art', sa.String(length=40), nullable=True),
    sa.Column('person_key', sa.String(length=64), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=16), nullable=False),
    sa.Column('model_version', sa.String(length=40), nullable=True),
    sa.Column('partition', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['row_id'], ['staged_row.row_id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['snapshot_id'], ['registry_snapshot.snapshot_id'], ),
    sa.PrimaryKeyConstraint('period', 'row_id')
    )
    with op.batch_alter_table('person_link', schema=None) as batch_op:
        batch_op.create_index('ix_person_link_art', ['period', 'id_art'], unique=False)
        batch_op.create_index('ix_person_link_key', ['period', 'person_key'], unique=False)

    op.create_table('link_candidate',
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('partition', sa.String(length=16), nullable=False),
    sa.Column('row_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('id_art', sa.String(length=40), nullable=False),
    sa.Column('id_keluarga', sa.String(length=40), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('nik_weight', sa.Float(), nullable=False),
    sa.Column('personal', sa.Float(), nullable=False),
    sa.Column('code', sa.BigInteger(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['row_id'], ['staged_row.row_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('period', 'partition', 'row_id', 'rank')
    )
    op.create_table('name_frequency',
    sa.Column('snapshot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name_ph', sa.String(length=200), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['registry_snapshot.snapshot_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('snapshot_id', 'name_ph')
    )

    op.create_table('registry_event',
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('row_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('id_art', sa.String(length=40), nullable=True),
    sa.Column('id_keluarga', sa.String(length=40), nullable=True),
    sa.Column('no_kk', sa.String(length=16), nullable=True),
    sa.Column('event_type', sa.String(length=16), nullable=False),
    sa.Column('event_date', sa.Date(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['row_id'], ['staged_row.row_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('registry_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_event_id_art'), ['id_art'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_event_period'), ['period'], unique=False)

    op.create_table('review_item',
    sa.Column('review_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('row_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('candidate_id_art', sa.String(length=40), nullable=False),
    sa.Column('match_probability', sa.Float(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['row_id'], ['staged_row.row_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('review_id')
    )
    with op.batch_alter_table('review_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_item_period'), ['period'], unique=False)



def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB refuses to drop an index a foreign key needs first).
    op.drop_table('review_item')
    op.drop_table('registry_event')
    op.drop_table('name_frequency')
    op.drop_table('link_candidate')
    op.drop_table('person_link')
    op.drop_table('household_link')
    op.drop_table('staged_row')
    op.drop_table('registry_person')
    op.drop_table('registry_household')
    op.drop_table('quarantined_row')
    op.drop_table('kelurahan')
    op.drop_table('finding')
    op.drop_table('eligibility_decision')
    op.drop_table('targeting_result')
    op.drop_table('submission_batch')
    op.drop_table('send_log')
    op.drop_table('review_decision')
    op.drop_table('registry_snapshot')
    op.drop_table('pipeline_run')
    op.drop_table('person_key')
    op.drop_table('kecamatan')
    op.drop_table('expected_submission')
    op.drop_table('eligibility_change')
    op.drop_table('audit_log')
