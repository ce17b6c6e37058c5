"""Warehouse schema (SQLAlchemy 2). Alembic migrations in `migrations/` create exactly this on SQLite, PostgreSQL and
MariaDB. Every monthly table is keyed by `period` ('YYYY-MM') so a re-run replaces its partition.

Personal data (NIK, No KK, names) lives here and in the raw-file archive only: never in logs, XCom or e-mail bodies.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Integer primary keys that autoincrement on SQLite (INTEGER) and are BIGINT elsewhere.
BigId = BigInteger().with_variant(Integer, "sqlite")

PERIOD = String(7)
CODE = String(32)
NIK = String(16)


class Base(DeclarativeBase):
    pass


# --- reference data -------------------------------------------------------------------------------------------------


class Kecamatan(Base):
    __tablename__ = "kecamatan"
    kode_kecamatan: Mapped[str] = mapped_column(String(8), primary_key=True)
    nama: Mapped[str] = mapped_column(String(100))


class Kelurahan(Base):
    __tablename__ = "kelurahan"
    kode_kelurahan: Mapped[str] = mapped_column(String(13), primary_key=True)
    kode_kecamatan: Mapped[str] = mapped_column(ForeignKey("kecamatan.kode_kecamatan"), index=True)
    nama: Mapped[str] = mapped_column(String(100))


# --- registry snapshots (DTKS/DTSEN, delivered by Dinas Sosial) ------------------------------------------------------


class RegistrySnapshot(Base):
    __tablename__ = "registry_snapshot"
    snapshot_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    snapshot_date: Mapped[date] = mapped_column(Date, unique=True)
    source_uri: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    households: Mapped[int] = mapped_column(Integer, default=0)
    persons: Mapped[int] = mapped_column(Integer, default=0)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    loaded_by: Mapped[str | None] = mapped_column(String(100))


class RegistryHousehold(Base):
    __tablename__ = "registry_household"
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("registry_snapshot.snapshot_id", ondelete="CASCADE"), primary_key=True)
    id_keluarga: Mapped[str] = mapped_column(String(40), primary_key=True)
    no_kk: Mapped[str | None] = mapped_column(NIK)
    kode_kelurahan: Mapped[str] = mapped_column(String(13))
    kode_kecamatan: Mapped[str] = mapped_column(String(8))
    alamat: Mapped[str | None] = mapped_column(Text)
    rt: Mapped[str | None] = mapped_column(String(3))
    rw: Mapped[str | None] = mapped_column(String(3))
    desil: Mapped[int | None] = mapped_column(Integer)
    status_kepemilikan_rumah: Mapped[str | None] = mapped_column(String(20))
    rumah_tidak_layak: Mapped[bool] = mapped_column(Boolean, default=False)
    sumber_air_layak: Mapped[bool] = mapped_column(Boolean, default=True)
    jamban_sendiri: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        Index("ix_registry_household_kk", "snapshot_id", "no_kk"),
        Index("ix_registry_household_kec", "snapshot_id", "kode_kecamatan"),
    )


class RegistryPerson(Base):
    __tablename__ = "registry_person"
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("registry_snapshot.snapshot_id", ondelete="CASCADE"), primary_key=True)
    id_art: Mapped[str] = mapped_column(String(40), primary_key=True)
    id_keluarga: Mapped[str] = mapped_column(String(40))
    nik: Mapped[str | None] = mapped_column(NIK)
    no_kk: Mapped[str | None] = mapped_column(NIK)
    nama: Mapped[str] = mapped_column(String(200))
    jenis_kelamin: Mapped[str | None] = mapped_column(String(1))
    tanggal_lahir: Mapped[date | None] = mapped_column(Date)
    hubungan_keluarga: Mapped[str | None] = mapped_column(String(20))
    alamat: Mapped[str | None] = mapped_column(Text)
    rt: Mapped[str | None] = mapped_column(String(3))
    rw: Mapped[str | None] = mapped_column(String(3))
    kode_kelurahan: Mapped[str] = mapped_column(String(13))
    pekerjaan_sektor: Mapped[str | None] = mapped_column(String(20))
    jenjang_sekolah: Mapped[str | None] = mapped_column(String(5))
    disabilitas_berat: Mapped[bool] = mapped_column(Boolean, default=False)
    hamil: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_registry_person_nik", "snapshot_id", "nik"),
        Index("ix_registry_person_keluarga", "snapshot_id", "id_keluarga"),
    )


# --- submissions -------------------------------------------------------------------------------------------------------


class SubmissionBatch(Base):
    """One load attempt of (period, OPD, submission type). Exactly one batch per key is `is_current` (the accepted one
    whose rows are staged); rejected and superseded attempts stay as history."""

    __tablename__ = "submission_batch"
    batch_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(PERIOD)
    opd_code: Mapped[str] = mapped_column(CODE)
    submission_type: Mapped[str] = mapped_column(CODE)
    status: Mapped[str] = mapped_column(String(12))  # accepted | rejected | superseded | duplicate
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    files: Mapped[list] = mapped_column(JSON, default=list)  # [{name, uri, sha256, size, archive_uri, received_at}]
    sha256: Mapped[str] = mapped_column(String(64))  # of the sorted file hashes: identifies the batch content
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # latest file arrival
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_accepted: Mapped[int] = mapped_column(Integer, default=0)
    rows_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    rows_warning: Mapped[int] = mapped_column(Integer, default=0)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(250))
    retention_until: Mapped[date | None] = mapped_column(Date)
    # config YAML + the type's expectation suite the batch was checked with: a rejected file re-sent unchanged is
    # re-checked only when these changed
    check_version: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_batch_key", "period", "opd_code", "submission_type"),
    )


class StagedRow(Base):
    """An accepted row of the current batch. Columns used by every stage are typed; the rest is in `data`."""

    __tablename__ = "staged_row"
    row_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("submission_batch.batch_id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(PERIOD)
    opd_code: Mapped[str] = mapped_column(CODE)
    submission_type: Mapped[str] = mapped_column(CODE)
    source_file: Mapped[str] = mapped_column(String(255))
    sheet: Mapped[str | None] = mapped_column(String(100))
    row_number: Mapped[int] = mapped_column(Integer)  # as numbered in Excel, header row included
    nik: Mapped[str | None] = mapped_column(NIK)
    no_kk: Mapped[str | None] = mapped_column(NIK)
    nama: Mapped[str | None] = mapped_column(String(200))
    jenis_kelamin: Mapped[str | None] = mapped_column(String(1))
    tanggal_lahir: Mapped[date | None] = mapped_column(Date)
    kode_kelurahan: Mapped[str | None] = mapped_column(String(13))
    has_warning: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # every canonical column, normalised (dates ISO)
    # Only the batch_id index: every reader selects a period's rows through the current batches, and the batch
    # replace deletes by batch_id. Indexes on nik and (period, type) were never used by a query but cost a third
    # of the server time of a COPY (migration 0002).


class Finding(Base):
    """A data-quality finding: critical (file rejected, no row), error (row quarantined), warning (row loaded)."""

    __tablename__ = "finding"
    finding_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("submission_batch.batch_id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(PERIOD)
    opd_code: Mapped[str] = mapped_column(CODE)
    submission_type: Mapped[str] = mapped_column(CODE)
    source_file: Mapped[str | None] = mapped_column(String(255))
    sheet: Mapped[str | None] = mapped_column(String(100))
    row_number: Mapped[int | None] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(64))
    header: Mapped[str | None] = mapped_column(String(200))  # the column's header as the file wrote it
    check: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(10))  # critical | error | warning
    message: Mapped[str] = mapped_column(Text)  # Indonesian
    value: Mapped[str | None] = mapped_column(Text)  # as the cell showed it (may hold a full NIK: warehouse only)
    retention_until: Mapped[date | None] = mapped_column(Date)

    # the TKPK view's Karantina page: one batch's row errors, a page at a time in Excel row order
    __table_args__ = (Index("ix_finding_batch_severity_row", "batch_id", "severity", "row_number"),)


class QuarantinedRow(Base):
    __tablename__ = "quarantined_row"
    quarantine_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("submission_batch.batch_id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(PERIOD)
    opd_code: Mapped[str] = mapped_column(CODE)
    submission_type: Mapped[str] = mapped_column(CODE)
    source_file: Mapped[str] = mapped_column(String(255))
    sheet: Mapped[str | None] = mapped_column(String(100))
    row_number: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # the raw cells as read
    retention_until: Mapped[date | None] = mapped_column(Date)


class VervalPhoto(Base):
    """A photo of a verval batch (kelurahan_verval): its sha256 and perceptual hash, and the household it was sent
    for, so a picture re-used for another household in a later month is recognised (`foto_dipakai_ulang`). The bytes
    are in the raw-file archive, purged with the batch under the retention policy."""

    __tablename__ = "verval_photo"
    photo_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("submission_batch.batch_id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(PERIOD)
    opd_code: Mapped[str] = mapped_column(CODE)
    photo_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str | None] = mapped_column(String(64))
    phash: Mapped[str | None] = mapped_column(String(16))  # 64-bit pHash as 16 hex digits; None when undecodable
    household: Mapped[str | None] = mapped_column(NIK)  # no_kk (else nik) of the row that names the photo
    kode_kelurahan: Mapped[str | None] = mapped_column(String(13))
    retention_until: Mapped[date | None] = mapped_column(Date)


class VervalRow(Base):
    """The outcome of one field visit (a row of a verval batch): `lengkap` when its house photo has no finding,
    `perlu_perbaikan` otherwise; `checks` lists the photo check codes found on the row."""

    __tablename__ = "verval_row"
    verval_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("submission_batch.batch_id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(PERIOD)
    opd_code: Mapped[str] = mapped_column(CODE)
    source_file: Mapped[str] = mapped_column(String(255))
    sheet: Mapped[str | None] = mapped_column(String(100))
    row_number: Mapped[int] = mapped_column(Integer)
    nik: Mapped[str | None] = mapped_column(NIK)
    no_kk: Mapped[str | None] = mapped_column(NIK)
    kode_kelurahan: Mapped[str | None] = mapped_column(String(13))
    hasil_verifikasi: Mapped[str | None] = mapped_column(String(20))
    tanggal_kunjungan: Mapped[date | None] = mapped_column(Date)
    petugas: Mapped[str | None] = mapped_column(String(200))
    foto_rumah: Mapped[str | None] = mapped_column(String(255))
    catatan: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # lengkap | perlu_perbaikan
    checks: Mapped[str | None] = mapped_column(String(255))  # comma-separated foto_* codes
    retention_until: Mapped[date | None] = mapped_column(Date)


class ExpectedSubmission(Base):
    """What discovery found for a period: received (with files) or missing ('belum mengirim')."""

    __tablename__ = "expected_submission"
    period: Mapped[str] = mapped_column(PERIOD, primary_key=True)
    opd_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    submission_type: Mapped[str] = mapped_column(CODE, primary_key=True)
    required: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16))  # received | missing
    file_count: Mapped[int] = mapped_column(Integer, default=0)
    first_received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[date | None] = mapped_column(Date)
    discovered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- linkage -------------------------------------------------------------------------------------------------------------


class PersonLink(Base):
    __tablename__ = "person_link"
    period: Mapped[str] = mapped_column(PERIOD, primary_key=True)
    row_id: Mapped[int] = mapped_column(ForeignKey("staged_row.row_id", ondelete="CASCADE"), primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("registry_snapshot.snapshot_id"))
    id_art: Mapped[str | None] = mapped_column(String(40))
    id_keluarga: Mapped[str | None] = mapped_column(String(40))
    match_status: Mapped[str] = mapped_column(String(8))  # linked | review | new
    match_probability: Mapped[float] = mapped_column(Float, default=0.0)
    candidate_id_art: Mapped[str | None] = mapped_column(String(40))
    person_key: Mapped[str] = mapped_column(String(64))
    evidence: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(16))  # nik | model | steward
    model_version: Mapped[str | None] = mapped_column(String(40))
    partition: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (Index("ix_person_link_art", "period", "id_art"), Index("ix_person_link_key", "period", "person_key"))


class HouseholdLink(Base):
    __tablename__ = "household_link"
    period: Mapped[str] = mapped_column(PERIOD, primary_key=True)
    row_id: Mapped[int] = mapped_column(ForeignKey("staged_row.row_id", ondelete="CASCADE"), primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("registry_snapshot.snapshot_id"))
    id_keluarga: Mapped[str | None] = mapped_column(String(40))
    match_status: Mapped[str] = mapped_column(String(12))  # linked | review | new | duplicate
    via: Mapped[str | None] = mapped_column(String(16))  # no_kk | person | steward
    household_key: Mapped[str] = mapped_column(String(64))
    duplicate_of: Mapped[str | None] = mapped_column(String(40))  # registry id_keluarga a proposal duplicates
    evidence: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_household_link_kel", "period", "id_keluarga"),)


class PersonKey(Base):
    """Stable keys of persons not in the registry, so a new person keeps one key from month to month: every
    fingerprint (NIK, or name + birth date + kelurahan) a person was seen with points at the person's key."""

    __tablename__ = "person_key"
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_key: Mapped[str] = mapped_column(String(64), index=True)
    first_period: Mapped[str] = mapped_column(PERIOD)
    last_period: Mapped[str] = mapped_column(PERIOD)


class LinkCandidate(Base):
    """The best registry candidates of a row found by one partition's probabilistic pass (kecamatan of the
    registry household); the final pass picks across partitions. Rebuilt on every run of the period."""

    __tablename__ = "link_candidate"
    period: Mapped[str] = mapped_column(PERIOD, primary_key=True)
    partition: Mapped[str] = mapped_column(String(16), primary_key=True)
    row_id: Mapped[int] = mapped_column(ForeignKey("staged_row.row_id", ondelete="CASCADE"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_art: Mapped[str] = mapped_column(String(40))
    id_keluarga: Mapped[str] = mapped_column(String(40))
    score: Mapped[float] = mapped_column(Float)
    nik_weight: Mapped[float] = mapped_column(Float)
    personal: Mapped[float] = mapped_column(Float)
    code: Mapped[int] = mapped_column(BigInteger)  # field levels, one digit per field
    evidence: Mapped[str | None] = mapped_column(Text)


class NameFrequency(Base):
    """How many registry persons of a snapshot carry each (phonetic) name: the term-frequency table of the linkage
    model, computed once per snapshot and shared by every partition."""

    __tablename__ = "name_frequency"
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("registry_snapshot.snapshot_id", ondelete="CASCADE"),
                                             primary_key=True)
    name_ph: Mapped[str] = mapped_column(String(200), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class ReviewItem(Base):
    __tablename__ = "review_item"
    review_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(PERIOD, index=True)
    row_id: Mapped[int] = mapped_column(ForeignKey("staged_row.row_id", ondelete="CASCADE"))
    candidate_id_art: Mapped[str] = mapped_column(String(40))
    match_probability: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str | None] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | decided
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    # the Tinjauan page: a period's open items, a page at a time by probability
    __table_args__ = (Index("ix_review_item_open", "period", "status", "match_probability"),)


class ReviewDecision(Base):
    """A steward's decision; wins over the model in every later month for the same (registry person, fingerprint)."""

    __tablename__ = "review_decision"
    decision_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id_art: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(10))  # match | non_match
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("id_art", "fingerprint", name="uq_review_decision"),
        Index("ix_review_decision_fingerprint", "fingerprint"),  # linkage looks decisions up by fingerprint
    )


# --- eligibility ---------------------------------------------------------------------------------------------------------


class RegistryEvent(Base):
    """Events from linked submission rows that change registry state (deaths, moves, births, pregnancies, enrolment)."""

    __tablename__ = "registry_event"
    event_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(PERIOD, index=True)  # the period whose submission reported it
    row_id: Mapped[int | None] = mapped_column(ForeignKey("staged_row.row_id", ondelete="CASCADE"))
    id_art: Mapped[str | None] = mapped_column(String(40), index=True)
    id_keluarga: Mapped[str | None] = mapped_column(String(40))
    no_kk: Mapped[str | None] = mapped_column(NIK)
    event_type: Mapped[str] = mapped_column(String(16))  # MENINGGAL | PINDAH_KELUAR | PINDAH_DATANG | LAHIR | HAMIL | SEKOLAH
    event_date: Mapped[date | None] = mapped_column(Date)
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class EligibilityDecision(Base):
    __tablename__ = "eligibility_decision"
    decision_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(PERIOD)
    program: Mapped[str] = mapped_column(CODE)
    id_keluarga: Mapped[str] = mapped_column(String(40))
    id_art: Mapped[str] = mapped_column(String(40), default="")  # '' for household programs
    kode_kelurahan: Mapped[str] = mapped_column(String(13))
    kode_kecamatan: Mapped[str] = mapped_column(String(8))
    eligible: Mapped[bool] = mapped_column(Boolean)
    benefit_rupiah: Mapped[int] = mapped_column(BigInteger, default=0)
    reasons: Mapped[str] = mapped_column(Text)  # ';'-separated reason codes
    rank: Mapped[int | None] = mapped_column(Integer)
    rule_set_version: Mapped[str] = mapped_column(String(20))
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("registry_snapshot.snapshot_id"))

    __table_args__ = (
        UniqueConstraint("period", "program", "id_keluarga", "id_art", name="uq_eligibility_decision"),
        Index("ix_eligibility_period_kec", "period", "kode_kecamatan"),
    )


class EligibilityChange(Base):
    __tablename__ = "eligibility_change"
    change_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(PERIOD)
    program: Mapped[str] = mapped_column(CODE)
    id_keluarga: Mapped[str] = mapped_column(String(40))
    id_art: Mapped[str] = mapped_column(String(40), default="")
    kode_kelurahan: Mapped[str] = mapped_column(String(13))
    kode_kecamatan: Mapped[str] = mapped_column(String(8))
    change: Mapped[str] = mapped_column(String(20))  # baru_layak | tidak_layak_lagi
    reasons_before: Mapped[str | None] = mapped_column(Text)
    reasons_after: Mapped[str | None] = mapped_column(Text)
    reason_changed: Mapped[str | None] = mapped_column(Text)  # codes of the new decision the old one lacked

    __table_args__ = (Index("ix_eligibility_change_period", "period", "program"),)


class TargetingResult(Base):
    """Per unit and program: eligible x receiving. category: tepat | exclusion | inclusion."""

    __tablename__ = "targeting_result"
    targeting_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(PERIOD)
    program: Mapped[str] = mapped_column(CODE)
    id_keluarga: Mapped[str | None] = mapped_column(String(40))
    id_art: Mapped[str | None] = mapped_column(String(40))
    row_id: Mapped[int | None] = mapped_column(BigInteger)  # the recipient row, when there is one
    kode_kelurahan: Mapped[str | None] = mapped_column(String(13))
    kode_kecamatan: Mapped[str | None] = mapped_column(String(8))
    eligible: Mapped[bool] = mapped_column(Boolean)
    receiving: Mapped[bool] = mapped_column(Boolean)
    category: Mapped[str] = mapped_column(String(10))
    rupiah: Mapped[int] = mapped_column(BigInteger, default=0)
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_targeting_period_prog", "period", "program", "category"),)


# --- delivery, runs and audit ---------------------------------------------------------------------------------------------


class SendLog(Base):
    """Keyed by (period, report, recipient); content_hash is of the report's data, not its MIME bytes."""

    __tablename__ = "send_log"
    send_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(PERIOD)
    report: Mapped[str] = mapped_column(String(64))  # e.g. kota, kecamatan:15.71.01, opd:disnaker, alert:...
    recipient: Mapped[str] = mapped_column(String(254))
    content_hash: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, default=0)  # 0 = first send, 1.. = REVISI
    message_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(12))  # sending | sent | refused | failed | resent
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(250))  # the run that sent it (a resend counts once per run)
    # the headline figures of the version sent (code -> value): a REVISI names what changed since (issue #12)
    headline: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_send_log_key", "period", "report", "recipient"),)


class PipelineRun(Base):
    __tablename__ = "pipeline_run"
    run_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    period: Mapped[str] = mapped_column(PERIOD, index=True)
    dag_id: Mapped[str] = mapped_column(String(250))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16))
    opd_filter: Mapped[str | None] = mapped_column(CODE)
    rule_set_version: Mapped[str | None] = mapped_column(String(20))
    config_version: Mapped[str | None] = mapped_column(String(20))
    snapshot_id: Mapped[int | None] = mapped_column(BigInteger)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)  # counts only, no personal data


class PeriodRebuild(Base):
    """A month that already ran and must be rebuilt because an earlier month was revised after it (its events and
    eligibility read every earlier period, its report compares with the month before). Linkage does not depend on
    other months, so it is not what is stale. Open until a run of that month finishes with its reports sent."""

    __tablename__ = "period_rebuild"
    rebuild_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(PERIOD)
    because_of: Mapped[str] = mapped_column(PERIOD)  # the revised earlier month
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    requested_by: Mapped[str] = mapped_column(String(250))  # run id of the revising run
    rebuilt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rebuilt_by: Mapped[str | None] = mapped_column(String(250))

    __table_args__ = (Index("ix_period_rebuild_period", "period"),)


class AuditLog(Base):
    __tablename__ = "audit_log"
    audit_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))  # retrigger | review_decision | registry_load | purge | resend ...
    period: Mapped[str | None] = mapped_column(PERIOD)
    opd_code: Mapped[str | None] = mapped_column(CODE)
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # no personal data


# --- what-if planning (tkpk simulate) ------------------------------------------------------------------------------------


class SimulationScenario(Base):
    """One what-if scenario computed for a period (`tkpk simulate`): its overrides and per-program summary (counts
    and rupiah only). The month's official decisions are never touched; scenarios live only here."""

    __tablename__ = "simulation_scenario"
    scenario_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(PERIOD, index=True)
    name: Mapped[str] = mapped_column(String(100))
    overrides: Mapped[list] = mapped_column(JSON, default=list)  # the --set lines as given
    rules_file: Mapped[str | None] = mapped_column(String(255))
    rule_set_version: Mapped[str] = mapped_column(String(20))  # the baseline's
    snapshot_id: Mapped[int | None] = mapped_column(BigInteger)
    requested_by: Mapped[str | None] = mapped_column(String(254))
    request_id: Mapped[str | None] = mapped_column(String(250), index=True)  # the DAG run: a retry replaces its rows
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    summary: Mapped[list] = mapped_column(JSON, default=list)  # one entry per program, no personal data


class SimulationDiff(Base):
    """One decision that differs between the baseline and a scenario (the rows of DIFF.csv, reasons as codes)."""

    __tablename__ = "simulation_diff"
    diff_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("simulation_scenario.scenario_id", ondelete="CASCADE"),
                                             index=True)
    program: Mapped[str] = mapped_column(CODE)
    id_keluarga: Mapped[str] = mapped_column(String(40))
    id_art: Mapped[str] = mapped_column(String(40), default="")
    kode_kelurahan: Mapped[str | None] = mapped_column(String(13))
    kode_kecamatan: Mapped[str | None] = mapped_column(String(8))
    baseline_eligible: Mapped[bool] = mapped_column(Boolean)
    scenario_eligible: Mapped[bool] = mapped_column(Boolean)
    baseline_benefit: Mapped[int] = mapped_column(BigInteger, default=0)
    scenario_benefit: Mapped[int] = mapped_column(BigInteger, default=0)
    baseline_rank: Mapped[int | None] = mapped_column(Integer)
    scenario_rank: Mapped[int | None] = mapped_column(Integer)
    baseline_reasons: Mapped[str | None] = mapped_column(Text)
    scenario_reasons: Mapped[str | None] = mapped_column(Text)
