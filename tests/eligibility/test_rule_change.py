"""Month-to-month changes when the rule set changes (2026.1 -> 2026.2), and graduation candidates who leave the
list: what a change is attributed to. Worked out by hand from DESIGN.md section 7."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from sqlalchemy import select

from tkpk.eligibility import run_period
from tkpk.registry import load_snapshot
from tkpk.settings import Settings
from tkpk.warehouse import session_scope
from tkpk.warehouse.models import EligibilityChange

from .helpers import KEL_A, Builder
from .test_store import add_batch

CONFIG = Path(__file__).resolve().parents[2] / "include" / "config"


def old_rules(tmp_path: Path) -> Path:
    """include/config with programs.yaml as rule set 2026.1 read (PKH desil 1-2, lansia from 70)."""
    folder = tmp_path / "config-2026.1"
    shutil.copytree(CONFIG, folder)
    text = (folder / "programs.yaml").read_text(encoding="utf-8")
    text = text.replace('rule_set_version: "2026.2"', 'rule_set_version: "2026.1"')
    text = text.replace("kind: pkh\n    desil: {min: 1, max: 4}", "kind: pkh\n    desil: {min: 1, max: 2}")
    text = text.replace("condition: age, age: {min: 60}}", "condition: age, age: {min: 70}}")
    assert text.count("2026.1") == 1 and "max: 2}" in text and "min: 70}" in text
    (folder / "programs.yaml").write_text(text, encoding="utf-8")
    return folder


def test_rule_set_change_and_graduates_leaving_the_list(warehouse, tmp_path):
    url = warehouse
    b = Builder()
    b.household("D3", 3)  # desil 3 with a toddler: PKH only under 2026.2 -> a rule change, not a new family
    b.person("D3a", "D3", "1990-01-01", hubungan="kepala_keluarga")
    b.person("D3b", "D3", "2024-01-01")
    b.household("L65", 2)  # a 65-year-old alone: lansia only from 60 -> a rule change
    b.person("L65a", "L65", "1961-01-01", hubungan="kepala_keluarga")
    b.household("K1", 1)  # the mother becomes pregnant in October: a real change
    b.person("K1a", "K1", "1990-01-01", hubungan="kepala_keluarga")
    b.person("K1b", "K1", "1994-01-01", sex="P", hubungan="istri")
    b.household("G", 5)  # PKH aktif in September only: candidate in September, off the list in October
    b.person("Ga", "G", "1975-01-01", hubungan="kepala_keluarga")
    registry, _ = b.write(tmp_path / "snap")
    load_snapshot(url, str(registry), date(2026, 8, 1))
    add_batch(url, "2026-09", "dinsos_kpm", [
        {"data": {"no_kk": b.no_kk("G"), "nik_pengurus": b.nik("Ga"), "nama_pengurus": "x", "kode_kelurahan": KEL_A,
                  "program": "PKH", "status_kepesertaan": "aktif"}, "household": ("G", "linked")},
    ])
    add_batch(url, "2026-10", "dinsos_kpm", [
        {"data": {"no_kk": b.no_kk("K1"), "nik_pengurus": b.nik("K1a"), "nama_pengurus": "x",
                  "kode_kelurahan": KEL_A, "program": "BPNT", "status_kepesertaan": "aktif"},
         "household": ("K1", "linked")},
    ])
    add_batch(url, "2026-10", "dinkes_ibu_hamil", [
        {"data": {"nik": b.nik("K1b"), "nama": "x", "tanggal_lahir": "1994-01-01", "kode_kelurahan": KEL_A,
                  "hpl": "2027-03-01"}, "person": ("K1b", "K1", "linked", "nik")},
    ])
    run_period(Settings.from_env(database_url=url, config_dir=old_rules(tmp_path)), "2026-09")
    october = run_period(Settings.from_env(database_url=url), "2026-10")
    assert october["changes_baseline"] is True
    with session_scope(url) as s:
        rows = s.scalars(select(EligibilityChange).where(EligibilityChange.period == "2026-10")).all()
        got = {(c.program, c.id_keluarga, c.id_art): (c.change, c.reason_changed, c.reasons_after) for c in rows}
    assert got[("pkh", "D3", "")] == ("baru_layak", "perubahan_aturan", "desil_3;komponen:anak_usia_dini")
    assert got[("pkh", "L65", "")] == ("baru_layak", "perubahan_aturan", "desil_2;komponen:lansia")
    assert got[("pkh", "K1", "")] == ("baru_layak", "komponen:ibu_hamil", "desil_1;komponen:ibu_hamil")
    # G is still in the snapshot: it left the PKH list, it did not leave the registry
    change, why, after = got[("kandidat_graduasi_pkh", "G", "")]
    assert change == "tidak_layak_lagi" and after == "pkh_tidak_aktif" and why != "perubahan_aturan"
    assert not any(r[2] == "tidak_ada_di_registri" for r in got.values())
