"""`tkpk simulate` on hand-made registries (files path): each case computed by hand from programs.yaml 2026.2.

Period 2026-10, E = 2026-10-31. Baseline rules: pkh desil 1-4 (anak_usia_dini Rp3.000.000, lansia 60+ Rp2.400.000),
bpnt desil 1-4 Rp2.400.000, bpjs_tk desil 1-4, 18-64, informal, quota 50 per kelurahan, Rp201.600.
"""

from __future__ import annotations

import csv
import json

import pytest

from tests.eligibility.helpers import KEL_A, KEL_B, Builder
from tkpk.cli import main


def run(tmp_path, b: Builder, *args: str, capsys=None) -> tuple[list[dict], dict]:
    registry, subs = b.write(tmp_path)
    out = tmp_path / "diff.csv"
    argv = ["simulate", "--period", "2026-10", "--registry", str(registry), "--out", str(out), "--json", *args]
    if b.submissions:
        argv += ["--submissions", str(subs)]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    with open(out, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return rows, summary


def program(summary: dict, code: str, scenario: int = 0) -> dict:
    return next(p for p in summary["scenarios"][scenario]["programs"] if p["program"] == code)


def family_registry() -> Builder:
    b = Builder()
    b.household("H1", 1)  # desil 1: parent + toddler
    b.person("H1a", "H1", "1990-01-01", sektor="informal", hubungan="kepala_keluarga")
    b.person("H1b", "H1", "2024-01-01")
    b.household("H2", 2)  # desil 2: parent + toddler
    b.person("H2a", "H2", "1988-01-01", hubungan="kepala_keluarga")
    b.person("H2b", "H2", "2023-05-01")
    b.household("H5", 5)  # desil 5: outside every program
    b.person("H5a", "H5", "1980-01-01", hubungan="kepala_keluarga")
    b.person("H5b", "H5", "1982-01-01")
    b.person("H5c", "H5", "2010-01-01")
    return b


def test_narrowing_a_desil_range_drops_the_desil_2_family_and_its_pkh_graduation_follows(tmp_path, capsys):
    b = family_registry()
    # Dinas Sosial lists H2 as PKH aktif: narrowed to desil 1, H2 becomes a graduation candidate (derived program)
    b.row("dinsos_kpm", no_kk=b.no_kk("H2"), nik_pengurus=b.nik("H2a"), nama_pengurus="x", kode_kelurahan=KEL_A,
          program="PKH", status_kepesertaan="aktif")
    rows, summary = run(tmp_path, b, "--set", "pkh.desil.max=1", capsys=capsys)
    assert [(r["program"], r["id_keluarga"]) for r in rows] == [("pkh", "H2"), ("kandidat_graduasi_pkh", "H2")]
    pkh = rows[0]
    assert (pkh["baseline_eligible"], pkh["scenario_eligible"]) == ("true", "false")
    assert (pkh["baseline_benefit"], pkh["scenario_benefit"]) == ("3000000", "0")
    assert pkh["baseline_reasons"] == "desil 2; komponen anak usia dini (0–6 tahun)"
    assert pkh["scenario_reasons"] == "desil di luar 1"
    assert pkh["id_art"] == "" and pkh["scenario"] == "skenario"
    grad = rows[1]
    assert (grad["baseline_eligible"], grad["scenario_eligible"]) == ("false", "true")
    assert grad["scenario_reasons"] == "tercatat aktif sebagai penerima PKH; desil di luar 1"
    assert summary["scenarios"][0]["programs_recomputed"] == ["pkh", "kandidat_graduasi_pkh"]
    p = program(summary, "pkh")
    assert (p["families_before"], p["families_after"], p["families_lost"], p["families_gained"]) == (2, 1, 1, 0)
    assert (p["persons_before"], p["persons_after"], p["persons_lost"]) == (4, 2, 2)
    assert (p["rupiah_before"], p["rupiah_after"]) == (6_000_000, 3_000_000)
    # extreme poor = miskin_ekstrem (desil 1): H1 only, covered before and after
    assert (p["extreme_poor_coverage_before"], p["extreme_poor_coverage_after"]) == (1.0, 1.0)
    assert p["pagu_after"]["pagu"] == 12_000_000_000 and p["pagu_after"]["sisa"] == 12_000_000_000 - 3_000_000
    # untouched programs: same figures before and after
    bpnt = program(summary, "bpnt")
    assert bpnt["families_before"] == bpnt["families_after"] == 2 and bpnt["families_lost"] == 0


def test_widening_a_desil_range_adds_the_desil_5_family_with_both_reasons(tmp_path, capsys):
    rows, summary = run(tmp_path, family_registry(), "--set", "bpnt.desil.max=5", capsys=capsys)
    assert len(rows) == 1
    r = rows[0]
    assert (r["program"], r["id_keluarga"], r["baseline_eligible"], r["scenario_eligible"]) == (
        "bpnt", "H5", "false", "true")
    assert (r["baseline_benefit"], r["scenario_benefit"]) == ("0", "2400000")
    # H5 is outside the baseline's range, so the baseline engine would not keep it: looked up in a second pass
    assert r["baseline_reasons"] == "desil di luar 1–4" and r["scenario_reasons"] == "desil 5"
    p = program(summary, "bpnt")
    assert (p["families_gained"], p["persons_gained"], p["families_lost"]) == (1, 3, 0)
    assert (p["rupiah_before"], p["rupiah_after"]) == (4_800_000, 7_200_000)
    assert summary["scenarios"][0]["programs_recomputed"] == ["bpnt"]


def quota_registry() -> Builder:
    b = Builder()
    # kelurahan A: three informal workers; ranking desil asc, active household size desc, age desc, id_art asc
    b.household("Q1", 1)  # 3 active members
    b.person("W1", "Q1", "1985-01-01", sektor="informal", hubungan="kepala_keluarga")
    b.person("Q1b", "Q1", "2015-01-01")
    b.person("Q1c", "Q1", "2016-01-01")
    b.household("Q2", 1)  # 1 active member
    b.person("W2", "Q2", "1970-01-01", sektor="informal", hubungan="kepala_keluarga")
    b.household("Q3", 2)  # desil 2: 4 active members
    b.person("W3", "Q3", "1990-01-01", sektor="informal", hubungan="kepala_keluarga")
    b.person("Q3b", "Q3", "2012-01-01")
    b.person("Q3c", "Q3", "2013-01-01")
    b.person("Q3d", "Q3", "2014-01-01")
    b.household("Q4", 1, kel=KEL_B)  # another kelurahan: its own quota
    b.person("W4", "Q4", "1980-01-01", sektor="informal", hubungan="kepala_keluarga")
    return b


def test_changing_a_quota_moves_the_ranking_and_the_waiting_list(tmp_path, capsys):
    # rule set 2026.2: BPJS TK desil 1-4, 50 places. Quota 1 per kelurahan: in A the ranking is W1 (desil 1,
    # 3 members), W2 (desil 1, 1 member), W3 (desil 2); W1 stays, W2 (rank 2) and W3 (rank 3) move to the waiting
    # list; in B W4 keeps rank 1
    rows, summary = run(tmp_path, quota_registry(), "--scenario", "kuota1", "--set", "bpjs_tk.quota.size=1",
                        capsys=capsys)
    got = {(r["program"], r["id_art"]): r for r in rows}
    assert set(got) == {("bpjs_tk", "W2"), ("bpjs_tk", "W3")}
    w2 = got[("bpjs_tk", "W2")]
    assert (w2["baseline_eligible"], w2["scenario_eligible"], w2["scenario"]) == ("true", "false", "kuota1")
    assert w2["baseline_reasons"] == "desil 1; usia 18–64 tahun; pekerja sektor informal; masuk kuota, peringkat 2"
    assert w2["scenario_reasons"].endswith("kuota penuh (daftar tunggu), peringkat 2")
    assert (w2["baseline_benefit"], w2["scenario_benefit"]) == ("201600", "0")
    p = program(summary, "bpjs_tk")
    assert got[("bpjs_tk", "W3")]["scenario_reasons"].endswith("kuota penuh (daftar tunggu), peringkat 3")
    assert (p["units_before"], p["units_after"], p["waiting_before"], p["waiting_after"]) == (4, 2, 0, 2)
    assert (p["persons_lost"], p["families_lost"], p["rupiah_after"]) == (2, 2, 2 * 201_600)

    # the extreme poor only (desil 1): W3 (desil 2) leaves the list it held at rank 3
    rows, summary = run(tmp_path, quota_registry(), "--set", "bpjs_tk.desil.max=1", capsys=capsys)
    assert [(r["id_art"], r["baseline_eligible"], r["scenario_eligible"]) for r in rows] == [("W3", "true", "false")]
    assert rows[0]["baseline_reasons"].endswith("masuk kuota, peringkat 3")
    assert rows[0]["scenario_reasons"] == "desil di luar 1"  # a refusal lists only the conditions it fails


def test_a_component_age_bound(tmp_path, capsys):
    b = Builder()
    b.household("L1", 1)
    b.person("L1a", "L1", "1954-01-01", hubungan="kepala_keluarga")  # 72 at E
    b.household("L2", 1)
    b.person("L2a", "L2", "1950-01-01", hubungan="kepala_keluarga")  # 76 at E
    b.household("L3", 2)
    b.person("L3a", "L3", "1960-01-01", hubungan="kepala_keluarga")  # 66 at E
    # rule set 2026.2: lansia from 60, PKH desil 1-4, so L3 (desil 2, 66) is in the baseline too
    rows, summary = run(tmp_path, b, "--set", "pkh.components.lansia.age.min=75", capsys=capsys)
    assert [(r["id_keluarga"], r["baseline_eligible"], r["scenario_eligible"]) for r in rows] == [
        ("L1", "true", "false"), ("L3", "true", "false")]
    assert rows[0]["baseline_reasons"] == "desil 1; komponen lansia"
    assert rows[0]["scenario_reasons"] == "tidak ada anggota yang memenuhi komponen PKH"
    rows, summary = run(tmp_path, b, "--set", "pkh.components.lansia.age.min=70", capsys=capsys)
    assert [(r["id_keluarga"], r["scenario_benefit"]) for r in rows] == [("L3", "0")]
    assert program(summary, "pkh")["rupiah_after"] == 2 * 2_400_000


def test_changing_an_amount_changes_rupiah_only(tmp_path, capsys):
    rows, summary = run(tmp_path, family_registry(), "--set", "bpnt.amount=2700000", capsys=capsys)
    assert [(r["id_keluarga"], r["baseline_eligible"], r["scenario_eligible"], r["baseline_benefit"],
             r["scenario_benefit"]) for r in rows] == [("H1", "true", "true", "2400000", "2700000"),
                                                       ("H2", "true", "true", "2400000", "2700000")]
    p = program(summary, "bpnt")
    assert (p["families_gained"], p["families_lost"], p["persons_gained"], p["persons_lost"]) == (0, 0, 0, 0)
    assert (p["rupiah_before"], p["rupiah_after"]) == (4_800_000, 5_400_000)


def test_no_override_gives_an_empty_diff_and_the_official_figures(tmp_path, capsys):
    b = family_registry()
    rows, summary = run(tmp_path, b, capsys=capsys)
    assert rows == []
    assert (tmp_path / "diff.csv").read_text(encoding="utf-8").strip().split(",")[0] == "scenario"
    assert summary["scenarios"][0]["programs_recomputed"] == []
    # the baseline is what `tkpk eligibility` decides with the same files
    from tests.eligibility.helpers import run_cli

    official = run_cli(tmp_path / "official", b)
    for p in summary["scenarios"][0]["programs"]:
        mine = [r for r in official.values() if r["program"] == p["program"] and r["eligible"] == "true"]
        assert p["units_before"] == p["units_after"] == len(mine), p["program"]
        assert p["rupiah_before"] == p["rupiah_after"] == sum(int(r["benefit_rupiah_per_year"]) for r in mine)
        assert p["families_gained"] == p["families_lost"] == 0


def test_several_scenarios_side_by_side_recompute_only_what_they_touch(tmp_path, capsys):
    rows, summary = run(tmp_path, family_registry(), "--scenario", "a", "--set", "pkh.desil.max=1",
                        "--scenario", "b", "--set", "bpnt.amount=2700000",
                        "--scenario", "c", "--set", "pagu.bpjs_tk.per_kelurahan=12000000", capsys=capsys)
    assert [s["programs_recomputed"] for s in summary["scenarios"]] == [["pkh", "kandidat_graduasi_pkh"], ["bpnt"],
                                                                         []]
    assert [r["scenario"] for r in rows] == ["a", "b", "b"]
    c = program(summary, "bpjs_tk", 2)
    assert c["pagu_before"]["pagu"] == c["pagu_after"]["pagu"] == 685_440_000
    assert c["pagu_after"]["kelurahan_melebihi_pagu"] == 0


@pytest.mark.parametrize(("override", "expected"), [
    ("pkh.desil.max=dua", ["pkh.desil.max", "harus berupa bilangan bulat", "'dua'"]),
    ("pkh.desil.max=11", ["pkh.desil.max", "terlalu besar: batasnya 10"]),
    ("pkh.desil.min=5", ["pkh.desil", "desil min (5) lebih besar dari max (4)"]),
    ("pkh.components.lansiaa.age.min=70", ["pkh.components", "lansiaa", "lansia"]),
    ("pkh.desill.max=1", ["pkh.desill", "tidak dikenal"]),
    ("pkx.desil.max=1", ["pkx", "tidak ada di programs.yaml"]),
    ("bpjs_tk.quota.size=-5", ["bpjs_tk.quota.size", "terlalu kecil: batasnya 0"]),
    ("pagu.bpjs_tk.per_kelurahan=banyak", ["pagu.bpjs_tk.per_kelurahan", "harus berupa bilangan bulat"]),
    ("pkh.desil.max", ["PROGRAM.KUNCI=NILAI"]),
])
def test_an_invalid_override_names_the_path_and_what_was_expected(tmp_path, capsys, override, expected):
    registry, _ = family_registry().write(tmp_path)
    code = main(["simulate", "--period", "2026-10", "--registry", str(registry), "--out", str(tmp_path / "d.csv"),
                 "--set", override])
    err = capsys.readouterr().err
    assert code == 1
    for text in expected:
        assert text in err, err
    assert not (tmp_path / "d.csv").exists()


def test_the_printed_summary_is_in_indonesian(tmp_path, capsys):
    registry, _ = family_registry().write(tmp_path)
    out = tmp_path / "diff.csv"
    assert main(["simulate", "--period", "2026-10", "--registry", str(registry), "--out", str(out),
                 "--scenario", "bpnt5", "--set", "bpnt.desil.max=5", "--set", "pagu.bpnt.tahunan=6000000"]) == 0
    text = capsys.readouterr().out
    assert "Simulasi Oktober 2026 terhadap aturan yang berlaku (2026.2): 1 keputusan berbeda" in text
    assert "Skenario 'bpnt5': bpnt.desil.max=5, pagu.bpnt.tahunan=6000000" in text
    assert "bpnt: keluarga 2 -> 3 (+1 / -0), jiwa 4 -> 7 (+3 / -0)" in text
    assert "rupiah setahun Rp4.800.000 -> Rp7.200.000" in text
    assert "pagu Rp6.000.000: kurang Rp1.200.000 (MELEBIHI pagu)" in text


def test_a_whole_alternative_rules_file_and_a_pagu_per_kelurahan_exception(tmp_path, capsys):
    import yaml

    from tkpk.settings import Settings

    rules = yaml.safe_load((Settings.from_env().config_dir / "programs.yaml").read_text(encoding="utf-8"))
    rules["rule_set_version"] = "2027.usulan"
    next(p for p in rules["programs"] if p["code"] == "bpnt")["desil"]["max"] = 5
    alt = tmp_path / "usulan.yaml"
    alt.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    rows, summary = run(tmp_path, family_registry(), "--scenario", "usulan", "--rules", str(alt),
                        "--set", "pagu.bpnt.tahunan=6000000",
                        "--set", f"pagu.bpjs_tk.kelurahan.{KEL_A}=100000", capsys=capsys)
    # same answer as --set bpnt.desil.max=5; the version label alone recomputes nothing
    assert summary["scenarios"][0]["programs_recomputed"] == ["bpnt"]
    assert [(r["id_keluarga"], r["scenario_eligible"]) for r in rows] == [("H5", "true")]
    assert program(summary, "bpnt")["pagu_after"] == {"pagu": 6_000_000, "sisa": -1_200_000, "cukup": False,
                                                       "kelurahan_melebihi_pagu": None}
    # H1's informal worker costs Rp201.600 in kelurahan A, whose pagu is now Rp100.000
    assert program(summary, "bpjs_tk")["pagu_after"]["kelurahan_melebihi_pagu"] == 1
    assert program(summary, "bpjs_tk")["pagu_before"]["kelurahan_melebihi_pagu"] == 0

    broken = tmp_path / "rusak.yaml"
    broken.write_text("rule_set_version: x\nprograms: [{code: pkh}]\n", encoding="utf-8")
    registry, _ = family_registry().write(tmp_path / "b")
    assert main(["simulate", "--period", "2026-10", "--registry", str(registry), "--out", str(tmp_path / "d.csv"),
                 "--rules", str(broken)]) == 1
    assert "rusak.yaml" in capsys.readouterr().err
