"""The budget section with hand-computed cases: pagu from budget.yaml, realisation as a yearly run-rate (recipients in
this month's OPD data x the rule's yearly benefit, "perkiraan setahun"), what is left, and the BPJS TK kelurahan
table (quota used, waiting list, rupiah left), including a kelurahan with its own pagu."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pandas as pd

from tkpk.config.budget import BudgetConfig, ProgramBudget
from tkpk.period import Period
from tkpk.reports.budget import budget_figures
from tkpk.reports.figures import PeriodData, Scope

P = "2026-11"
A, B, C = "15.71.01.1001", "15.71.01.1002", "15.71.03.1003"


def _data() -> PeriodData:
    areas = pd.DataFrame({"kode_kelurahan": [A, B, C], "kelurahan": ["Simpang IV Sipin", "Buluran Kenali",
                                                                     "Talang Banjar"],
                          "kode_kecamatan": ["15.71.01", "15.71.01", "15.71.03"],
                          "kecamatan": ["Telanaipura", "Telanaipura", "Jambi Timur"]})
    t = [  # period, kelurahan, program, category, units, rupiah
        (P, A, "bpjs_tk", "tepat", 3, 3 * 201_600), (P, A, "bpjs_tk", "inclusion", 1, 201_600),
        (P, A, "bpjs_tk", "exclusion", 5, 5 * 201_600),  # eligible, not enrolled: no realisation
        (P, C, "bpjs_tk", "tepat", 60, 60 * 201_600),  # over its pagu: 60 x 201.600 = 12.096.000 > 10.080.000
        (P, A, "pkh", "tepat", 2, 3_000_000 + 2_400_000), (P, C, "pkh", "inclusion", 1, 0),
        (P, A, "rtlh", "tepat", 1, 20_000_000), (P, A, "rtlh", "exclusion", 4, 80_000_000),
        ("2026-10", A, "pkh", "tepat", 9, 9_000_000),  # last month: not this month's run-rate
    ]
    targeting = pd.DataFrame(t, columns=["period", "kode_kelurahan", "program", "category", "units", "rupiah"])
    eligibility = pd.DataFrame([(P, A, "bpjs_tk", 50, 50 * 201_600, 2), (P, C, "bpjs_tk", 50, 50 * 201_600, 0)],
                               columns=["period", "kode_kelurahan", "program", "eligible_units", "benefit_rupiah",
                                        "waiting_units"])
    kec = dict(zip(areas["kode_kelurahan"], areas["kode_kecamatan"], strict=True))
    for frame in (targeting, eligibility):
        frame["kode_kecamatan"] = frame["kode_kelurahan"].map(kec)
    empty = pd.DataFrame()
    return PeriodData(period=Period.parse(P), snapshot_id=1, snapshot_date=date(2026, 9, 25), areas=areas,
                      registry=empty, eligibility=eligibility, targeting=targeting, coverage=empty, changes=empty,
                      proposals=empty, review=empty, submissions=empty, expected=empty)


def test_city_budget_pagu_run_rate_and_left(config):
    b = budget_figures(_data(), config, Scope("kota"))
    rows = {r["code"]: r for r in b["programs"]}
    assert b["year"] == 2026
    # PKH: 2 households receiving Rp5.400.000 a year between them, plus one inclusion error worth Rp0
    assert rows["pkh"]["recipients"] == 3 and rows["pkh"]["realisation"] == 5_400_000
    assert rows["pkh"]["pagu"] == 12_000_000_000 and rows["pkh"]["left"] == 11_994_600_000
    # BPJS TK: 4 enrolled in A + 60 in C = 64 x Rp201.600 = Rp12.902.400
    assert rows["bpjs_tk"]["realisation"] == 12_902_400 and rows["bpjs_tk"]["left"] == 685_440_000 - 12_902_400
    # RTLH is one-off: this year's recipient x Rp20.000.000; the backlog (exclusion) is not realisation
    assert rows["rtlh"]["realisation"] == 20_000_000 and rows["rtlh"]["left"] == 1_980_000_000
    assert rows["bpnt"]["has_data"] is False and rows["bpnt"]["realisation"] == 0


def test_bpjs_tk_kelurahan_table_and_a_kelurahan_with_its_own_pagu(config):
    own = BudgetConfig(tahun_anggaran=2026, pagu={
        "bpjs_tk": ProgramBudget(tahunan=685_440_000, per_kelurahan=10_080_000, kelurahan={B: 5_040_000})})
    cfg = SimpleNamespace(programs=config.programs, budget=own)
    b = budget_figures(_data(), cfg, Scope("kecamatan", "15.71.01"))
    rows = {r["name"]: r for r in b["kelurahan"]}
    a = rows["Simpang IV Sipin"]
    assert (a["enrolled"], a["quota"], a["waiting"], a["recommended"]) == (4, 50, 2, 50)
    assert a["pagu"] == 10_080_000 and a["realisation"] == 806_400 and a["left"] == 9_273_600
    assert rows["Buluran Kenali"]["pagu"] == 5_040_000 and rows["Buluran Kenali"]["left"] == 5_040_000
    total = rows["Jumlah"]
    assert (total["enrolled"], total["quota"], total["pagu"], total["left"]) == (4, 100, 15_120_000, 14_313_600)
    # a kecamatan has a BPJS TK pagu (the sum over its kelurahan), no city pagu for the other programs
    programs = {r["code"]: r for r in b["programs"]}
    assert programs["bpjs_tk"]["pagu"] == 15_120_000 and programs["bpjs_tk"]["left"] == 14_313_600
    assert programs["pkh"]["pagu"] is None and programs["pkh"]["left"] is None
    # a kelurahan over its pagu is flagged
    city = budget_figures(_data(), config, Scope("kota"))
    talang = next(r for r in city["kelurahan"] if r["code"] == C)
    assert talang["over"] and talang["left"] == 10_080_000 - 12_096_000
