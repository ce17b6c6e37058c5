"""The verification section of the kelurahan, kecamatan and city summaries: follow-ups requested vs visited, the
share of visits that are `lengkap`, findings by kind, and the oldest open follow-ups (aggregates only: no name, NIK
or photo ever goes into a report body; photos are never attached to e-mail)."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from tkpk.period import Period

HASIL_LABELS = {
    "layak": "Layak",
    "tidak_layak": "Tidak layak",
    "pindah": "Pindah",
    "meninggal": "Meninggal",
    "tidak_ditemui": "Tidak ditemui",
}
CHECK_LABELS = {
    "foto_tidak_ada": "Foto tidak dikirim",
    "foto_rusak": "Foto rusak / tidak dapat dibuka",
    "foto_tanpa_gps": "Foto tanpa lokasi GPS",
    "foto_di_luar_kelurahan": "Lokasi foto di luar kelurahan",
    "foto_tanggal_tidak_sesuai": "Tanggal foto tidak sesuai",
    "foto_dipakai_ulang": "Foto dipakai ulang untuk keluarga lain",
}
OLDEST_LIMIT = 10


def _pct(part: int, whole: int) -> float | None:
    return part / whole if whole else None  # a share: the `persen` filter formats it


def _months_between(since: str, period: Period) -> int:
    s = Period.parse(since)
    return (period.year - s.year) * 12 + period.month - s.month


def verval_figures(conn, sql_dir, data, scope) -> dict:
    """Figures of the verification section for one scope (`data` is the report's PeriodData)."""
    from tkpk.reports.sql import query

    period = data.period
    kec_of = dict(zip(data.areas["kode_kelurahan"], data.areas["kode_kecamatan"], strict=False))
    kel_name = dict(zip(data.areas["kode_kelurahan"], data.areas["kelurahan"], strict=False))
    visits = query(conn, sql_dir, "report_verval", period=str(period))
    follow = query(conn, sql_dir, "report_verval_followups", period=str(period),
                   snapshot_id=data.snapshot_id or -1)
    for frame in (visits, follow):
        if frame.empty:
            frame["kode_kelurahan"] = pd.Series(dtype=object)
        frame["kode_kecamatan"] = frame["kode_kelurahan"].map(kec_of)
    visits, follow = scope.select(visits), scope.select(follow)
    n = pd.to_numeric(visits.get("rows_n", pd.Series(dtype="int64"))).fillna(0).astype(int)
    rows = int(n.sum())
    lengkap = int(n[visits.get("status", pd.Series(dtype=object)) == "lengkap"].sum()) if rows else 0
    hasil = Counter()
    checks = Counter()
    for rec, count in zip(visits.to_dict("records"), n, strict=True):
        hasil[rec.get("hasil_verifikasi") or "-"] += int(count)
        for code in filter(None, str(rec.get("checks") or "").split(",")):
            checks[code] += int(count)
    num = {c: pd.to_numeric(follow[c]).fillna(0).astype(int) if c in follow else pd.Series(dtype=int)
           for c in ("households", "visited", "visited_lengkap")}
    requested, visited, visited_lengkap = (int(num[c].sum()) for c in ("households", "visited", "visited_lengkap"))
    oldest = []
    if len(follow):
        open_ = follow.assign(open=num["households"] - num["visited_lengkap"])
        open_ = open_[open_["open"] > 0].sort_values(["since", "kode_kelurahan"]).head(OLDEST_LIMIT)
        for rec in open_.to_dict("records"):
            oldest.append({"kelurahan": kel_name.get(rec["kode_kelurahan"], rec["kode_kelurahan"] or "tanpa kelurahan"),
                           "since": Period.parse(rec["since"]).label(),
                           "months": _months_between(rec["since"], period), "households": int(rec["open"])})
    return {
        "has_data": bool(rows or requested),
        "requested": requested,
        "visited": visited,
        "visited_lengkap": visited_lengkap,
        "visited_pct": _pct(visited, requested),
        "rows": rows,
        "lengkap": lengkap,
        "perlu_perbaikan": rows - lengkap,
        "lengkap_pct": _pct(lengkap, rows),
        "by_hasil": [{"code": c, "label": HASIL_LABELS.get(c, c), "rows": hasil[c]}
                     for c in (*HASIL_LABELS, "-") if hasil.get(c)],
        "findings": [{"check": c, "label": CHECK_LABELS[c], "rows": checks[c]} for c in CHECK_LABELS if checks.get(c)],
        "oldest_open": oldest,
    }
