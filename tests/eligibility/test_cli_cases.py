"""Hand-made households with known answers, run through the CLI contract (`tkpk eligibility --registry DIR`).

Period 2026-10, so E = 2026-10-31 and ages are full years on that day. Every expectation below is worked out by
hand from DESIGN.md section 7.
"""

from __future__ import annotations

import csv

import pytest

from .helpers import KEL_A, KEL_B, KEL_C, eligible, reasons, run_cli


def benefit(table, program, kel, art=""):
    return int(table[(program, kel, art)]["benefit_rupiah_per_year"])


def test_output_columns_and_values(tmp_path, builder):
    builder.household("K1", 1)
    builder.person("A1", "K1", "1980-05-05", sektor="informal")
    run_cli(tmp_path, builder)
    with open(tmp_path / "decisions.csv", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["period", "program", "id_keluarga", "id_art", "eligible",
                                     "benefit_rupiah_per_year", "reasons", "rank"]
        rows = list(reader)
    assert {r["period"] for r in rows} == {"2026-10"}
    assert {r["eligible"] for r in rows} <= {"true", "false"}
    household_rows = [r for r in rows if r["program"] in ("miskin_ekstrem", "pkh", "bpnt", "rtlh")]
    assert household_rows and all(r["id_art"] == "" for r in household_rows)
    bpjs = next(r for r in rows if r["program"] == "bpjs_tk")
    assert bpjs["rank"] == "1" and bpjs["benefit_rupiah_per_year"] == "201600"
    assert all(r["rank"] == "" for r in rows if r["program"] != "bpjs_tk")


def test_desil_programs(tmp_path, builder):
    for d in (1, 2, 3, 4, 5, 6, None):
        kel = builder.household(f"D{d}", d)
        builder.person(f"P{d}", kel, "1980-01-01")
    t = run_cli(tmp_path, builder)
    assert [eligible(t, "miskin_ekstrem", f"D{d}") for d in (1, 2, 3, 4, 5, 6, None)] == [True] + [False] * 6
    assert [eligible(t, "bpnt", f"D{d}") for d in (1, 2, 3, 4, 5, 6, None)] == [True] * 4 + [False] * 3
    assert [eligible(t, "pbi_jk", f"D{d}", f"P{d}") for d in (1, 2, 3, 4, 5, 6, None)] == [True] * 5 + [False] * 2
    assert benefit(t, "bpnt", "D4") == 2_400_000 and benefit(t, "pbi_jk", "D5", "P5") == 504_000
    assert benefit(t, "miskin_ekstrem", "D1") == 0
    assert reasons(t, "miskin_ekstrem", "D1") == ["desil_1"]
    assert reasons(t, "bpnt", "D3") == ["desil_3"]
    assert reasons(t, "pbi_jk", "D5", "P5") == ["desil_5"]
    # households outside a program's desil range need no row; if one is written it must say no
    assert not eligible(t, "bpnt", "D5")


def test_pkh_component_age_boundaries(tmp_path, builder):
    cases = {
        "AUD6": ("2020-10-31", True),   # 6 on E: anak_usia_dini (0-6)
        "AUD6b": ("2019-11-01", True),  # birthday tomorrow: still 6
        "AUD7": ("2019-10-31", False),  # 7 on E
        "BAYI": ("2026-10-01", True),   # 0 years
        "L70": ("1956-10-31", True),    # 70 on E: lansia
        "L69": ("1956-11-01", True),    # 69 on E: lansia since rule set 2026.2 (from 60)
        "L60": ("1966-10-31", True),    # 60 on E: lansia
        "L59": ("1966-11-01", False),   # 59 on E (60 tomorrow)
    }
    for kel, (born, _) in cases.items():
        builder.household(kel, 2)
        builder.person(f"{kel}-1", kel, born)
        builder.person(f"{kel}-2", kel, "1985-03-03")  # an adult with no component
    t = run_cli(tmp_path, builder)
    for kel, (_, expected) in cases.items():
        assert eligible(t, "pkh", kel) is expected, kel
    assert benefit(t, "pkh", "AUD6") == 3_000_000
    assert reasons(t, "pkh", "AUD6") == ["desil_2", "komponen:anak_usia_dini"]
    assert benefit(t, "pkh", "L70") == 2_400_000
    assert reasons(t, "pkh", "L70") == ["desil_2", "komponen:lansia"]
    assert benefit(t, "pkh", "L60") == 2_400_000
    assert reasons(t, "pkh", "L60") == ["desil_2", "komponen:lansia"]
    assert reasons(t, "pkh", "L69") == ["desil_2", "komponen:lansia"]
    assert reasons(t, "pkh", "L59") == ["tidak_ada_komponen"]


def test_pkh_reaches_desil_4_not_5(tmp_path, builder):
    # rule set 2026.2: PKH desil 1-4; one child of 3 in each household (anak_usia_dini, Rp3.000.000)
    for d in (3, 4, 5):
        builder.household(f"PK{d}", d)
        builder.person(f"PK{d}-1", f"PK{d}", "2023-06-01")
    t = run_cli(tmp_path, builder)
    assert eligible(t, "pkh", "PK3") and eligible(t, "pkh", "PK4")
    assert benefit(t, "pkh", "PK4") == 3_000_000
    assert reasons(t, "pkh", "PK4") == ["desil_4", "komponen:anak_usia_dini"]
    assert not eligible(t, "pkh", "PK5")


def test_pkh_school_components_need_enrolment_and_age_21(tmp_path, builder):
    rows = {
        "SD": ("2016-02-02", "SD", 900_000, "anak_sd"),
        "SMP": ("2012-02-02", "SMP", 1_500_000, "anak_smp"),
        "SMA": ("2009-02-02", "SMA", 2_000_000, "anak_sma"),
        "SMK": ("2009-02-02", "SMK", 2_000_000, "anak_sma"),
        "SMA21": ("2005-10-31", "SMA", 2_000_000, "anak_sma"),  # 21 on E
        "SMA22": ("2004-10-31", "SMA", 0, None),  # 22 on E
        "PT": ("2006-01-01", "PT", 0, None),  # university is no PKH component
        "NONE": ("2016-02-02", "", 0, None),  # school age but not enrolled
    }
    for kel, (born, jenjang, _, _) in rows.items():
        builder.household(kel, 1)
        builder.person(f"{kel}-1", kel, born, jenjang=jenjang)
    t = run_cli(tmp_path, builder)
    for kel, (_, _, amount, comp) in rows.items():
        if comp:
            assert eligible(t, "pkh", kel), kel
            assert benefit(t, "pkh", kel) == amount
            assert reasons(t, "pkh", kel) == ["desil_1", f"komponen:{comp}"]
        else:
            assert not eligible(t, "pkh", kel), kel
            assert reasons(t, "pkh", kel) == ["tidak_ada_komponen"]


def test_pkh_one_component_per_person_highest_paid(tmp_path, builder):
    builder.household("HAMDIS", 1)  # pregnant and disabled: ibu_hamil (3,000,000), not both
    builder.person("X1", "HAMDIS", "1995-01-01", sex="P", hamil="Y", disabilitas="Y")
    builder.household("SIX", 1)  # six and enrolled at SD: anak_usia_dini (3,000,000) beats anak_sd (900,000)
    builder.person("X2", "SIX", "2020-06-01", jenjang="SD")
    builder.household("OLDDIS", 1)  # disabled and 75: one component of 2,400,000
    builder.person("X3", "OLDDIS", "1951-01-01", disabilitas="Y")
    t = run_cli(tmp_path, builder)
    assert benefit(t, "pkh", "HAMDIS") == 3_000_000
    assert reasons(t, "pkh", "HAMDIS") == ["desil_1", "komponen:ibu_hamil"]
    assert benefit(t, "pkh", "SIX") == 3_000_000
    assert reasons(t, "pkh", "SIX") == ["desil_1", "komponen:anak_usia_dini"]
    assert benefit(t, "pkh", "OLDDIS") == 2_400_000
    assert len([r for r in reasons(t, "pkh", "OLDDIS") if r.startswith("komponen:")]) == 1


@pytest.mark.parametrize("lansia_id, disabled_id, kept", [("C5", "C4", "disabilitas_berat"),
                                                          ("C4", "C5", "lansia")])
def test_pkh_cap_of_four_ties_by_id_art(tmp_path, builder, lansia_id, disabled_id, kept):
    builder.household("CAP", 1)
    builder.person("C1", "CAP", "1995-01-01", sex="P", hamil="Y", hubungan="istri")  # ibu_hamil 3,000,000
    builder.person("C2", "CAP", "2023-05-01")  # anak_usia_dini 3,000,000
    builder.person("C3", "CAP", "2024-05-01")  # anak_usia_dini 3,000,000
    builder.person(lansia_id, "CAP", "1950-01-01")  # lansia 2,400,000
    builder.person(disabled_id, "CAP", "1990-01-01", disabilitas="Y")  # disabilitas_berat 2,400,000
    builder.person("C6", "CAP", "2016-01-01", jenjang="SD")  # anak_sd 900,000: fifth and sixth are dropped
    t = run_cli(tmp_path, builder)
    assert eligible(t, "pkh", "CAP")
    assert benefit(t, "pkh", "CAP") == 3_000_000 * 3 + 2_400_000
    assert reasons(t, "pkh", "CAP") == [
        "desil_1", "komponen:ibu_hamil", "komponen:anak_usia_dini", "komponen:anak_usia_dini", f"komponen:{kept}",
        "batas_komponen_4",
    ]


def test_bpjs_tk_age_sector_desil(tmp_path, builder):
    builder.household("W", 1)
    people = {
        "W18": ("2008-10-31", "informal", True),
        "W17": ("2008-11-01", "informal", False),
        "W64": ("1961-11-01", "informal", True),
        "W65": ("1961-10-31", "informal", False),
        "WF": ("1990-01-01", "formal", False),
    }
    for art, (born, sektor, _) in people.items():
        builder.person(art, "W", born, sektor=sektor)
    builder.household("W2", 2)  # desil 2: inside BPJS TK's range since rule set 2026.2
    builder.person("W2A", "W2", "1990-01-01", sektor="informal")
    builder.household("W5", 5)  # desil 5: outside
    builder.person("W5A", "W5", "1990-01-01", sektor="informal")
    t = run_cli(tmp_path, builder)
    for art, (_, _, expected) in people.items():
        assert eligible(t, "bpjs_tk", "W", art) is expected, art
    assert reasons(t, "bpjs_tk", "W", "W18") == ["desil_1", "usia_18_64", "sektor_informal", "dalam_kuota"]
    assert reasons(t, "bpjs_tk", "W", "W17") == ["usia_di_luar_18_64"]
    assert reasons(t, "bpjs_tk", "W", "W65") == ["usia_di_luar_18_64"]
    assert reasons(t, "bpjs_tk", "W", "WF") == ["sektor_bukan_informal"]
    assert t[("bpjs_tk", "W", "W17")]["rank"] == ""
    # ranked: household size 5, then older first: W64 (64) before W18 (18)
    # ranked: desil 1 first, then household size 5, then older first: W64 (64) before W18 (18); W2A (desil 2) last
    assert t[("bpjs_tk", "W", "W64")]["rank"] == "1" and t[("bpjs_tk", "W", "W18")]["rank"] == "2"
    assert eligible(t, "bpjs_tk", "W2", "W2A") and t[("bpjs_tk", "W2", "W2A")]["rank"] == "3"
    assert reasons(t, "bpjs_tk", "W2", "W2A") == ["desil_2", "usia_18_64", "sektor_informal", "dalam_kuota"]
    assert not eligible(t, "bpjs_tk", "W5", "W5A")


def test_pip_levels_ages_and_amounts(tmp_path, builder):
    builder.household("S", 4)
    kids = {
        "SD6": ("2020-10-31", "SD", 450_000),
        "SD5": ("2021-01-01", "SD", 0),  # 5 years old
        "SMP": ("2013-01-01", "SMP", 750_000),
        "SMK21": ("2005-06-01", "SMK", 1_800_000),
        "SMA22": ("2004-10-31", "SMA", 0),
        "PT": ("2006-01-01", "PT", 0),
        "NO": ("2014-01-01", "", 0),
    }
    for art, (born, jenjang, _) in kids.items():
        builder.person(art, "S", born, jenjang=jenjang)
    builder.household("S5", 5)
    builder.person("S5A", "S5", "2014-01-01", jenjang="SD")
    t = run_cli(tmp_path, builder)
    for art, (_, _, amount) in kids.items():
        assert eligible(t, "pip", "S", art) is (amount > 0), art
        if amount:
            assert benefit(t, "pip", "S", art) == amount
    assert reasons(t, "pip", "S", "SD6") == ["desil_4", "usia_6_21", "sekolah_sd"]
    assert reasons(t, "pip", "S", "SD5") == ["usia_di_luar_6_21"]
    assert reasons(t, "pip", "S", "PT") == ["jenjang_tidak_sesuai"]
    assert reasons(t, "pip", "S", "NO") == ["tidak_bersekolah"]
    assert not eligible(t, "pip", "S5", "S5A")


def test_deaths_and_moves_reported_this_month(tmp_path, builder):
    builder.household("DEAD", 1)
    builder.person("X1", "DEAD", "1950-01-01")
    builder.household("MOM", 2)
    builder.person("M1", "MOM", "1994-01-01", sex="P", hamil="Y", hubungan="istri")
    builder.person("M2", "MOM", "1990-01-01", hubungan="kepala_keluarga")
    builder.household("MOVE", 3)
    builder.person("Y1", "MOVE", "1980-01-01")  # moved out
    builder.person("Y2", "MOVE", "1982-01-01")  # moved out and back
    builder.person("Y3", "MOVE", "1984-01-01")  # moved back and died the same day
    builder.person("Y4", "MOVE", "1986-01-01")  # dies after E: still active at E
    for art, kind, day in (("X1", "MENINGGAL", "15/10/2026"), ("M1", "MENINGGAL", "2026-10-20"),
                           ("Y1", "PINDAH_KELUAR", "2026-10-05"), ("Y2", "PINDAH_KELUAR", "2026-10-02"),
                           ("Y2", "PINDAH_DATANG", "2026-10-20"), ("Y3", "PINDAH_DATANG", "2026-10-09"),
                           ("Y3", "MENINGGAL", "2026-10-09"), ("Y4", "MENINGGAL", "2026-11-03")):
        builder.row("disdukcapil_mutasi", nik=builder.nik(art), no_kk="", nama="x", jenis_mutasi=kind,
                    tanggal_peristiwa=day)
    builder.row("dinsos_kpm", no_kk=builder.no_kk("MOM"), nik_pengurus=builder.nik("M2"), nama_pengurus="x",
                kode_kelurahan=KEL_A, program="PKH", status_kepesertaan="aktif", nominal="")
    t = run_cli(tmp_path, builder)
    # a household whose only member died is eligible for nothing
    for program in ("miskin_ekstrem", "pkh", "bpnt", "rtlh"):
        assert not eligible(t, program, "DEAD"), program
    assert reasons(t, "miskin_ekstrem", "DEAD") == ["tidak_ada_anggota_aktif"]
    assert not eligible(t, "pbi_jk", "DEAD", "X1")
    assert reasons(t, "pbi_jk", "DEAD", "X1") == ["meninggal"]
    # the pregnant mother died: no PKH component left, and PKH aktif makes the household a graduation candidate
    assert not eligible(t, "pkh", "MOM")
    assert reasons(t, "pkh", "MOM") == ["tidak_ada_komponen"]
    assert eligible(t, "kandidat_graduasi_pkh", "MOM")
    assert reasons(t, "kandidat_graduasi_pkh", "MOM") == ["pkh_aktif", "tidak_ada_komponen"]
    assert eligible(t, "pbi_jk", "MOM", "M2") and not eligible(t, "pbi_jk", "MOM", "M1")
    assert reasons(t, "pbi_jk", "MOVE", "Y1") == ["pindah_keluar"]
    assert eligible(t, "pbi_jk", "MOVE", "Y2")
    assert reasons(t, "pbi_jk", "MOVE", "Y3") == ["meninggal"]
    assert eligible(t, "pbi_jk", "MOVE", "Y4")


def test_rtlh_rented_unfit_and_recent_rehabilitation(tmp_path, builder):
    homes = {
        "R_SEWA": (2, "sewa", "Y", False, "rumah_bukan_milik_sendiri"),
        "R_NUMPANG": (1, "menumpang", "Y", False, "rumah_bukan_milik_sendiri"),
        "R_OK": (3, "milik_sendiri", "Y", True, None),
        "R_D4": (4, "milik_sendiri", "Y", False, "desil_di_luar_1_3"),
        "R_LAYAK": (1, "milik_sendiri", "N", False, "rumah_layak"),
        "R_2017": (1, "milik_sendiri", "Y", False, "rtlh_sudah_selesai_2017"),
        "R_2016": (1, "milik_sendiri", "Y", True, None),
        "R_PROSES": (1, "milik_sendiri", "Y", True, None),
        "R_JAMBAN": (2, "milik_sendiri", "Y", True, None),
    }
    for kel, (desil, own, unfit, _, _) in homes.items():
        builder.household(kel, desil, kepemilikan=own, tidak_layak=unfit)
        builder.person(f"{kel}-1", kel)
    for kel, jenis, year, status in (("R_2017", "RTLH", 2017, "selesai"), ("R_2016", "RTLH", 2016, "selesai"),
                                     ("R_PROSES", "RTLH", 2025, "proses"), ("R_JAMBAN", "JAMBAN", 2024, "selesai")):
        builder.row("perkim_rumah", no_kk=builder.no_kk(kel), nama_kepala_keluarga="x", kode_kelurahan=KEL_A,
                    jenis_bantuan=jenis, tahun_anggaran=str(year), status=status)
    t = run_cli(tmp_path, builder)
    for kel, (_, _, _, expected, reason) in homes.items():
        assert eligible(t, "rtlh", kel) is expected, kel
        if expected:
            assert benefit(t, "rtlh", kel) == 20_000_000
        elif ("rtlh", kel, "") in t:  # outside the desil range a household needs no row
            assert reason in reasons(t, "rtlh", kel), kel
        else:
            assert reason.startswith("desil_di_luar"), kel
    assert reasons(t, "rtlh", "R_OK") == ["desil_3", "rumah_tidak_layak", "rumah_milik_sendiri"]


def test_bpjs_tk_quota_per_kelurahan_ranked_with_waiting_list(tmp_path, builder):
    # kelurahan B: 56 candidates for 50 places
    builder.household("QA", 1, kel=KEL_B)  # 5 active members, one worker of 30
    builder.person("WA", "QA", "1996-01-01", sektor="informal")
    for i in range(4):
        builder.person(f"QA-{i}", "QA", "2015-01-01")
    builder.household("QB", 1, kel=KEL_B)  # 3 members, two workers both 40 in full years
    builder.person("WB2", "QB", "1985-11-15", sektor="informal")
    builder.person("WB1", "QB", "1986-01-01", sektor="informal")
    builder.person("QB-k", "QB", "2015-01-01")
    builder.household("QC", 1, kel=KEL_B)  # 3 members of whom 2 died this month: household size 1
    builder.person("WC", "QC", "1970-01-01", sektor="informal")
    for i in range(2):
        art = builder.person(f"QC-{i}", "QC", "1990-01-01")
        builder.row("disdukcapil_mutasi", nik=builder.nik(art), no_kk="", nama="x", jenis_mutasi="MENINGGAL",
                    tanggal_peristiwa="2026-10-10")
    singles = []
    for i in range(52):
        kel = builder.household(f"QS{i:02d}", 1, kel=KEL_B)
        singles.append((builder.person(f"WS{i:02d}", kel, f"{2006 - (i % 40)}-03-01", sektor="informal"), 20 + i % 40))
    # kelurahan A: one young worker, alone in the list, rank 1 there
    builder.household("QZ", 1, kel=KEL_A)
    builder.person("WZ", "QZ", "2007-01-01", sektor="informal")
    t = run_cli(tmp_path, builder)

    # expected order: household size desc, age (full years) desc, id_art asc
    expected = [("WA", "QA"), ("WB1", "QB"), ("WB2", "QB")]
    singles_ranked = sorted([("WC", 56, "QC")] + [(art, age, f"QS{art[2:]}") for art, age in singles],
                            key=lambda x: (-x[1], x[0]))
    expected += [(art, kel) for art, _, kel in singles_ranked]
    assert len(expected) == 56
    for rank, (art, kel) in enumerate(expected, start=1):
        row = t[("bpjs_tk", kel, art)]
        assert row["rank"] == str(rank), art
        if rank <= 50:
            assert row["eligible"] == "true" and "dalam_kuota" in row["reasons"].split(";")
            assert row["benefit_rupiah_per_year"] == "201600"
        else:
            assert row["eligible"] == "false" and row["reasons"] == "kuota_penuh"
            assert row["benefit_rupiah_per_year"] == "0"
    waiting = [r for r in t.values() if r["program"] == "bpjs_tk" and "kuota_penuh" in r["reasons"]]
    assert len(waiting) == 6
    assert t[("bpjs_tk", "QZ", "WZ")]["rank"] == "1" and eligible(t, "bpjs_tk", "QZ", "WZ")


def test_bpjs_tk_full_kelurahan_fills_desil_1_before_desil_2_to_4(tmp_path, builder):
    # kelurahan B: 50 single informal workers in desil 1 fill the quota; workers of desil 2, 3 and 4 in larger (and
    # older) households come after every desil-1 worker, on the waiting list in desil order
    for i in range(50):
        builder.household(f"E{i:02d}", 1, kel=KEL_B)
        builder.person(f"WE{i:02d}", f"E{i:02d}", "2000-01-01", sektor="informal")
    for d in (4, 3, 2):
        builder.household(f"H{d}", d, kel=KEL_B)
        builder.person(f"WH{d}", f"H{d}", "1970-01-01", sektor="informal")
        for k in range(4):
            builder.person(f"H{d}-{k}", f"H{d}", "2015-01-01")
    t = run_cli(tmp_path, builder)
    for i in range(50):
        row = t[("bpjs_tk", f"E{i:02d}", f"WE{i:02d}")]
        assert row["eligible"] == "true" and row["rank"] == str(i + 1)  # same size and age: id_art order
    for rank, d in ((51, 2), (52, 3), (53, 4)):
        row = t[("bpjs_tk", f"H{d}", f"WH{d}")]
        assert row["rank"] == str(rank) and row["eligible"] == "false" and row["reasons"] == "kuota_penuh", d
        assert row["benefit_rupiah_per_year"] == "0"


def test_graduation_candidates(tmp_path, builder):
    def kpm(kel, program="PKH", status="aktif", no_kk=None, nik=""):
        builder.row("dinsos_kpm", no_kk=no_kk if no_kk is not None else builder.no_kk(kel), nik_pengurus=nik,
                    nama_pengurus="x", kode_kelurahan=KEL_A, program=program, status_kepesertaan=status,
                    nominal="Rp 3.000.000")

    builder.household("G1", 5)
    builder.person("G1a", "G1", "2022-01-01")
    kpm("G1")
    builder.household("G2", 1)
    builder.person("G2a", "G2", "2022-01-01")
    kpm("G2")
    builder.household("G3", 2)
    builder.person("G3a", "G3", "1980-01-01")
    kpm("G3")
    builder.household("G4", 5)
    builder.person("G4a", "G4", "1980-01-01")
    kpm("G4", status="graduasi")
    builder.household("G5", 5)
    builder.person("G5a", "G5", "1980-01-01")
    kpm("G5", program="BPNT")
    builder.household("G6", 6)  # found through the NIK of the pengurus (No KK left blank)
    builder.person("G6a", "G6", "1980-01-01")
    kpm("G6", no_kk="", nik=builder.nik("G6a"))
    builder.household("G7", 1)  # everybody died: eligible for nothing, not even graduation
    builder.person("G7a", "G7", "1940-01-01")
    kpm("G7")
    builder.row("disdukcapil_mutasi", nik=builder.nik("G7a"), no_kk="", nama="x", jenis_mutasi="MENINGGAL",
                tanggal_peristiwa="2026-10-01")
    kpm("GX", program="PKH", no_kk="1571010101209999")  # not in the registry: ignored here
    builder.household("G8", 1)  # desil 1 with a component, not on the PKH list: eligible, not a candidate
    builder.person("G8a", "G8", "2022-01-01")
    t = run_cli(tmp_path, builder)
    candidates = {k[1] for k, r in t.items() if k[0] == "kandidat_graduasi_pkh" and r["eligible"] == "true"}
    assert candidates == {"G1", "G3", "G6"}
    assert reasons(t, "kandidat_graduasi_pkh", "G1") == ["pkh_aktif", "desil_di_luar_1_4"]
    assert reasons(t, "kandidat_graduasi_pkh", "G3") == ["pkh_aktif", "tidak_ada_komponen"]
    assert benefit(t, "kandidat_graduasi_pkh", "G1") == 0
    assert eligible(t, "pkh", "G2") and eligible(t, "pkh", "G8")


def test_pregnancy_enrolment_and_newborn_from_submissions(tmp_path, builder):
    builder.household("P1", 1)
    builder.person("P1a", "P1", "1996-01-01", sex="P")  # pregnant in this month's Dinkes batch
    builder.row("dinkes_ibu_hamil", nik=builder.nik("P1a"), nama="x", tanggal_lahir="1996-01-01",
                kode_kelurahan=KEL_A, usia_kehamilan_minggu="40", hpl="2026-09-01")
    builder.household("S1", 2)
    builder.person("S1a", "S1", "2013-01-01")  # 13, not enrolled in the snapshot; Disdik says SMP
    builder.person("S1b", "S1", "2016-01-01", jenjang="SD")  # snapshot SD, Disdik says SMP: the Disdik row wins
    for art in ("S1a", "S1b"):
        builder.row("disdik_siswa", nik=builder.nik(art), nama="x", tanggal_lahir="2013-01-01",
                    jenis_kelamin="L", jenjang="SMP", nama_sekolah="SMPN 1", penerima_pip="N")
    builder.household("N1", 2)
    builder.person("N1a", "N1", "1990-01-01")
    builder.row("disdukcapil_mutasi", nik="1571014510260001", no_kk=builder.no_kk("N1"), nama="bayi",
                jenis_mutasi="LAHIR", tanggal_peristiwa="2026-10-05")
    builder.household("N2", 2)  # born after E: not yet
    builder.person("N2a", "N2", "1990-01-01")
    builder.row("disdukcapil_mutasi", nik="1571010111260002", no_kk=builder.no_kk("N2"), nama="bayi",
                jenis_mutasi="LAHIR", tanggal_peristiwa="2026-11-01")
    t = run_cli(tmp_path, builder)
    assert reasons(t, "pkh", "P1") == ["desil_1", "komponen:ibu_hamil"]
    assert benefit(t, "pkh", "S1") == 3_000_000
    assert reasons(t, "pkh", "S1") == ["desil_2", "komponen:anak_smp", "komponen:anak_smp"]
    assert benefit(t, "pip", "S1", "S1a") == 750_000 and benefit(t, "pip", "S1", "S1b") == 750_000
    assert reasons(t, "pkh", "N1") == ["desil_2", "komponen:anak_usia_dini"]
    newborn = [k for k in t if k[0] == "pbi_jk" and k[1] == "N1" and k[2] != "N1a"]
    assert len(newborn) == 1 and newborn[0][2].startswith("LAHIR-") and eligible(t, *newborn[0])
    assert "1571014510260001" not in newborn[0][2]
    assert not eligible(t, "pkh", "N2")


def test_messy_submission_files(tmp_path, builder):
    builder.household("K1", 1)
    builder.person("A1", "K1", "1950-01-01")
    builder.person("A2", "K1", "1990-06-01", sex="P")
    registry, subs = builder.write(tmp_path)
    # Excel export: title row, Indonesian headers, ';' separator, Windows-1252, NIK typed with an apostrophe,
    # an Indonesian date, lower-case enum value; and an unreadable NIK (scientific notation) that matches nobody
    text = ("Laporan Mutasi Penduduk Oktober 2026 – Disdukcapil;;;;\n"
            "NIK;No. KK;Nama Lengkap;Jenis Mutasi;Tgl Peristiwa\n"
            f"'{builder.nik('A1')};;Warga A1;meninggal;15 Oktober 2026\n"
            "1.57101E+15;;Warga A2;Meninggal;16/10/2026\n")
    (subs / "disdukcapil_mutasi.csv").write_bytes(text.encode("cp1252"))
    from tkpk.cli import main

    out = tmp_path / "out.csv"
    assert main(["eligibility", "--registry", str(registry), "--submissions", str(subs), "--period", "2026-10",
                 "--out", str(out)]) == 0
    rows = {(r["program"], r["id_art"]): r for r in csv.DictReader(open(out, encoding="utf-8"))}
    assert rows[("pbi_jk", "A1")]["reasons"] == "meninggal"
    assert rows[("pbi_jk", "A2")]["eligible"] == "true"


def test_household_in_other_kecamatan_and_codes_without_dots(tmp_path, builder):
    builder.household("K1", 1, kel="1571031003")
    builder.person("A1", "K1", "1990-01-01", sektor="informal")
    builder.household("K2", 1, kel=KEL_C)
    builder.person("A2", "K2", "1991-01-01", sektor="informal")
    t = run_cli(tmp_path, builder)
    # both in the same kelurahan once codes are normalised: one quota list
    assert {t[("bpjs_tk", "K1", "A1")]["rank"], t[("bpjs_tk", "K2", "A2")]["rank"]} == {"1", "2"}


def test_cli_usage_and_registry_errors(tmp_path, builder, capsys):
    from tkpk.cli import main

    assert main(["eligibility", "--registry", str(tmp_path / "nope"), "--period", "2026-10", "--out", "x.csv"]) == 1
    assert main(["eligibility", "--registry", str(tmp_path), "--period", "2026-13", "--out", "x.csv"]) == 1
    builder.household("K1", 1)
    registry, _ = builder.write(tmp_path)
    (registry / "persons.csv").write_text("id_art,id_keluarga\nA1,K1\n", encoding="utf-8")
    assert main(["eligibility", "--registry", str(registry), "--period", "2026-10",
                 "--out", str(tmp_path / "o.csv")]) == 2
    out = capsys.readouterr()
    assert "Kolom wajib tidak ditemukan" in out.out


def test_console_command(tmp_path, builder):
    import os
    import subprocess
    import sys
    from pathlib import Path

    builder.household("K1", 1)
    builder.person("A1", "K1", "1990-01-01")
    registry, _ = builder.write(tmp_path)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root / "plugins")}
    done = subprocess.run([sys.executable, "-m", "tkpk", "eligibility", "--registry", str(registry), "--period",
                           "2026-10", "--out", str(tmp_path / "d.csv")], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Kelayakan Oktober 2026" in done.stdout
    assert (tmp_path / "d.csv").read_text(encoding="utf-8").startswith(
        "period,program,id_keluarga,id_art,eligible,benefit_rupiah_per_year,reasons,rank")
