"""Verval in the warehouse: the photos already seen (for `foto_dipakai_ulang` across months and senders), and the
write of a batch's rows and photos. Readers go through the current accepted batches, as for staged rows."""

from __future__ import annotations

from datetime import date

import numpy as np

from tkpk.period import Period
from tkpk.verval.checks import KnownPhotos


def known_photos(session, period: Period | str, opd_code: str | None = None) -> KnownPhotos:
    """Photos of current accepted verval batches of earlier months (any sender) and of this month from other
    senders (`opd_code` excluded; None excludes nobody of this month, e.g. for `tkpk verval check`)."""
    from sqlalchemy import and_, or_, select

    from tkpk.warehouse.models import SubmissionBatch, VervalPhoto

    p = str(period)
    same_month = VervalPhoto.period == p
    if opd_code is not None:
        same_month = and_(same_month, VervalPhoto.opd_code != opd_code)
    q = (select(VervalPhoto.phash, VervalPhoto.sha256, VervalPhoto.household, VervalPhoto.period,
                VervalPhoto.opd_code)
         .join(SubmissionBatch, SubmissionBatch.batch_id == VervalPhoto.batch_id)
         .where(SubmissionBatch.is_current.is_(True), VervalPhoto.phash.is_not(None),
                or_(VervalPhoto.period < p, same_month)))
    rows = session.execute(q).all()
    return KnownPhotos(
        phash=np.array([int(r.phash, 16) for r in rows], dtype=np.uint64),
        sha256=[r.sha256 or "" for r in rows],
        household=[r.household or "" for r in rows],
        where=[f"periode {r.period}, kiriman {r.opd_code}" for r in rows],
    )


def write_verval(session, batch_id: int, key: dict, result, keep_until: date | None) -> None:
    """The rows (status, checks) and photos (hashes, household) of an accepted verval batch."""
    from tkpk.verval.checks import find_photo
    from tkpk.warehouse.bulk import bulk_insert
    from tkpk.warehouse.models import VervalPhoto, VervalRow

    rows = [r for r in result.rows if not r.quarantined]
    if rows:
        bulk_insert(session, VervalRow.__table__, {
            "batch_id": batch_id, "period": key["period"], "opd_code": key["opd_code"],
            "source_file": [r.file[:255] for r in rows],
            "sheet": [(r.sheet or "")[:100] or None for r in rows],
            "row_number": [r.row for r in rows],
            "nik": [r.nik for r in rows], "no_kk": [r.no_kk for r in rows],
            "kode_kelurahan": [r.kode_kelurahan for r in rows],
            "hasil_verifikasi": [r.hasil_verifikasi for r in rows],
            "tanggal_kunjungan": [r.tanggal_kunjungan for r in rows],
            "petugas": [(r.petugas or "")[:200] or None for r in rows],
            "foto_rumah": [(r.foto_rumah or "")[:255] or None for r in rows],
            "catatan": [r.catatan for r in rows],
            "status": [r.status for r in rows],
            "checks": [",".join(dict.fromkeys(f["check"] for f in r.flags))[:255] or None for r in rows],
            **({"retention_until": keep_until} if keep_until else {}),
        }, len(rows))
    owner: dict[int, object] = {}
    for r in rows:
        for _column, name in r.photos():
            info = find_photo(result.photos, name)
            if info is not None:
                owner.setdefault(id(info), r)
    photos = list(zip(result.photo_files, result.photos.values(), strict=False))
    if photos:
        bulk_insert(session, VervalPhoto.__table__, {
            "batch_id": batch_id, "period": key["period"], "opd_code": key["opd_code"],
            "photo_name": [rec["name"][:255] for rec, _i in photos],
            "sha256": [info.sha256 or None for _r, info in photos],
            "phash": [info.phash for _r, info in photos],
            "household": [getattr(owner.get(id(info)), "household", None) for _r, info in photos],
            "kode_kelurahan": [getattr(owner.get(id(info)), "kode_kelurahan", None) for _r, info in photos],
            **({"retention_until": keep_until} if keep_until else {}),
        }, len(photos))
