"""Submission rows as the eligibility rules need them: normalised, matched to registry units, turned into events,
recipient lists, RTLH history and PKH status.

Used by both paths of step 4 of the monthly run: the warehouse path (`store.py`) feeds it staged rows whose registry
unit comes from the linkage stage (person_link / household_link); the CLI (`tkpk eligibility --submissions DIR`)
feeds it canonical CSVs and matches them to the registry by NIK and No KK (`match_direct`).
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from tkpk.config.programs import Program, ProgramsConfig, RowSource
from tkpk.config.submissions import SubmissionType, SubmissionTypesConfig, header_key
from tkpk.eligibility.rules import newborn_id
from tkpk.normalize.dates import parse_date
from tkpk.normalize.kelurahan import KelurahanIndex
from tkpk.normalize.nik import normalize_nik_series
from tkpk.normalize.numbers import parse_amount
from tkpk.normalize.text import normalize_sex, normalize_yn

log = logging.getLogger(__name__)

# Submission types that change the registry state, and the event each row becomes (DESIGN.md section 7).
MUTASI = "disdukcapil_mutasi"
IBU_HAMIL = "dinkes_ibu_hamil"
SISWA = "disdik_siswa"
EVENT_SOURCES = (MUTASI, IBU_HAMIL, SISWA)
MUTASI_TYPES = ("LAHIR", "MENINGGAL", "PINDAH_KELUAR", "PINDAH_DATANG")


# --- reading and normalising ---------------------------------------------------------------------------------------


def read_csv_table(path: Path) -> pd.DataFrame:
    """A CSV as text cells: UTF-8 (with or without BOM) or Windows-1252, `,` `;` tab or `|` separated."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    first = next((line for line in text.splitlines() if line.strip()), "")
    sep = max([",", ";", "\t", "|"], key=first.count)
    return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, header=None)


def apply_header(table: pd.DataFrame, stype: SubmissionType, types: SubmissionTypesConfig) -> pd.DataFrame:
    """Find the header row among the first rows (files carry title rows), map aliases to canonical names."""
    aliases = types.aliases_for(stype.code)
    required = set(stype.required_columns)
    best, best_hits = 0, -1
    for i in range(min(len(table), 15)):
        hits = sum(1 for v in table.iloc[i] if aliases.get(header_key(v)) in required)
        if hits > best_hits:
            best, best_hits = i, hits
    header = [aliases.get(header_key(v)) for v in table.iloc[best]] if len(table) else []
    body = table.iloc[best + 1 :]
    keep = [i for i, name in enumerate(header) if name and name not in header[:i]]
    out = body.iloc[:, keep].copy()
    out.columns = [header[i] for i in keep]
    out = out[(out.astype(str).apply(lambda c: c.str.strip()) != "").any(axis=1)].reset_index(drop=True)
    return out


def _map_unique(values: pd.Series, func) -> pd.Series:
    """Apply a scalar normaliser once per distinct value (submissions repeat the same few codes)."""
    raw = values.to_numpy(object)
    if len(raw) == 0:
        return pd.Series([], index=values.index, dtype=object)
    codes, uniques = pd.factorize(pd.Series(raw, dtype=object), use_na_sentinel=True)
    mapped = np.array([func(u) for u in uniques] + [func(None)], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def _enum(values: pd.Series, allowed: tuple[str, ...]) -> pd.Series:
    lookup = {header_key(v): v for v in allowed}
    return _map_unique(values, lambda v: lookup.get(header_key(v)) if isinstance(v, str) and v.strip() else None)


def _amount(value) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    parsed = parse_amount(value)
    return float(parsed) if parsed is not None else np.nan


def normalize_rows(rows: pd.DataFrame, stype: SubmissionType, kelurahan: KelurahanIndex | None = None, *,
                   trusted: bool = False) -> pd.DataFrame:
    """Canonical columns with normalised values (messy OPD values accepted, unreadable ones become None).
    Idempotent. `trusted`: rows staged by ingestion, whose NIK, No KK and kelurahan were validated on load (and whose
    registry unit comes from linkage), so those columns are only stripped."""
    out = pd.DataFrame(index=rows.index)
    for col in stype.columns:
        if col.name in rows:
            raw = pd.Series(rows[col.name].to_numpy(object), index=rows.index, dtype=object)
            raw = raw.where(raw.notna(), None)
        else:
            raw = pd.Series([col.default] * len(rows), index=rows.index, dtype=object)
        if col.default is not None:
            blank = raw.map(lambda v: v is None or (isinstance(v, str) and not v.strip())).astype(bool)
            raw = raw.where(~blank, col.default)
        if trusted and col.kind in ("nik", "kk", "kelurahan"):
            value = _map_unique(raw, lambda v: (str(v).strip() or None) if v is not None else None)
        elif col.kind in ("nik", "kk"):
            value, _ = normalize_nik_series(raw, kind="kk" if col.kind == "kk" else "nik")
            value = pd.Series(value.to_numpy(object), index=rows.index, dtype=object)
            value = value.where(value.notna(), None)
        elif col.kind == "date":
            value = pd.to_datetime(_map_unique(raw, parse_date), errors="coerce")
        elif col.kind == "enum":
            value = _enum(raw, col.values)
        elif col.kind == "yn":
            value = _map_unique(raw, normalize_yn)
        elif col.kind == "sex":
            value = _map_unique(raw, normalize_sex)
        elif col.kind in ("int", "amount"):
            value = _map_unique(raw, _amount).astype(float)
        elif col.kind == "kelurahan":
            index = kelurahan or KelurahanIndex.load()
            value = _map_unique(raw, index.code)
        else:
            value = _map_unique(raw, lambda v: (str(v).strip() or None) if v is not None else None)
        out[col.name] = value
    return out


def read_submission(path: Path, stype: SubmissionType, types: SubmissionTypesConfig,
                    kelurahan: KelurahanIndex | None = None) -> pd.DataFrame:
    """A canonical CSV of one submission type, normalised; `row_id` numbers the rows as Excel shows them."""
    table = read_csv_table(path)
    rows = apply_header(table, stype, types)
    out = normalize_rows(rows, stype, kelurahan)
    out.insert(0, "row_id", np.arange(2, len(out) + 2))
    return out.reset_index(drop=True)


def select_rows(rows: pd.DataFrame, source: RowSource, year: int) -> pd.DataFrame:
    """The rows a source counts: `where` filters (case-insensitive) and the same-year column."""
    mask = np.ones(len(rows), bool)
    for column, allowed in source.where.items():
        if column not in rows:
            return rows.iloc[0:0]
        wanted = {header_key(v) for v in allowed}
        mask &= _map_unique(rows[column], lambda v, w=wanted: isinstance(v, str) and header_key(v) in w).to_numpy(bool)
    if source.same_year_column:
        if source.same_year_column not in rows:
            return rows.iloc[0:0]
        mask &= (pd.to_numeric(rows[source.same_year_column], errors="coerce") == year).to_numpy(bool)
    return rows[mask]


# --- matching to the registry ------------------------------------------------------------------------------------


class DirectMatcher:
    """Match rows to registry units by exact NIK / No KK (the CLI path). Ambiguous keys (two registry persons with one
    NIK, two households with one No KK) match nobody rather than the wrong one."""

    def __init__(self, households: pd.DataFrame, persons: pd.DataFrame):
        pp = persons[persons["nik"].notna()] if "nik" in persons else persons.iloc[0:0]
        niks = pp.drop_duplicates("nik", keep=False)
        self.by_nik = niks.set_index("nik")[["id_art", "id_keluarga"]]
        kk = households[["no_kk", "id_keluarga"]].dropna() if "no_kk" in households else pd.DataFrame()
        if "no_kk" in persons:
            # households without a No KK in the household table: the No KK their members carry
            member_kk = persons[["no_kk", "id_keluarga"]].dropna().drop_duplicates()
            member_kk = member_kk[~member_kk["id_keluarga"].isin(kk.get("id_keluarga", []))]
            kk = pd.concat([kk, member_kk])
        kk = kk.drop_duplicates()
        self.by_kk = kk.drop_duplicates("no_kk", keep=False).set_index("no_kk")["id_keluarga"]

    def person(self, niks: pd.Series) -> pd.DataFrame:
        found = self.by_nik.reindex(niks.where(niks.notna(), "").to_numpy())
        return pd.DataFrame({"id_art": found["id_art"].to_numpy(object),
                             "id_keluarga": found["id_keluarga"].to_numpy(object)}, index=niks.index)

    def household(self, kks: pd.Series) -> pd.Series:
        return pd.Series(self.by_kk.reindex(kks.where(kks.notna(), "").to_numpy()).to_numpy(object), index=kks.index)

    def resolve(self, rows: pd.DataFrame, match: str) -> pd.DataFrame:
        """rows -> (id_art, id_keluarga) per row, NaN/None when not found."""
        if match in ("nik", "nik_pengurus"):
            return self.person(rows[match] if match in rows else pd.Series(None, index=rows.index, dtype=object))
        kel = self.household(rows["no_kk"]) if "no_kk" in rows else pd.Series(None, index=rows.index, dtype=object)
        # a household row without a usable No KK may still name a member (nik_pengurus)
        for col in ("nik_pengurus", "nik"):
            if col in rows:
                via = self.person(rows[col])["id_keluarga"]
                kel = kel.where(kel.notna(), via)
        return pd.DataFrame({"id_art": None, "id_keluarga": kel.astype(object)}, index=rows.index)


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(object).where(frame.notna(), None)


# --- events --------------------------------------------------------------------------------------------------------


def events_from_rows(type_code: str, rows: pd.DataFrame, units: pd.DataFrame, period: str,
                     household_by_kk: pd.Series | None = None, newborn_niks: set | None = None) -> pd.DataFrame:
    """Registry events from one period's rows of an event source. `units` (aligned with rows) gives the linked
    id_art / id_keluarga; a LAHIR not linked to a registry person joins the household of its No KK
    (`household_by_kk`: no_kk -> id_keluarga), under an id derived from its NIK. A later death or move of such a
    newborn (`newborn_niks`: NIKs of newborns reported before) is matched by that NIK."""
    n = len(rows)
    ev = pd.DataFrame({
        "period": [period] * n,
        "row_id": rows["row_id"].to_numpy(object) if "row_id" in rows else np.arange(n),
        "seq": np.arange(n),
        "id_art": units["id_art"].to_numpy(object),
        "id_keluarga": units["id_keluarga"].to_numpy(object),
        "nik": rows["nik"].to_numpy(object) if "nik" in rows else None,
        "no_kk": rows["no_kk"].to_numpy(object) if "no_kk" in rows else None,
        "event_date": pd.NaT,
        "hpl": pd.NaT,
        "jenjang": None,
    })
    if type_code == MUTASI:
        ev["event_type"] = rows["jenis_mutasi"].to_numpy(object)
        ev["event_date"] = pd.to_datetime(rows["tanggal_peristiwa"], errors="coerce").to_numpy()
        lahir = (ev["event_type"] == "LAHIR") & ev["id_art"].isna()
        if lahir.any() and household_by_kk is not None:
            kk = ev.loc[lahir, "no_kk"]
            home = pd.Series(household_by_kk.reindex(kk.where(kk.notna(), "").to_numpy()).to_numpy(object),
                             index=kk.index)
            have = ev.loc[lahir, "id_keluarga"]
            ev.loc[lahir, "id_keluarga"] = have.where(have.notna(), home)
            placed = lahir & ev["id_keluarga"].notna()
            ev.loc[placed, "id_art"] = [newborn_id(nik, kel, seq) for nik, kel, seq in
                                        zip(ev.loc[placed, "nik"], ev.loc[placed, "id_keluarga"],
                                            ev.loc[placed, "row_id"], strict=True)]
        born = set(newborn_niks or ()) | set(ev.loc[(ev["event_type"] == "LAHIR") & ev["id_art"].notna()
                                                    & ev["id_art"].str.startswith("LAHIR-", na=False), "nik"])
        orphan = ev["id_art"].isna() & ev["nik"].isin(list(born - {None}))
        if orphan.any():
            ev.loc[orphan, "id_art"] = ev.loc[orphan, "nik"].map(newborn_id)
        ev = ev[ev["event_type"].isin(MUTASI_TYPES)]
    elif type_code == IBU_HAMIL:
        ev["event_type"] = "HAMIL"
        if "hpl" in rows:
            ev["hpl"] = pd.to_datetime(rows["hpl"], errors="coerce").to_numpy()
    elif type_code == SISWA:
        ev["event_type"] = "SEKOLAH"
        ev["jenjang"] = rows["jenjang"].to_numpy(object)
        ev = ev[ev["jenjang"].notna()]
    else:
        raise ValueError(f"{type_code} is not an event source")
    # only rows linked to the registry (or, for a birth, placed in a registry household) become events
    ev = ev[ev["id_art"].notna()]
    return ev.reset_index(drop=True)


# --- recipients and rule inputs ------------------------------------------------------------------------------------


def row_rupiah(program: Program, rows: pd.DataFrame) -> pd.Series:
    """What a recipient row costs when its unit is unknown: the amount the OPD reports where there is one (PKH
    `nominal`), by jenjang where the program pays by jenjang, else the program's amount."""
    if program.amounts_by_jenjang and "jenjang" in rows:
        return rows["jenjang"].map(program.amounts_by_jenjang).astype(float)
    if program.kind == "pkh" and "nominal" in rows:
        return pd.to_numeric(rows["nominal"], errors="coerce")
    return pd.Series(float(program.amount), index=rows.index)


def recipients_from_rows(program: Program, rows: pd.DataFrame, units: pd.DataFrame, year: int) -> pd.DataFrame:
    """This period's recipients of `program` among `rows` (units aligned with rows)."""
    source = program.recipients
    chosen = select_rows(rows, source, year)
    u = units.loc[chosen.index]
    key_col = source.match if source.match in chosen else None
    out = pd.DataFrame({
        "program": program.code,
        "row_id": chosen["row_id"].to_numpy(object),
        "id_keluarga": u["id_keluarga"].to_numpy(object),
        "id_art": u["id_art"].to_numpy(object) if program.unit == "person" else None,
        "kode_kelurahan": chosen["kode_kelurahan"].to_numpy(object) if "kode_kelurahan" in chosen else None,
        "key": chosen[key_col].to_numpy(object) if key_col else None,
        "row_rupiah": row_rupiah(program, chosen).to_numpy(float),
    })
    if program.unit == "person":
        out.loc[out["id_art"].isna(), "id_keluarga"] = None
    return _clean(out).assign(row_rupiah=out["row_rupiah"].to_numpy(float))


def completed_from_rows(rows: pd.DataFrame, units: pd.DataFrame, source: RowSource, year: int) -> pd.DataFrame:
    chosen = select_rows(rows, source, year)
    return pd.DataFrame({
        "id_keluarga": units.loc[chosen.index, "id_keluarga"].to_numpy(object),
        "tahun_anggaran": pd.to_numeric(chosen.get("tahun_anggaran"), errors="coerce").to_numpy(float),
    }).dropna()


def active_from_rows(rows: pd.DataFrame, units: pd.DataFrame, source: RowSource, year: int) -> pd.Index:
    chosen = select_rows(rows, source, year)
    return pd.Index(units.loc[chosen.index, "id_keluarga"].dropna().unique())


def programs_fed_by(programs: ProgramsConfig, type_code: str) -> list[Program]:
    return [p for p in programs.programs if p.recipients is not None and p.recipients.type == type_code]
