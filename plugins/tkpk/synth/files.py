"""Turn clean canonical rows into the files OPDs really send: the mess, the layout, the writers, and the truth.

Last step of `tkpk synth` for each month. A `FileSpec` is drawn per file (format, headers with aliases from
`submission_types.yaml`, title rows, a "JUMLAH" total row, blank rows, a "No" column, date/kelurahan/sex styles, NIKs
typed as numbers). Row-level mess is drawn at rates scaled by `--mess-rate` and recorded per row (`mess` column of
the truth): name variants and typos, NIK typos, NIKs destroyed by scientific notation in CSV, day/month swaps,
dates in another format, kelurahan by name or unknown, values outside the allowed set, repeated rows. Rows whose mess
is a row error by DESIGN.md section 5 are flagged `expected_error = Y`. Truth rows carry the Excel row number as a
person sees it (header row included).

Writers: xlsxwriter (XLSX, fixed document timestamps so the bytes are reproducible), xlwt (XLS, small files only:
65,536 rows), csv (`,` UTF-8 or `;` Windows-1252 as Excel saves it under an Indonesian locale).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tkpk.normalize.nik import nik_problem
from tkpk.period import BULAN, Period
from tkpk.synth.names import name_typo, name_variant

XLS_MAX_ROWS = 60_000  # below the 65,536-row limit of the XLS format, with room for titles
UNKNOWN_KELURAHAN = ["Mendalo Darat", "15.71.12.1003", "Pijoan", "Sungai Duren", "1571991001", "Kel. Kenali Jaya"]
BAD_ENUM = {
    "program": "KIS", "status_kepesertaan": "batal", "jenjang": "MTs", "jenis_bantuan": "SUMUR BOR",
    "status": "ditunda", "jenis_kegiatan": "PAMERAN", "jenis_bibit": "JAGUNG", "jenis_mutasi": "PINDAH",
    "hubungan_keluarga": "keponakan", "penerima_pip": "MUNGKIN",
}
ROW_ERROR_CAP = 0.25  # never break more than this share of a normal file (only the one rejected file goes over)
# Base rates per row at --mess-rate 1.
RATES = {
    "name_variant": 0.08, "name_typo": 0.02, "nik_typo": 0.012, "nik_missing": 0.008, "nik_short": 0.004,
    "nik_format": 0.01, "nik_sci": 0.03, "kk_typo": 0.008, "kk_missing": 0.004, "date_swap": 0.02,
    "dob_typo": 0.005, "future_date": 0.0015, "bad_date": 0.001, "date_text": 0.03, "kel_name": 0.05,
    "kel_unknown": 0.004, "kel_other": 0.01, "sex_wrong": 0.003, "bad_enum": 0.003, "required_blank": 0.002,
    "repeat": 0.006, "nik_number": 0.3,
}
ERROR_MESS = {"nik_short", "nik_sci", "future_date", "bad_date", "kel_unknown", "bad_enum", "required_blank",
              "repeat"}
BULAN_SHORT = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]


@dataclass
class FileSpec:
    period: str
    opd: str
    type_code: str
    key: str
    filename: str
    fmt: str  # xlsx | xls | csv
    sheet: str = ""
    sep: str = ","
    encoding: str = "utf-8"
    title: list[str] = field(default_factory=list)
    total_row: bool = False
    no_column: bool = False
    extra_column: str = ""
    blank_rows: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    date_style: str = "dmy_slash"
    kel_style: str = "dotted"
    sex_style: str = "LP"
    yn_style: str = "YN"
    amount_style: str = "int"
    nik_style: str = "text"  # text | number | mixed
    name_case: str = "upper"
    enum_case: str = "as_is"
    rtrw_style: str = "padded"
    drop_column: str = ""
    broken: str = ""  # '' | 'missing_column' | 'half_broken'
    extra_sheet: bool = False

    @property
    def path(self) -> str:
        """Path relative to the landing root, as the pipeline discovers it."""
        return f"{self.period}/{self.opd}/{self.filename}"

    def describe(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k not in ("key",)}
        d["path"] = self.path
        return d


# --- Specs ---------------------------------------------------------------------------------------------------

def _pick(rng, options, p=None):
    return options[int(rng.choice(len(options), p=p))]


def _headers(rng, cfg, type_code: str, mess: float, system: bool) -> dict[str, str]:
    """Header text per column: the canonical name or one of its aliases that maps back to it."""
    from tkpk.config.submissions import header_key

    t = cfg.types.get(type_code)
    known = cfg.types.aliases_for(type_code)
    out = {}
    for col in t.columns:
        if system:
            out[col.name] = col.name.upper()
            continue
        options = [a for a in (*cfg.types.common_aliases.get(col.name, ()), *col.aliases)
                   if known.get(header_key(a)) == col.name]
        if options and rng.random() < min(1.0, 0.7 * mess):
            out[col.name] = _pick(rng, options)
        else:
            out[col.name] = col.name
    return out


def _title(type_name: str, opd_name: str, period: Period, rng, cp1252: bool) -> list[str]:
    month = f"{BULAN[period.month - 1].upper()} {period.year}"
    dash = "\u2013" if cp1252 else "-"  # en dash: a byte that differs between UTF-8 and Windows-1252
    lines = [f"DATA {type_name.upper()}", f"{opd_name.upper()} KOTA JAMBI {dash} BULAN {month}"]
    if rng.random() < 0.5:
        lines.insert(0, "PEMERINTAH KOTA JAMBI")
    return lines


def plan_file(rng, cfg, *, period: Period, opd: str, opd_name: str, type_code: str, key: str, filename: str,
              fmt: str, rows: int, mess: float, system: bool = False, sep: str = ",",
              encoding: str = "utf-8", sheet: str = "") -> FileSpec:
    t = cfg.types.get(type_code)
    if fmt == "xls" and rows > XLS_MAX_ROWS:
        fmt, filename = "xlsx", filename.rsplit(".", 1)[0] + ".xlsx"
    excel = fmt in ("xlsx", "xls")
    f = mess if not system else 0.0
    spec = FileSpec(period=str(period), opd=opd, type_code=type_code, key=key, filename=filename, fmt=fmt,
                    sep=sep, encoding=encoding)
    spec.sheet = sheet or ("Sheet1" if rng.random() < 0.5 else _pick(rng, ["Data", "DATA", str(period), "Rekap Data"]))
    if not excel:
        spec.sheet = ""
    spec.headers = _headers(rng, cfg, type_code, mess, system)
    if rng.random() < min(1.0, 0.65 * f):
        spec.title = _title(t.name, opd_name, period, rng, encoding == "cp1252")
    spec.total_row = rng.random() < min(1.0, 0.4 * f)
    spec.no_column = rng.random() < min(1.0, 0.6 * f)
    spec.extra_column = "Keterangan" if rng.random() < min(1.0, 0.2 * f) else ""
    spec.blank_rows = int(rng.integers(0, 4)) if rng.random() < min(1.0, 0.35 * f) else 0
    # Styles vary between files like they do between offices; at --mess-rate 0 every file uses the plain ones.
    varied = not system and rng.random() < min(1.0, mess)
    styles = ["excel", "dmy_slash", "dmy_dash", "long", "iso"] if excel else ["dmy_slash", "dmy_dash", "long", "iso"]
    spec.date_style = _pick(rng, styles) if varied else ("excel" if excel and not system else "iso")
    spec.kel_style = _pick(rng, ["dotted", "digits", "name", "name_upper", "kel_prefix"],
                           p=[0.35, 0.25, 0.2, 0.1, 0.1]) if varied else "dotted"
    spec.sex_style = _pick(rng, ["LP", "word", "LKPR"], p=[0.6, 0.3, 0.1]) if varied else "LP"
    spec.yn_style = _pick(rng, ["YN", "YaTidak"]) if varied else "YN"
    spec.amount_style = _pick(rng, ["int", "rp", "dots"], p=[0.5, 0.3, 0.2]) if varied else "int"
    spec.nik_style = _pick(rng, ["text", "number", "mixed"], p=[0.4, 0.3, 0.3]) if varied and excel else "text"
    spec.name_case = _pick(rng, ["upper", "title"], p=[0.6, 0.4]) if varied else "upper"
    spec.enum_case = _pick(rng, ["as_is", "upper", "capital"], p=[0.6, 0.2, 0.2]) if varied else "as_is"
    spec.rtrw_style = _pick(rng, ["padded", "plain"]) if varied else "padded"
    return spec


# --- Row mess ------------------------------------------------------------------------------------------------

@dataclass
class Prepared:
    spec: FileSpec
    values: pd.DataFrame  # canonical columns after value mess (object dtype)
    codes: list[list[str]]
    expected_error: np.ndarray
    truth: pd.DataFrame   # _pid, _hh, _facts per row (same order as values)
    per_row: dict[str, np.ndarray]  # date_text / kel_name / nik_sci / nik_number / nik_format masks


def _nik_columns(t) -> tuple[str | None, str | None]:
    nik = next((c.name for c in t.columns if c.kind == "nik"), None)
    kk = next((c.name for c in t.columns if c.kind == "kk"), None)
    return nik, kk


def _digit_typo(value: str, rng) -> str:
    if len(value) != 16:
        return value
    i = int(rng.integers(6, 16))
    if rng.random() < 0.5 and i < 15:
        return value[:i] + value[i + 1] + value[i] + value[i + 2:]
    return value[:i] + str((int(value[i]) + int(rng.integers(1, 9))) % 10) + value[i + 1:]


def apply_mess(spec: FileSpec, rows: pd.DataFrame, cfg, rng, mess: float, period: Period, kel_ref: pd.DataFrame,
               *, reject_half: bool = False) -> Prepared:
    t = cfg.types.get(spec.type_code)
    cols = [c.name for c in t.columns]
    n = len(rows)
    values = rows[cols].astype(object).copy().reset_index(drop=True)
    truth = rows[["_pid", "_hh", "_facts"]].reset_index(drop=True).copy()
    codes: list[list[str]] = [[] for _ in range(n)]
    err = np.zeros(n, bool)
    cap = max(1, int(ROW_ERROR_CAP * n)) if not reject_half else n
    nik_col, kk_col = _nik_columns(t)
    optional_nik = bool(t.nik_optional_when)

    def draw(kind: str, eligible: np.ndarray | None = None, error: bool = False) -> np.ndarray:
        rate = min(RATES[kind] * mess, 0.5)
        mask = rng.random(n) < rate
        if eligible is not None:
            mask &= eligible
        if error or kind in ERROR_MESS:
            mask &= ~err
            idx = np.flatnonzero(mask)
            room = max(0, cap - int(err.sum()))
            idx = idx[:room]
            mask = np.zeros(n, bool)
            mask[idx] = True
        for i in np.flatnonzero(mask):
            codes[i].append(kind)
        return mask

    def mark_error(mask: np.ndarray) -> None:
        err[mask] = True

    names = [c.name for c in t.columns if c.kind == "name"]
    dates = [c.name for c in t.columns if c.kind == "date"]
    enums = [c for c in t.columns if c.kind == "enum"]
    has = {c.name for c in t.columns}
    per_row: dict[str, np.ndarray] = {}
    female = rows["jenis_kelamin"].to_numpy() == "P" if "jenis_kelamin" in rows else np.zeros(n, bool)

    if nik_col and not optional_nik:
        err |= values[nik_col].to_numpy(copy=True) == ""
    if kk_col and t.column(kk_col).required:
        err |= values[kk_col].to_numpy(copy=True) == ""
    if nik_col:
        nik = values[nik_col].to_numpy(copy=True)
        present = nik != ""
        m = draw("nik_typo", present)
        for i in np.flatnonzero(m):
            nik[i] = _digit_typo(nik[i], rng)
            if nik_problem(nik[i]) is not None:
                err[i] = True
        m = draw("nik_short", present & ~m)
        for i in np.flatnonzero(m):
            nik[i] = nik[i][:-1]
        mark_error(m)
        m = draw("nik_missing", present, error=not optional_nik)
        nik[m] = ""
        if not optional_nik:
            mark_error(m)
        values[nik_col] = nik
        if spec.fmt == "csv" and spec.encoding == "cp1252":
            sci = draw("nik_sci", values[nik_col].to_numpy(copy=True) != "")
            if reject_half:  # the deliberately broken file: most NIKs (always more than half) destroyed by Excel
                candidates = np.flatnonzero((values[nik_col].to_numpy(copy=True) != "") & ~sci)
                k = max(n // 2 + 1 - int(sci.sum()), int(np.ceil(0.7 * n)) - int(sci.sum()), 0)
                extra = np.zeros(n, bool)
                extra[rng.permutation(candidates)[:k]] = True
                for i in np.flatnonzero(extra):
                    codes[i].append("nik_sci")
                sci |= extra
            mark_error(sci)
            per_row["nik_sci"] = sci
        not_sci = ~per_row.get("nik_sci", np.zeros(n, bool))
        per_row["nik_format"] = draw("nik_format", (values[nik_col].to_numpy(copy=True) != "") & not_sci)
        if spec.nik_style == "mixed":
            per_row["nik_number"] = rng.random(n) < RATES["nik_number"]
        elif spec.nik_style == "number":
            per_row["nik_number"] = np.ones(n, bool)
        if "nik_number" in per_row:
            num = per_row["nik_number"] & ~per_row["nik_format"]
            num &= np.array([v.isdigit() for v in values[nik_col].to_numpy(copy=True)], bool)
            per_row["nik_number"] = num
            for i in np.flatnonzero(num):
                codes[i].append("nik_number")
    if kk_col:
        kk = values[kk_col].to_numpy(copy=True)
        kk_required = t.column(kk_col).required
        m = draw("kk_typo", kk != "")
        for i in np.flatnonzero(m):
            kk[i] = _digit_typo(kk[i], rng)
            if nik_problem(kk[i], kind="kk") is not None:  # e.g. a serial typed as 0000
                err[i] = True
        m = draw("kk_missing", kk != "", error=kk_required)
        kk[m] = ""
        if kk_required:
            mark_error(m)
        values[kk_col] = kk
    for col in names:
        nm = values[col].to_numpy(copy=True)
        m = draw("name_variant")
        for i in np.flatnonzero(m):
            nm[i] = name_variant(nm[i], bool(female[i]), rng)
        m = draw("name_typo", ~m)
        for i in np.flatnonzero(m):
            nm[i] = name_typo(nm[i], rng)
        values[col] = nm
    end = period.end
    if "tanggal_lahir" in has:
        born = np.array(pd.to_datetime(values["tanggal_lahir"]).dt.date, dtype=object)
        day = np.array([d.day for d in born])
        month = np.array([d.month for d in born])
        m = draw("date_swap", (day <= 12) & (day != month))
        for i in np.flatnonzero(m):
            born[i] = born[i].replace(day=int(month[i]), month=int(day[i]))
        m = draw("dob_typo", ~m)
        for i in np.flatnonzero(m):
            born[i] = _safe_year(born[i], born[i].year + (1 if rng.random() < 0.5 else -1))
        m = draw("future_date")
        for i in np.flatnonzero(m):
            born[i] = _safe_year(born[i], born[i].year + 100 if born[i].year + 100 > end.year else end.year + 1)
        mark_error(m)
        values["tanggal_lahir"] = born
    for col in dates:
        if col != "tanggal_lahir":
            values[col] = pd.to_datetime(values[col]).dt.date.to_numpy().astype(object)
    if dates:
        bad = draw("bad_date", None)
        mark_error(bad)
        per_row["bad_date"] = bad
        per_row["date_text"] = draw("date_text", ~bad)
    if "kode_kelurahan" in has:
        kel = values["kode_kelurahan"].to_numpy(copy=True)
        unknown = draw("kel_unknown")
        for i in np.flatnonzero(unknown):
            kel[i] = UNKNOWN_KELURAHAN[int(rng.integers(0, len(UNKNOWN_KELURAHAN)))]
        mark_error(unknown)
        per_row["kel_unknown"] = unknown
        other = draw("kel_other", ~unknown)
        codes_ref = kel_ref["kode_kelurahan"].to_numpy()
        for i in np.flatnonzero(other):
            kel[i] = codes_ref[int(rng.integers(0, len(codes_ref)))]
        per_row["kel_name"] = draw("kel_name", ~unknown)
        values["kode_kelurahan"] = kel
    if "jenis_kelamin" in has:
        m = draw("sex_wrong")
        sx = values["jenis_kelamin"].to_numpy(copy=True)
        sx[m] = np.where(sx[m] == "L", "P", "L")
        values["jenis_kelamin"] = sx
    if enums:
        col = enums[0].name
        m = draw("bad_enum")
        v = values[col].to_numpy(copy=True)
        v[m] = BAD_ENUM.get(col, "LAINNYA")
        values[col] = v
        mark_error(m)
    req_text = [c.name for c in t.columns if c.required and c.kind in ("name", "text")]
    if req_text:
        m = draw("required_blank")
        col = req_text[0]
        v = values[col].to_numpy(copy=True)
        v[m] = ""
        values[col] = v
        mark_error(m)
    # Repeated rows: an exact copy (the copy is the error), right after the original or at the end.
    rep_idx = np.flatnonzero(draw("repeat"))
    for i in rep_idx:
        codes[i].remove("repeat")
    if len(rep_idx):
        at_end = rng.random(len(rep_idx)) < 0.4
        after = set(rep_idx[~at_end].tolist())
        seq: list[tuple[int, bool]] = []
        for i in range(n):
            seq.append((i, False))
            if i in after:
                seq.append((i, True))
        seq += [(int(i), True) for i in rep_idx[at_end]]
        idx = np.array([s for s, _ in seq])
        is_copy = np.array([c for _, c in seq])
        values = values.iloc[idx].reset_index(drop=True)
        truth = truth.iloc[idx].reset_index(drop=True)
        codes = [codes[s] + (["repeat"] if c else []) for s, c in seq]
        err = np.where(is_copy, True, err[idx])
        per_row = {k: v[idx] for k, v in per_row.items()}
    if spec.drop_column:  # mess in a column the file does not have is no mess
        gone = {"kode_kelurahan": ("kel_",), "nik": ("nik_",), "no_kk": ("kk_",), "tanggal_lahir": ("date_", "dob_",
                "future_", "bad_date")}.get(spec.drop_column, ())
        codes = [[c for c in row if not c.startswith(gone)] for row in codes]
    return Prepared(spec, values, codes, err, truth, per_row)


def _safe_year(d: dt.date, year: int) -> dt.date:
    try:
        return d.replace(year=year)
    except ValueError:  # 29 February
        return d.replace(year=year, day=28)


# --- Formatting ----------------------------------------------------------------------------------------------

def _fmt_date(d: dt.date, style: str) -> object:
    if d is None or (isinstance(d, float) and d != d):
        return ""
    if style == "excel":
        return d
    if style == "dmy_slash":
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if style == "dmy_dash":
        return f"{d.day:02d}-{d.month:02d}-{d.year}"
    if style == "long":
        return f"{d.day} {BULAN[d.month - 1]} {d.year}"
    if style == "short":
        return f"{d.day} {BULAN_SHORT[d.month - 1]} {d.year}"
    return d.isoformat()


def _fmt_amount(v: int, style: str) -> object:
    if style == "rp":
        return "Rp " + f"{int(v):,}".replace(",", ".") + ",00"
    if style == "dots":
        return f"{int(v):,}".replace(",", ".")
    return int(v)


def _fmt_name(v: str, case: str) -> str:
    if case == "title":
        return " ".join(w[:1].upper() + w[1:].lower() for w in v.split(" "))
    return v


def format_cells(prep: Prepared, cfg, kel_index) -> tuple[list[str], list[list]]:
    """Header texts and one list of cell values per data row, in the file's styles."""
    spec = prep.spec
    t = cfg.types.get(spec.type_code)
    excel = spec.fmt in ("xlsx", "xls")
    rng_alt = ["dmy_slash", "long", "dmy_dash", "short", "iso"]
    columns: list[list] = []
    headers: list[str] = []
    n = len(prep.values)
    sep_decimal = "," if spec.sep == ";" else "."
    for col in t.columns:
        if col.name == spec.drop_column:
            continue
        headers.append(spec.headers[col.name])
        raw = prep.values[col.name].to_numpy()
        if col.kind in ("nik", "kk"):
            out = list(raw)
            if col.kind == "nik":
                num = prep.per_row.get("nik_number", np.zeros(n, bool))
                sci = prep.per_row.get("nik_sci", np.zeros(n, bool))
                fmt_ = prep.per_row.get("nik_format", np.zeros(n, bool))
                for i in np.flatnonzero(num):
                    out[i] = int(out[i])
                for i in np.flatnonzero(sci):
                    out[i] = f"{int(out[i]):.5E}".replace(".", sep_decimal) if str(out[i]).isdigit() else out[i]
                for i in np.flatnonzero(fmt_):
                    v = str(out[i])
                    out[i] = ("'" + v) if (i % 2 == 0 or not excel) else f"{v[:6]} {v[6:12]} {v[12:]}"
            elif spec.nik_style == "number":
                out = [int(v) if str(v).isdigit() else v for v in out]
        elif col.kind == "name":
            out = [_fmt_name(v, spec.name_case) for v in raw]
        elif col.kind == "date":
            alt = prep.per_row.get("date_text", np.zeros(n, bool))
            bad = prep.per_row.get("bad_date", np.zeros(n, bool))
            out = [_fmt_date(d, spec.date_style) for d in raw]
            for i in np.flatnonzero(alt):
                style = rng_alt[i % len(rng_alt)]
                if style == spec.date_style:
                    style = "long"
                out[i] = _fmt_date(raw[i], style)
            for i in np.flatnonzero(bad):
                d = raw[i]
                out[i] = f"{31 if d.month in (2, 4, 6, 9, 11) else 32}/{d.month:02d}/{d.year}"
        elif col.kind == "kelurahan":
            kel_name = prep.per_row.get("kel_name", np.zeros(n, bool))
            unknown = prep.per_row.get("kel_unknown", np.zeros(n, bool))
            out = []
            for i, v in enumerate(raw):
                if unknown[i]:
                    out.append(v)
                    continue
                style = "name" if kel_name[i] and spec.kel_style in ("dotted", "digits") else spec.kel_style
                out.append(_fmt_kel(v, style, kel_index, excel))
        elif col.kind == "sex":
            words = {"LP": ("L", "P"), "word": ("Laki-laki", "Perempuan"), "LKPR": ("LK", "PR")}[spec.sex_style]
            out = [words[0] if v == "L" else words[1] if v == "P" else v for v in raw]
        elif col.kind == "yn":
            words = ("Ya", "Tidak") if spec.yn_style == "YaTidak" else ("Y", "N")
            out = [words[0] if v == "Y" else words[1] if v == "N" else v for v in raw]
        elif col.kind == "amount":
            out = [_fmt_amount(v, spec.amount_style) if v != "" else "" for v in raw]
            if not excel:
                out = [str(v) for v in out]
        elif col.kind == "int":
            out = [int(v) if v != "" else "" for v in raw]
        elif col.kind == "enum":
            out = [_fmt_enum(v, spec.enum_case) for v in raw]
        elif col.kind == "rtrw":
            out = [int(v) if spec.rtrw_style == "plain" and excel else (str(int(v)) if spec.rtrw_style == "plain"
                                                                          else v) for v in raw]
        else:
            out = [_fmt_name(v, spec.name_case) if col.name == "alamat" else v for v in raw]
        if not excel:
            out = ["" if v is None else (v.isoformat() if isinstance(v, dt.date) else str(v)) for v in out]
        columns.append(out)
    rows = [list(r) for r in zip(*columns, strict=True)] if columns else [[] for _ in range(n)]
    return headers, rows


def _fmt_enum(v: str, case: str) -> str:
    """Officers retype words ('Aktif', 'AKTIF'), never codes (SD, PKH, BAWANG_MERAH)."""
    if not isinstance(v, str) or "_" in v or v.isupper():
        return v
    if case == "upper":
        return v.upper()
    if case == "capital":
        return v[:1].upper() + v[1:].lower()
    return v


def _fmt_kel(code: str, style: str, kel_index, excel: bool) -> object:
    found = kel_index.by_code.get(code)
    if found is None:
        return code
    if style == "digits":
        digits = code.replace(".", "")
        return int(digits) if excel else digits
    if style == "name":
        return found.kelurahan
    if style == "name_upper":
        return found.kelurahan.upper()
    if style == "kel_prefix":
        return f"Kel. {found.kelurahan}"
    return code


# --- Layout and writers --------------------------------------------------------------------------------------

def layout(prep: Prepared, headers: list[str], rows: list[list], rng) -> tuple[list[list], list[int]]:
    """All sheet rows (titles, header, data, blanks, total) and the Excel row number of each data row."""
    spec = prep.spec
    sheet: list[list] = []
    for line in spec.title:
        sheet.append([line])
    if spec.title:
        sheet.append([])
    header = (["No"] if spec.no_column else []) + headers + ([spec.extra_column] if spec.extra_column else [])
    sheet.append(header)
    n = len(rows)
    blanks = set(rng.choice(np.arange(1, n), size=min(spec.blank_rows, max(n - 1, 0)), replace=False).tolist()) \
        if n > 1 and spec.blank_rows else set()
    notes = ["", "", "", "", "Data baru", "Pindahan", "Sudah diverifikasi", "-"]
    numbers: list[int] = []
    for i, row in enumerate(rows):
        if i in blanks:
            sheet.append([])
        cells = ([i + 1] if spec.no_column else []) + row
        if spec.extra_column:
            cells.append(notes[int(rng.integers(0, len(notes)))])
        sheet.append(cells)
        numbers.append(len(sheet))
    if spec.total_row:
        total = [""] * len(header)
        total[0] = "JUMLAH"
        offset = 1 if spec.no_column else 0
        t_cols = [c for c in spec.headers if c != spec.drop_column]
        target = next((c for c in ("nominal", "jumlah", "iuran_bulanan") if c in t_cols), None)
        if target:
            j = t_cols.index(target)
            try:
                total[offset + j] = int(sum(_as_number(r[j]) for r in rows))
            except (TypeError, ValueError):
                total[offset + j] = n
        else:
            name_col = next((k for k, c in enumerate(t_cols) if c.startswith("nama")), 1)
            total[offset + name_col] = f"{n} orang" if spec.type_code != "perkim_rumah" else f"{n} KK"
        if spec.fmt == "csv":
            total = [str(v) for v in total]
        sheet.append([])
        sheet.append(total)
    return sheet, numbers


def _as_number(v) -> float:
    if isinstance(v, (int, float)):
        return v
    text = str(v).replace("Rp", "").strip()
    if "," in text:
        text = text.split(",")[0]
    return float(text.replace(".", "") or 0)


FIXED_CREATED = dt.datetime(2026, 1, 1, 8, 0, 0)


def write_xlsx(path: Path, sheet_name: str, sheet: list[list], extra_sheet: list[list] | None, created: dt.datetime):
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
        "strings_to_urls": False, "default_date_format": "dd/mm/yyyy", "tmpdir": str(path.parent),
    })
    wb.set_properties({"created": created, "author": "Operator", "company": "Pemerintah Kota Jambi"})
    ws = wb.add_worksheet(sheet_name)
    for r, row in enumerate(sheet):
        if row:
            ws.write_row(r, 0, row)
    if extra_sheet is not None:
        ws2 = wb.add_worksheet("Rekap")
        for r, row in enumerate(extra_sheet):
            ws2.write_row(r, 0, row)
    wb.close()


def write_xls(path: Path, sheet_name: str, sheet: list[list]):
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(sheet_name[:31])
    date_style = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for r, row in enumerate(sheet):
        for c, v in enumerate(row):
            if v == "" or v is None:
                continue
            if isinstance(v, dt.date):
                ws.write(r, c, v, date_style)
            else:
                ws.write(r, c, v)
    wb.save(str(path))


def write_csv(path: Path, sheet: list[list], sep: str, encoding: str):
    with open(path, "w", newline="", encoding=encoding, errors="replace") as fh:
        w = csv.writer(fh, delimiter=sep, lineterminator="\r\n")
        for row in sheet:
            w.writerow(row)
