"""A small month for the steward's pages and commands: a rejected Disnaker batch (so a re-run is offered) and an
accepted Koperasi batch whose rows wait in the linkage review queue. Shared by the steward CLI journey and the TKPK
view tests."""

from __future__ import annotations

from datetime import date, datetime


def seed_review_queue(s, *, period: str, niks: list[str], rejection_reason: str, now: datetime) -> list[int]:
    """Add both batches in session `s`, one open review item per NIK; returns the review ids."""
    from tkpk.warehouse.models import ReviewItem, StagedRow, SubmissionBatch

    s.add(SubmissionBatch(period=period, opd_code="disnaker", submission_type="disnaker_bpjstk",
                          status="rejected", is_current=False, files=[], sha256="a" * 64, loaded_at=now,
                          rows_total=9, rejection_reason=rejection_reason))
    batch = SubmissionBatch(period=period, opd_code="koperasi", submission_type="koperasi_pemberdayaan",
                            status="accepted", is_current=True, files=[], sha256="b" * 64, loaded_at=now,
                            rows_total=len(niks), rows_accepted=len(niks))
    s.add(batch)
    s.flush()
    ids = []
    for n, nik in enumerate(niks):
        row = StagedRow(batch_id=batch.batch_id, period=period, opd_code="koperasi",
                        submission_type="koperasi_pemberdayaan", source_file="kop.xlsx", row_number=2 + n,
                        nik=nik, nama=f"Orang {n}", tanggal_lahir=date(1970, 1, 1),
                        kode_kelurahan="15.71.01.1001", data={})
        s.add(row)
        s.flush()
        item = ReviewItem(period=period, row_id=row.row_id, candidate_id_art=f"ART{n}", match_probability=0.7,
                          evidence="nama=0.9", fingerprint=f"fp{n}", status="open", created_at=now)
        s.add(item)
        s.flush()
        ids.append(item.review_id)
    return ids
