"""Targeting (eligible x receiving) and changes since last month, through the CLI's --targeting file and the pure
functions."""

from __future__ import annotations

import csv

import pandas as pd

from tkpk.eligibility import rules

from .helpers import KEL_A, KEL_B, run_cli


def targeting_rows(tmp_path, builder) -> list[dict]:
    run_cli(tmp_path, builder, "2026-10", "--targeting", str(tmp_path / "t.csv"))
    with open(tmp_path / "t.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_targeting_categories_rupiah_and_not_found(tmp_path, builder):
    builder.household("T1", 1)  # eligible for BPNT, receiving: tepat
    builder.person("T1a", "T1", "1980-01-01")
    builder.household("T2", 3)  # eligible, not receiving: exclusion
    builder.person("T2a", "T2", "1980-01-01")
    builder.household("T3", 7)  # receiving, not eligible: inclusion
    builder.person("T3a", "T3", "1980-01-01")
    for kel in ("T1", "T3"):
        builder.row("dinsos_kpm", no_kk=builder.no_kk(kel), nik_pengurus="", nama_pengurus="x", kode_kelurahan=KEL_A,
                    program="BPNT", status_kepesertaan="aktif", nominal="")
    # a recipient that graduated is not receiving; an unknown household reported twice counts once
    builder.row("dinsos_kpm", no_kk=builder.no_kk("T2"), nik_pengurus="", nama_pengurus="x", kode_kelurahan=KEL_A,
                program="BPNT", status_kepesertaan="graduasi", nominal="")
    for _ in range(2):
        builder.row("dinsos_kpm", no_kk="1571010101209999", nik_pengurus="", nama_pengurus="x",
                    kode_kelurahan="Buluran Kenali", program="bpnt", status_kepesertaan="", nominal="")
    # PBI_JK: nik_pengurus names the insured person
    builder.row("dinsos_kpm", no_kk="", nik_pengurus=builder.nik("T1a"), nama_pengurus="x", kode_kelurahan=KEL_A,
                program="PBI_JK", status_kepesertaan="aktif", nominal="")
    rows = targeting_rows(tmp_path, builder)
    bpnt = {(r["id_keluarga"], r["category"]): r for r in rows if r["program"] == "bpnt"}
    assert set(bpnt) == {("T1", "tepat"), ("T2", "exclusion"), ("T3", "inclusion"), ("", "inclusion")}
    assert bpnt[("T1", "tepat")]["rupiah"] == "2400000"
    assert bpnt[("T3", "inclusion")]["reason"] == "desil_di_luar_1_4"
    lost = bpnt[("", "inclusion")]
    assert lost["reason"] == "tidak_ditemukan" and lost["kode_kelurahan"] == KEL_B
    assert lost["kode_kecamatan"] == "15.71.01" and lost["rupiah"] == "2400000"
    pbi = {(r["id_art"], r["category"]) for r in rows if r["program"] == "pbi_jk"}
    assert ("T1a", "tepat") in pbi and ("T2a", "exclusion") in pbi
    assert not [r for r in rows if r["program"] == "pkh"], "no PKH rows were sent: every PKH row would be a guess"
    assert {r["program"] for r in rows} == {"bpnt", "pbi_jk"}


def test_rtlh_recipients_of_this_year_are_judged_before_their_rehabilitation(tmp_path, builder):
    builder.household("R1", 2, tidak_layak="Y")  # finished this year: decision says no, targeting says tepat
    builder.person("R1a", "R1")
    builder.household("R2", 2, tidak_layak="Y")  # in progress this year: eligible and receiving
    builder.person("R2a", "R2")
    builder.household("R3", 2, tidak_layak="Y")  # finished in 2020 and again funded this year: inclusion
    builder.person("R3a", "R3")
    for kel, year, status in (("R1", 2026, "selesai"), ("R2", 2026, "proses"), ("R3", 2020, "selesai"),
                              ("R3", 2026, "proses")):
        builder.row("perkim_rumah", no_kk=builder.no_kk(kel), nama_kepala_keluarga="x", kode_kelurahan=KEL_A,
                    jenis_bantuan="RTLH", tahun_anggaran=str(year), status=status)
    t = run_cli(tmp_path / "d", builder)
    assert t[("rtlh", "R1", "")]["reasons"] == "rtlh_sudah_selesai_2026"
    rows = targeting_rows(tmp_path, builder)
    got = {r["id_keluarga"]: r["category"] for r in rows if r["program"] == "rtlh"}
    assert got == {"R1": "tepat", "R2": "tepat", "R3": "inclusion"}


def test_pkh_inclusion_rupiah_is_what_the_household_would_get(tmp_path, builder):
    builder.household("P5", 5)  # desil 5 with a toddler: not eligible; PKH would pay 3,000,000
    builder.person("P5a", "P5", "2023-01-01")
    builder.row("dinsos_kpm", no_kk=builder.no_kk("P5"), nik_pengurus="", nama_pengurus="x", kode_kelurahan=KEL_A,
                program="PKH", status_kepesertaan="aktif", nominal="Rp 750.000")
    builder.row("dinsos_kpm", no_kk="1571010101209998", nik_pengurus="", nama_pengurus="x", kode_kelurahan=KEL_A,
                program="PKH", status_kepesertaan="aktif", nominal="Rp 750.000")
    rows = targeting_rows(tmp_path, builder)
    pkh = {r["id_keluarga"]: r for r in rows if r["program"] == "pkh"}
    assert pkh["P5"]["category"] == "inclusion" and pkh["P5"]["rupiah"] == "3000000"
    assert pkh[""]["rupiah"] == "750000"  # unknown household: the nominal Dinas Sosial reports


def test_changes_pure():
    cols = ["program", "id_keluarga", "id_art", "kode_kelurahan", "kode_kecamatan", "eligible", "reasons"]
    before = pd.DataFrame([
        ["pkh", "A", "", KEL_A, "15.71.01", False, "tidak_ada_komponen"],
        ["pbi_jk", "B", "B1", KEL_A, "15.71.01", True, "desil_2"],
        ["bpnt", "C", "", KEL_A, "15.71.01", True, "desil_1"],
        ["bpjs_tk", "D", "D1", KEL_A, "15.71.01", True, "desil_1;usia_18_64;sektor_informal;dalam_kuota"],
        ["bpnt", "E", "", KEL_A, "15.71.01", True, "desil_2"],
    ], columns=cols)
    after = pd.DataFrame([
        ["pkh", "A", "", KEL_A, "15.71.01", True, "desil_1;komponen:ibu_hamil"],
        ["pbi_jk", "B", "B1", KEL_A, "15.71.01", False, "meninggal"],
        ["bpjs_tk", "D", "D1", KEL_A, "15.71.01", False, "kuota_penuh"],
        ["bpnt", "E", "", KEL_A, "15.71.01", True, "desil_2"],
        ["bpnt", "F", "", KEL_A, "15.71.01", True, "desil_4"],
    ], columns=cols)
    got = rules.changes(before, after)
    table = {(r.program, r.id_keluarga): r for r in got.itertuples(index=False)}
    assert set(table) == {("pkh", "A"), ("pbi_jk", "B"), ("bpnt", "C"), ("bpjs_tk", "D"), ("bpnt", "F")}
    assert table[("pkh", "A")].change == "baru_layak" and table[("pkh", "A")].reason_changed == "komponen:ibu_hamil"
    assert table[("pbi_jk", "B")].change == "tidak_layak_lagi"
    assert table[("pbi_jk", "B")].reason_changed == "meninggal"
    assert table[("bpnt", "C")].reasons_after == "tidak_ada_di_registri"
    assert table[("bpjs_tk", "D")].reason_changed == "kuota_penuh"
    assert table[("bpnt", "F")].reasons_before is None and table[("bpnt", "F")].reason_changed == "desil_4"
