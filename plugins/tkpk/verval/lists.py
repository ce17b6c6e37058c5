"""What a verification changes: two by-name lists a Dinas Sosial operator transcribes into SIKS-NG (the registry
itself is never changed here). Attached, with the other by-name lists, only for recipients with `pii: true` of the
kelurahan and city reports. Layout: docs/verval.md ("Daftar untuk SIKS-NG").

- Usul nonaktif: a `lengkap` visit with hasil `tidak_layak`, `pindah` or `meninggal` of a family that receives a
  program this month.
- Usulan DTSEN: a `lengkap` visit with hasil `layak` of a family in the registry without desil, or not in the
  registry at all (a new proposal).
"""

from __future__ import annotations

import pandas as pd

from tkpk.reports.xlsx import Column, Sheet

NONAKTIF = {"tidak_layak": "Tidak layak", "pindah": "Pindah", "meninggal": "Meninggal"}
NOTE = ("RAHASIA - berisi data pribadi (UU 27/2022). Hasil verifikasi lapangan berfoto (status lengkap); salin ke "
        "SIKS-NG oleh operator Dinas Sosial. Foto ada di arsip berkas mentah, tidak dilampirkan.")


def _common_source(frame: pd.DataFrame) -> pd.DataFrame:
    frame["sumber"] = frame["opd_code"] + " / " + frame["source_file"] + " baris " + frame["excel_row"].astype(str)
    return frame


def verval_lists(conn, sql_dir, data, config, scope, names) -> list[Sheet]:
    """The usul nonaktif and usulan DTSEN sheets for a kota or kelurahan scope (`names` adds kelurahan names)."""
    from tkpk.reports.sql import query

    params = dict(period=str(data.period), snapshot_id=data.snapshot_id or -1,
                  kecamatan=scope.code if scope.kind == "kecamatan" else "",
                  kelurahan=scope.code if scope.kind == "kelurahan" else "")
    rows = names(query(conn, sql_dir, "list_verval", **params), data, config)
    nonaktif = rows.iloc[0:0]
    dtsen = rows.iloc[0:0]
    if len(rows):
        receiving = query(conn, sql_dir, "list_verval_receiving", period=str(data.period))
        # only the families visited: the month's recipients are tens of thousands, the visits a few hundred
        receiving = receiving[receiving["id_keluarga"].isin(rows["id_keluarga"].dropna())]
        program_names = {p.code: p.name for p in config.programs.programs}
        programs = (receiving.assign(name=receiving["program"].map(program_names).fillna(receiving["program"]))
                    .groupby("id_keluarga")["name"].agg(lambda s: ", ".join(sorted(set(s)))) if len(receiving)
                    else pd.Series(dtype=object))
        rows = _common_source(rows.copy())
        rows["programs"] = rows["id_keluarga"].map(programs)
        nonaktif = rows[rows["hasil_verifikasi"].isin(list(NONAKTIF)) & rows["programs"].notna()].copy()
        nonaktif["alasan"] = nonaktif["hasil_verifikasi"].map(NONAKTIF)
        layak = rows[rows["hasil_verifikasi"] == "layak"].copy()
        dtsen = layak[layak["id_keluarga"].isna() | layak["desil"].isna()].copy()
        dtsen["status_registri"] = dtsen["id_keluarga"].isna().map(
            {True: "Belum terdaftar (usulan baru)", False: "Terdaftar tanpa desil"})
    from tkpk.reports.lists import _records

    where = [Column("kecamatan", "Kecamatan"), Column("kelurahan", "Kelurahan")]
    visit = [Column("tanggal_kunjungan", "Tanggal kunjungan", "date"), Column("petugas", "Petugas"),
             Column("foto_rumah", "Foto rumah (arsip)"), Column("catatan", "Catatan"),
             Column("sumber", "Sumber (pengirim / berkas / baris)")]
    return [
        Sheet("Usul nonaktif", "Usul nonaktif (SIKS-NG): hasil verval tidak layak, pindah atau meninggal pada "
              "keluarga penerima bantuan", [
                  *where, Column("id_keluarga", "ID keluarga (DTKS/DTSEN)"), Column("no_kk", "No KK", "nik"),
                  Column("nik", "NIK", "nik"), Column("nama", "Nama"), Column("programs", "Bantuan yang diterima"),
                  Column("alasan", "Alasan usul nonaktif"), *visit,
              ], _records(nonaktif.drop(columns=["desil"], errors="ignore")), note=NOTE),
        Sheet("Usulan DTSEN", "Usulan DTSEN (SIKS-NG): hasil verval layak untuk keluarga tanpa desil atau belum "
              "terdaftar", [
                  *where, Column("status_registri", "Status di registri"),
                  Column("id_keluarga", "ID keluarga (DTKS/DTSEN)"), Column("no_kk", "No KK", "nik"),
                  Column("nik", "NIK", "nik"), Column("nama", "Nama"), Column("alamat", "Alamat"), Column("rt", "RT"),
                  Column("rw", "RW"), *visit,
              ], _records(dtsen), note=NOTE),
    ]
