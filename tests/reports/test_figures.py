"""The report figures (SQL files in include/sql/) against figures computed independently in fixtures.py, on SQLite
and PostgreSQL (and MariaDB when it is there); Indonesian number formats."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from .fixtures import PERIODS, change_targeting, fill_warehouse

ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = ROOT / "include" / "sql"
P = PERIODS[-1]
PREV = PERIODS[0]


def _data(url: str, period: str = P):
    from tkpk.reports.figures import load_period_data
    from tkpk.warehouse import get_engine

    with get_engine(url).connect() as conn:
        return load_period_data(conn, SQL_DIR, period)


def _check_city(url: str, truth, config) -> None:
    from tkpk.reports.figures import Scope, summary_figures

    data = _data(url)
    f = summary_figures(data, config, Scope("kota"))
    assert f["period_label"] == "Oktober 2026" and f["previous_label"] == "September 2026"
    assert f["registry"] == {"households": truth.households, "persons": truth.persons, "snapshot_date": "2026-06-30"}
    assert f["extreme_poor"]["households"] == truth.extreme_poor[P]
    assert f["extreme_poor"]["previous"] == truth.extreme_poor[PREV]
    assert f["extreme_poor"]["delta"] == truth.extreme_poor[P] - truth.extreme_poor[PREV]
    for program in f["programs"]:
        for category in ("tepat", "exclusion", "inclusion"):
            count, rupiah = truth.targeting[P].get((program["code"], category), (0, 0))
            assert program[category] == count, (program["code"], category)
            assert program[f"{category}_rupiah"] == rupiah, (program["code"], category)
    total_exclusion = sum(v[0] for k, v in truth.targeting[P].items() if k[1] == "exclusion")
    assert f["targeting_total"]["exclusion"] == total_exclusion
    assert f["targeting_total"]["not_found"] == 1
    got_changes = Counter({(c["code"], kind): c[kind] for c in f["changes"] for kind in ("baru_layak", "tidak_layak_lagi")
                           if c[kind]})
    assert got_changes == truth.changes[P]
    assert f["graduation"]["households"] == truth.graduation[P]
    assert f["review_open"] == truth.review_open
    assert f["proposals"]["households"] == truth.proposal_households
    assert f["proposals"]["persons"] == truth.proposal_persons
    assert f["proposals"]["duplicate"] == 1
    by_kec = {a["code"]: a["extreme_poor"] for a in f["areas"]}
    assert len(by_kec) == 11  # every kecamatan of Kota Jambi, with or without data
    assert {k: v for k, v in by_kec.items() if v} == dict(truth.extreme_poor_by_kec[P])
    assert [t["period"] for t in f["trend"]] == list(PERIODS)
    assert f["trend"][-1]["extreme_poor"] == truth.extreme_poor[P]
    # coverage of the extreme poor never exceeds the extreme poor
    assert all(0 <= c["households"] <= truth.extreme_poor[P] for c in f["coverage"])
    assert f["coverage_any"]["households"] <= truth.extreme_poor[P]

    card = {r["opd"]: r for r in f["scorecard"]}
    assert card["koperasi"]["status"] == "belum_mengirim"
    assert card["dinkes"]["status"] == "ditolak_pakai_sebelumnya"
    assert "nik" in card["dinkes"]["rejection_reason"]
    assert card["disdik"]["status"] == "diterima" and card["disdik"]["on_time"] is False
    assert card["dinsos"]["on_time"] is True
    assert card["disnaker"]["rows_total"] == 48 and card["disnaker"]["rows_accepted"] == 45
    assert card["disnaker"]["errors"] == 3 and card["disnaker"]["warnings"] == 2
    assert card["kelurahan"]["kelurahan_sent"] == 2
    assert f["scorecard_summary"]["missing"] == ["Koperasi"]
    assert f["scorecard_summary"]["late"] == ["Disdik"]


def _check_scopes(url: str, truth, config) -> None:
    from tkpk.reports.figures import Scope, summary_figures

    data = _data(url)
    kec = summary_figures(data, config, Scope("kecamatan", "15.71.01"))
    assert kec["scope"]["name"] == "Kecamatan Telanaipura"
    assert kec["extreme_poor"]["households"] == truth.extreme_poor_by_kec[P]["15.71.01"]
    assert {a["name"] for a in kec["areas"]} >= {"Simpang IV Sipin", "Buluran Kenali"}
    assert "scorecard" not in kec  # scoped reports carry only scoped data
    kel = summary_figures(data, config, Scope("kelurahan", "15.71.01.1001"))
    assert kel["scope"]["name"] == "Kelurahan Simpang IV Sipin"
    assert kel["areas"] == []
    assert kel["proposals"]["households"] == 2
    # scopes add up: the city is the sum of its kecamatan; the recipient not found in the registry counts in the
    # kelurahan of its submitted row (Alam Barajo)
    city = summary_figures(data, config, Scope("kota"))
    kec_codes = sorted(set(data.areas["kode_kecamatan"]))
    parts = [summary_figures(data, config, Scope("kecamatan", k)) for k in kec_codes]
    assert sum(p["extreme_poor"]["households"] for p in parts) == city["extreme_poor"]["households"]
    assert sum(p["targeting_total"]["exclusion"] for p in parts) == city["targeting_total"]["exclusion"]
    assert sum(p["targeting_total"]["inclusion"] for p in parts) == city["targeting_total"]["inclusion"]
    alam_barajo = parts[kec_codes.index("15.71.09")]
    assert alam_barajo["targeting_total"]["not_found"] == 1


def test_figures_match_truth(warehouse, config):
    truth = fill_warehouse(warehouse)
    _check_city(warehouse, truth, config)
    _check_scopes(warehouse, truth, config)


@pytest.mark.mariadb
def test_figures_on_mariadb(mysql_url, config):
    from tkpk.warehouse import upgrade

    upgrade(mysql_url)
    truth = fill_warehouse(mysql_url)
    _check_city(mysql_url, truth, config)


def test_figures_change_when_data_changes(sqlite_warehouse, config):
    from tkpk.reports.figures import Scope, content_hash, summary_figures

    fill_warehouse(sqlite_warehouse)
    before = {s: summary_figures(_data(sqlite_warehouse), config, Scope.parse(s))
              for s in ("kota", "kecamatan:15.71.01", "kecamatan:15.71.08")}
    again = {s: summary_figures(_data(sqlite_warehouse), config, Scope.parse(s)) for s in before}
    assert {s: content_hash(f) for s, f in before.items()} == {s: content_hash(f) for s, f in again.items()}
    change_targeting(sqlite_warehouse, P, "15.71.08.1001")
    after = {s: summary_figures(_data(sqlite_warehouse), config, Scope.parse(s)) for s in before}
    assert content_hash(after["kota"]) != content_hash(before["kota"])
    assert content_hash(after["kecamatan:15.71.08"]) != content_hash(before["kecamatan:15.71.08"])
    assert content_hash(after["kecamatan:15.71.01"]) == content_hash(before["kecamatan:15.71.01"])
    assert after["kota"]["targeting_total"]["exclusion"] == before["kota"]["targeting_total"]["exclusion"] - 1


def test_opd_feedback_figures_mask_values(sqlite_warehouse, config):
    from tkpk.reports.figures import opd_figures
    from tkpk.reports.sql import query
    from tkpk.warehouse import get_engine

    truth = fill_warehouse(sqlite_warehouse)
    data = _data(sqlite_warehouse)
    with get_engine(sqlite_warehouse).connect() as conn:
        findings = query(conn, SQL_DIR, "opd_findings", period=P, opd_code="disnaker")
        rejected = query(conn, SQL_DIR, "opd_findings", period=P, opd_code="dinkes")
    disnaker = config.opds.get("disnaker")
    f = opd_figures(data, config, disnaker, findings)
    assert [r["row"] for r in f["findings"]] == [None, 7, 9, 12, 15]  # file-level first
    assert f["totals"] == {"critical": 0, "errors": 3, "warnings": 2}
    assert f["all_accepted"] is True
    full = truth.niks[0:0] + [r["value"] for r in f["findings"]]
    assert not any(re.search(r"(?<!\d)\d{16}(?!\d)", v or "") for v in full)
    assert f["findings"][2]["value"].count("*") == 6  # the full NIK is masked, 157101******0001 style
    dinkes = opd_figures(data, config, config.opds.get("dinkes"), rejected)
    assert dinkes["submissions"][0]["status"] == "ditolak_pakai_sebelumnya"
    assert dinkes["totals"]["critical"] == 1 and dinkes["all_accepted"] is False
    assert opd_figures(data, config, config.opds.get("koperasi"), findings.iloc[0:0]) is None


def test_indonesian_formats():
    from tkpk.period import Period
    from tkpk.reports.format import angka, persen, rupiah, rupiah_singkat, selisih, tanggal

    assert angka(6562) == "6.562"
    assert angka(1234567) == "1.234.567"
    # PUEBI: no space after Rp; full figures in tables, short ones in headlines (issue #12 changed both on purpose)
    assert rupiah(2_400_000) == "Rp2.400.000" and rupiah(1_607_700_800) == "Rp1.607.700.800"
    assert persen(0.0108) == "1,08%"
    assert persen(None) == "–"
    assert selisih(12) == "+12" and selisih(-3) == "\u22123" and selisih(0) == "0"
    assert rupiah_singkat(2_400_000) == "Rp2,4 juta" and rupiah_singkat(1_607_700_800) == "Rp1,61 miliar"
    assert tanggal("2026-11-05") == "5 November 2026"
    assert Period.parse("2026-10").label() == "Oktober 2026"


def test_sql_files_bind_parameters_only():
    """No Python string formatting in the SQL files: parameters are `:name` binds."""
    for path in SQL_DIR.glob("*.sql"):
        text = path.read_text()
        assert "{" not in text and "%s" not in text and "%(" not in text, path.name
