"""Every headline figure of the city, kecamatan and kelurahan summaries recomputed independently of the report code
(plain Python over the warehouse's decision, recipient and registry tables, no report SQL), for both months of the
fixture; every table's total row equals its headline; kecamatan rows sum to the city and kelurahan rows to their
kecamatan, the `tanpa kelurahan` row included (a recipient not found whose OPD row names no kelurahan)."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from sqlalchemy import select, text

from .fixtures import PERIODS, fill_warehouse

ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = ROOT / "include" / "sql"
ONE_OFF = {"rtlh"}


def _add_recipient_without_kelurahan(url: str, period: str) -> None:
    """A BPNT recipient Dinas Sosial reported with neither a registry match nor a kelurahan."""
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import StagedRow, SubmissionBatch, TargetingResult

    with session_scope(url) as s:
        batch = s.scalars(select(SubmissionBatch).where(SubmissionBatch.period == period,
                                                        SubmissionBatch.opd_code == "dinsos")).first()
        row = StagedRow(batch_id=batch.batch_id, period=period, opd_code="dinsos", submission_type="dinsos_kpm",
                        source_file="dinsos.xlsx", sheet="KPM", row_number=99, nik="1571094101900077",
                        no_kk="1571090101200077", nama="Tanpa Kelurahan", kode_kelurahan=None, data={})
        s.add(row)
        s.flush()
        s.add(TargetingResult(period=period, program="bpnt", id_keluarga=None, id_art=None, row_id=row.row_id,
                              kode_kelurahan=None, kode_kecamatan=None, eligible=False, receiving=True,
                              category="inclusion", rupiah=2_400_000, reason="tidak_ditemukan"))


def _truth(url: str, period: str) -> dict:
    """Headline figures per scope key ('kota', 'kecamatan:..', 'kelurahan:..') from the tables themselves."""
    from tkpk.warehouse import get_engine, session_scope
    from tkpk.warehouse.models import (
        EligibilityDecision,
        RegistryHousehold,
        RegistryPerson,
        StagedRow,
        TargetingResult,
    )

    with session_scope(url) as s:
        decisions = [(d.program, d.id_keluarga, d.kode_kelurahan, d.eligible) for d in
                     s.scalars(select(EligibilityDecision).where(EligibilityDecision.period == period))]
        targets = [(t.program, t.id_keluarga, t.kode_kelurahan, t.category, t.rupiah or 0, t.row_id) for t in
                   s.scalars(select(TargetingResult).where(TargetingResult.period == period))]
        row_kel = dict(s.execute(select(StagedRow.row_id, StagedRow.kode_kelurahan)).all())
        households = dict(s.execute(select(RegistryHousehold.id_keluarga, RegistryHousehold.kode_kelurahan)).all())
        persons = Counter(p for (p,) in s.execute(select(RegistryPerson.id_keluarga)))
    with get_engine(url).connect() as conn:
        areas = dict(conn.execute(text("SELECT kode_kelurahan, kode_kecamatan FROM kelurahan")).all())

    def keys(kel):
        out = ["kota"]
        if kel in areas:
            out += [f"kecamatan:{areas[kel]}", f"kelurahan:{kel}"]
        return out

    t: dict = defaultdict(lambda: defaultdict(int))
    sets: dict = defaultdict(lambda: defaultdict(set))
    for kel_id, kel in households.items():
        for k in keys(kel):
            t[k]["households"] += 1
            t[k]["persons"] += persons[kel_id]
    for program, id_kel, kel, eligible in decisions:
        if not eligible:
            continue
        for k in keys(kel):
            if program == "miskin_ekstrem":
                t[k]["extreme_poor"] += 1
                t[k]["extreme_persons"] += persons[id_kel]
            if program == "kandidat_graduasi_pkh":
                t[k]["graduation"] += 1
    for program, id_kel, kel, category, rupiah, row_id in targets:
        kel = kel or row_kel.get(row_id)
        for k in keys(kel):
            if program in ONE_OFF:
                if category == "exclusion":
                    t[k]["rtlh_backlog"] += 1
                continue
            if id_kel is None:
                t[k]["not_found"] += 1
            else:
                sets[k][category].add(id_kel)
            t[k][f"{category}_rupiah"] += rupiah
    for k, by_cat in sets.items():
        for category, ids in by_cat.items():
            t[k][f"{category}_households"] = len(ids)
    return t


def _headline(f: dict) -> dict:
    t = f["targeting_total"]
    return {
        "households": f["registry"]["households"], "persons": f["registry"]["persons"],
        "extreme_poor": f["extreme_poor"]["households"], "extreme_persons": f["extreme_section"]["persons"],
        "graduation": f["graduation"]["households"],
        "exclusion_households": t["exclusion_households"], "inclusion_households": t["inclusion_households"],
        "not_found": t["inclusion_not_found"], "exclusion_rupiah": t["exclusion_rupiah_yearly"],
        "inclusion_rupiah": t["inclusion_rupiah_yearly"], "rtlh_backlog": f["rtlh_backlog"]["households"],
    }


def test_headlines_recomputed_totals_and_sums_reconcile(sqlite_warehouse, config):
    from tkpk.reports.figures import Scope, load_period_data, summary_figures
    from tkpk.warehouse import get_engine

    url = sqlite_warehouse
    fill_warehouse(url)
    for period in PERIODS:
        _add_recipient_without_kelurahan(url, period)
    for period in PERIODS:
        truth = _truth(url, period)
        with get_engine(url).connect() as conn:
            data = load_period_data(conn, SQL_DIR, period)
        city = summary_figures(data, config, Scope("kota"))
        kecamatan = sorted(set(data.areas["kode_kecamatan"]))
        kec_figs = {k: summary_figures(data, config, Scope("kecamatan", k)) for k in kecamatan}
        kel_figs = {k: summary_figures(data, config, Scope("kelurahan", k)) for k in data.areas["kode_kelurahan"]}
        scopes = {"kota": city, **{f"kecamatan:{k}": f for k, f in kec_figs.items()},
                  **{f"kelurahan:{k}": f for k, f in kel_figs.items()}}
        for key, f in scopes.items():
            head = _headline(f)
            want = {name: truth[key].get(name, 0) for name in head}
            assert head == want, (period, key)
        # the city's inclusion headline has the recipient without a kelurahan; no kecamatan has it
        assert city["targeting_total"]["inclusion_not_found"] == sum(
            f["targeting_total"]["inclusion_not_found"] for f in kec_figs.values()) + 1

        # total rows equal headlines, tanpa kelurahan row included
        for f in [city, *kec_figs.values()]:
            head = _headline(f)
            total = f["areas_total"]
            assert total["exclusion_households"] == head["exclusion_households"]
            assert total["inclusion_households"] == head["inclusion_households"]
            assert total["not_found"] == head["not_found"]
            assert total["extreme_poor"] == head["extreme_poor"]
            assert total["extreme_persons"] == head["extreme_persons"]
            assert total["households"] == head["households"]
        assert [a["name"] for a in city["areas"]][-1] == "Tanpa kelurahan"
        assert city["areas"][-1]["not_found"] == 1
        assert all(a["name"] != "Tanpa kelurahan" for f in kec_figs.values() for a in f["areas"])
        # the XLSX kelurahan sheet of the city ends with the same totals
        assert city["kelurahan_total"]["not_found"] == city["targeting_total"]["inclusion_not_found"]

        # kecamatan rows sum to the city, kelurahan rows to their kecamatan
        for name in ("extreme_poor", "exclusion_households", "inclusion_households", "not_found", "graduation"):
            kec_sum = sum(_headline(f)[name] for f in kec_figs.values())
            tanpa = sum(a[name] for a in city["areas"] if a["code"] is None)
            assert kec_sum + tanpa == _headline(city)[name], (period, name)
            for k, f in kec_figs.items():
                kel_sum = sum(_headline(kel_figs[c])[name] for c in data.areas.loc[
                    data.areas["kode_kecamatan"] == k, "kode_kelurahan"])
                assert kel_sum == _headline(f)[name], (period, k, name)
        # keluarga never exceed the families there are
        for a in city["areas"] + city["kelurahan_rows"]:
            if a["code"] is not None:
                assert a["exclusion_households"] <= a["households"] and a["inclusion_households"] <= a["households"]
        # the per-program table: eligible = tepat sasaran + kesalahan eksklusi in every row
        for p in city["programs"]:
            assert p["eligible_targeted"] == p["tepat"] + p["exclusion"]
        # coverage against the eligible never above 100%
        for c in city["coverage"]:
            assert c["households"] <= c["eligible_households"] <= city["extreme_poor"]["households"]
