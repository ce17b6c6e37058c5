"""A deliberately plain, row-by-row implementation of DESIGN.md section 7, written from the text and sharing no code
with the engine (only the YAML config). Tests compare the vectorised engine with it on random registries."""

from __future__ import annotations

from collections import defaultdict
from datetime import date


def age(born, on: date):
    if born is None:
        return None
    if born > on:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def in_range(value, lo, hi) -> bool:
    if value is None:
        return False
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def reference_decisions(households: list[dict], persons: list[dict], events: list[dict], period: str, E: date,
                        programs, completed: dict[str, list[tuple[str, int]]] | None = None,
                        pkh_active: set[str] | None = None) -> dict:
    """Returns {(program, id_keluarga, id_art): (eligible, benefit, rank)} for every unit and program.

    events: dicts with period, seq, event_type, id_art, id_keluarga, nik, event_date (date|None), hpl, jenjang.
    persons: dicts with id_art, id_keluarga, tanggal_lahir (date|None), pekerjaan_sektor, jenjang_sekolah,
    disabilitas_berat (bool), hamil (bool).
    """
    completed = completed or {}
    pkh_active = pkh_active or set()
    hh = {h["id_keluarga"]: dict(h) for h in households}
    people = {p["id_art"]: dict(p) for p in persons}

    def end_of(p: str) -> date:
        y, m = int(p[:4]), int(p[5:])
        nxt = date(y + (m == 12), m % 12 + 1, 1)
        return date.fromordinal(nxt.toordinal() - 1)

    usable = [e for e in events if e["period"] <= period]
    # newborns
    for e in sorted(usable, key=lambda e: (e["event_date"] or end_of(e["period"]), e["period"], e["seq"])):
        when = e["event_date"] or end_of(e["period"])
        if e["event_type"] == "LAHIR" and when <= E and e["id_art"] not in people and e["id_keluarga"] in hh:
            people[e["id_art"]] = {"id_art": e["id_art"], "id_keluarga": e["id_keluarga"], "tanggal_lahir": when,
                                   "pekerjaan_sektor": None, "jenjang_sekolah": None, "disabilitas_berat": False,
                                   "hamil": False}
    # status: latest event dated on or before E wins, death wins on the same day
    latest: dict[str, tuple] = {}
    for e in usable:
        if e["event_type"] not in ("LAHIR", "MENINGGAL", "PINDAH_KELUAR", "PINDAH_DATANG"):
            continue
        when = e["event_date"] or end_of(e["period"])
        if when > E or e["id_art"] is None:
            continue
        key = (when, e["event_type"] == "MENINGGAL", e["period"], e["seq"])
        if e["id_art"] not in latest or key > latest[e["id_art"]][0]:
            latest[e["id_art"]] = (key, e["event_type"])
    for pid, p in people.items():
        p["active"] = latest.get(pid, (None, "x"))[1] not in ("MENINGGAL", "PINDAH_KELUAR")
        p["age"] = age(p["tanggal_lahir"], E)
        pregnant = bool(p["hamil"])
        for e in usable:
            if e["event_type"] == "HAMIL" and e["id_art"] == pid:
                if e["period"] == period or (e["hpl"] is not None and e["hpl"] > E):
                    pregnant = True
        p["pregnant"] = pregnant
        school = [e for e in usable if e["event_type"] == "SEKOLAH" and e["id_art"] == pid and e["jenjang"]]
        p["jenjang"] = max(school, key=lambda e: (e["period"], e["seq"]))["jenjang"] if school else p["jenjang_sekolah"]

    members = defaultdict(list)
    for p in people.values():
        members[p["id_keluarga"]].append(p)
    for k, h in hh.items():
        h["n_active"] = sum(1 for p in members[k] if p["active"])

    out = {}
    for prog in programs.programs:
        if prog.kind == "graduation":
            continue
        lo, hi = prog.desil.min, prog.desil.max
        if prog.kind == "pkh":
            for k, h in hh.items():
                comps = []
                for p in members[k]:
                    if not p["active"]:
                        continue
                    best = None
                    for c in prog.components:
                        if c.condition == "pregnant":
                            ok = p["pregnant"]
                        elif c.condition == "disabled":
                            ok = bool(p["disabilitas_berat"])
                        elif c.condition == "age":
                            ok = in_range(p["age"], c.age.min, c.age.max)
                        else:
                            ok = p["jenjang"] in c.jenjang and (c.age is None or in_range(p["age"], c.age.min, c.age.max))
                        if ok and (best is None or c.amount > best):
                            best = c.amount
                    if best is not None:
                        comps.append((-best, p["id_art"]))
                comps.sort()
                benefit = -sum(a for a, _ in comps[: prog.max_components])
                eligible = h["n_active"] > 0 and in_range(h["desil"], lo, hi) and bool(comps)
                out[(prog.code, k, "")] = (eligible, benefit if eligible else 0, None)
        elif prog.unit == "household":
            for k, h in hh.items():
                eligible = h["n_active"] > 0 and in_range(h["desil"], lo, hi)
                if prog.requires_rumah_tidak_layak:
                    eligible = eligible and bool(h["rumah_tidak_layak"])
                if prog.requires_milik_sendiri:
                    eligible = eligible and h["status_kepemilikan_rumah"] == "milik_sendiri"
                if prog.rtlh_recent_years is not None:
                    for kel, year in completed.get(prog.code, []):
                        if kel == k and year >= E.year - prog.rtlh_recent_years:
                            eligible = False
                out[(prog.code, k, "")] = (eligible, prog.amount if eligible else 0, None)
        else:
            candidates = []
            for p in people.values():
                h = hh[p["id_keluarga"]]
                ok = p["active"] and in_range(h["desil"], lo, hi)
                if prog.age is not None:
                    ok = ok and in_range(p["age"], prog.age.min, prog.age.max)
                if prog.pekerjaan_sektor:
                    ok = ok and p["pekerjaan_sektor"] in prog.pekerjaan_sektor
                if prog.jenjang:
                    ok = ok and p["jenjang"] in prog.jenjang
                amount = prog.amounts_by_jenjang.get(p["jenjang"], 0) if prog.amounts_by_jenjang else prog.amount
                out[(prog.code, p["id_keluarga"], p["id_art"])] = (ok, amount if ok else 0, None)
                if ok and prog.quota is not None:
                    candidates.append(p)
            if prog.quota is not None:
                by_unit = defaultdict(list)
                for p in candidates:
                    h = hh[p["id_keluarga"]]
                    unit = h["kode_kelurahan"] if prog.quota.per == "kelurahan" else h["kode_kelurahan"][:8]
                    by_unit[unit].append(p)
                for group in by_unit.values():
                    group.sort(key=lambda p: (hh[p["id_keluarga"]]["desil"], -hh[p["id_keluarga"]]["n_active"],
                                              -p["age"], p["id_art"]))
                    for i, p in enumerate(group, start=1):
                        key = (prog.code, p["id_keluarga"], p["id_art"])
                        within = i <= prog.quota.size
                        out[key] = (within, out[key][1] if within else 0, i)
    for prog in programs.programs:
        if prog.kind == "graduation":
            for k, h in hh.items():
                if k in pkh_active:
                    still = out[(prog.graduates_from, k, "")][0]
                    out[(prog.code, k, "")] = (h["n_active"] > 0 and not still, 0, None)
    return out
