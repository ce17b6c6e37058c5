"""The budget section of every summary (DESIGN.md section 7): pagu, realisation and what is left.

Realisation is a yearly run-rate, "perkiraan setahun": the recipients in this month's OPD data x the yearly benefit
the rules give each of them (the rupiah of the targeting rows that are receiving: tepat sasaran plus kesalahan
inklusi). RTLH is one-off: its realisation is this year's recipients x the one-off amount. The pagu comes from
`include/config/budget.yaml` (`load_config().budget`): a city pagu per program, and for BPJS TK a pagu per kelurahan,
so a kecamatan or kelurahan report can show BPJS TK's pagu for its own kelurahan (other programs have a city pagu
only). Nothing here is personal data.
"""

from __future__ import annotations

import pandas as pd

from tkpk.reports.format import share

BPJS_PROGRAM = "bpjs_tk"


def _receiving(targeting: pd.DataFrame, period: str) -> pd.DataFrame:
    t = targeting[(targeting["period"] == period) & targeting["category"].isin(["tepat", "inclusion"])]
    return t


def budget_figures(data, config, scope) -> dict:
    """Pagu, perkiraan setahun and sisa per program for one scope, and the BPJS TK kelurahan table."""
    p = str(data.period)
    budget = getattr(config, "budget", None)
    programs = [prog for prog in config.programs.programs if prog.recipients is not None]
    tgt = scope.select(data.targeting)
    receiving = _receiving(tgt, p)
    has_data = set(tgt.loc[tgt["period"] == p, "program"])
    areas = scope.select(data.areas)
    rows = []
    for prog in programs:
        mine = receiving[receiving["program"] == prog.code]
        entry = budget.for_program(prog.code) if budget is not None else None
        pagu = None
        if entry is not None:
            if scope.kind == "kota":
                pagu = entry.tahunan
            elif entry.per_kelurahan is not None or entry.kelurahan:
                # a pagu per kelurahan (BPJS TK): the scope's share is the sum over its kelurahan
                pagu = sum(entry.for_kelurahan(k) or 0 for k in areas["kode_kelurahan"])
        realisation = int(mine["rupiah"].sum()) if len(mine) else 0
        rows.append({
            "code": prog.code, "name": prog.name, "unit": "keluarga" if prog.unit == "household" else "orang",
            "one_off": prog.kind == "rtlh", "has_data": prog.code in has_data,
            "recipients": int(mine["units"].sum()) if len(mine) else 0,
            "pagu": pagu, "realisation": realisation,
            "left": None if pagu is None else pagu - realisation,
            "used_share": share(realisation, pagu),
            "source": entry.sumber if entry is not None else None,
        })
    return {
        "year": budget.tahun_anggaran if budget is not None else None,
        "programs": rows,
        "kelurahan": bpjs_kelurahan_rows(data, config, scope),
    }


def bpjs_kelurahan_rows(data, config, scope) -> list[dict]:
    """Per kelurahan of the scope: BPJS TK pagu, quota used (enrolled in Disnaker's data this month), the waiting list,
    the run-rate of the enrolled and the rupiah left; a total row last."""
    budget = getattr(config, "budget", None)
    prog = next((x for x in config.programs.programs if x.code == BPJS_PROGRAM), None)
    if prog is None:
        return []
    entry = budget.for_program(BPJS_PROGRAM) if budget is not None else None
    p = str(data.period)
    areas = scope.select(data.areas).drop_duplicates("kode_kelurahan").sort_values("kode_kelurahan")
    rec = _receiving(data.targeting, p)
    rec = rec[rec["program"] == BPJS_PROGRAM]
    enrolled = rec.groupby("kode_kelurahan")["units"].sum()
    rupiah = rec.groupby("kode_kelurahan")["rupiah"].sum()
    elig = data.eligibility[(data.eligibility["period"] == p) & (data.eligibility["program"] == BPJS_PROGRAM)]
    waiting = elig.groupby("kode_kelurahan")["waiting_units"].sum()
    recommended = elig.groupby("kode_kelurahan")["eligible_units"].sum()
    quota = prog.quota.size if prog.quota is not None and prog.quota.per == "kelurahan" else None
    rows = []
    for code, name in zip(areas["kode_kelurahan"], areas["kelurahan"], strict=True):
        pagu = entry.for_kelurahan(code) if entry is not None else None
        used = int(enrolled.get(code, 0))
        spent = int(rupiah.get(code, 0))
        rows.append({
            "code": code, "name": name, "quota": quota, "enrolled": used,
            "recommended": int(recommended.get(code, 0)), "waiting": int(waiting.get(code, 0)),
            "pagu": pagu, "realisation": spent, "left": None if pagu is None else pagu - spent,
            "over": pagu is not None and spent > pagu, "total": False,
        })
    if scope.kind == "kota":
        lost = rec[~rec["kode_kelurahan"].isin(areas["kode_kelurahan"])]
        if len(lost):
            rows.append({"code": None, "name": "Tanpa kelurahan", "quota": None, "enrolled": int(lost["units"].sum()),
                         "recommended": 0, "waiting": 0, "pagu": 0, "realisation": int(lost["rupiah"].sum()),
                         "left": -int(lost["rupiah"].sum()), "over": True, "total": False})
    if rows:
        total_pagu = None if any(r["pagu"] is None for r in rows) else sum(r["pagu"] for r in rows)
        spent = sum(r["realisation"] for r in rows)
        rows.append({
            "code": None, "name": "Jumlah", "quota": None if quota is None else quota * len(areas),
            "enrolled": sum(r["enrolled"] for r in rows), "recommended": sum(r["recommended"] for r in rows),
            "waiting": sum(r["waiting"] for r in rows), "pagu": total_pagu, "realisation": spent,
            "left": None if total_pagu is None else total_pagu - spent, "over": False, "total": True,
        })
    return rows
