"""`generate()`: the whole synthetic Kota Jambi in one call (what `tkpk synth` and `make demo` run).

Order: build the population and write the registry snapshot; then, month by month, simulate the events of life,
advance the programs, build every submission type's rows, mess them up and write them as XLSX / XLS / CSV under
`landing/{period}/{opd_code}/`, and record the truth. Output layout (everything below `out_dir`):

    registry/households.csv, registry/persons.csv          the snapshot (DESIGN.md section 5)
    landing/registry/{snapshot_date}/...                   the same files, where the pipeline looks for them
    landing/{period}/{opd_code}/<files>                    one month of submissions per period
    truth/submissions.csv                                  one row per submitted data row (see TRUTH_COLUMNS)
    truth/events.csv, truth/people_outside.csv             life events; people who are not in the registry
    truth/manifest.json                                    counts, files and their styles, the rejected file(s)

snapshot_date = the first day of the first period minus 6 days (2026-09-25 for period 2026-10): Dinas Sosial
delivered it just before the month began. The same arguments give the same bytes.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from tkpk.period import BULAN, Period
from tkpk.synth import files as F
from tkpk.synth import life
from tkpk.synth.population import build, registry_frames, rng_for
from tkpk.synth.submissions import (
    BUILDERS,
    Ctx,
    ProgramState,
    build_generic,
    fill_missing_columns,
    step_programs,
)
from tkpk.synth.verval import write_verval

log = logging.getLogger(__name__)

SNAPSHOT_DAYS_BEFORE = 6
TRUTH_COLUMNS = ["period", "type", "opd_code", "file", "sheet", "row_number", "id_art", "id_keluarga",
                 "true_person_id", "true_household_id", "mess", "facts", "expected_error"]
# One file per month that the pipeline must reject, rotating so that a multi-month demo shows different cases.
REJECTS = [
    ("koperasi_pemberdayaan", "missing_column", "kode_kelurahan"),
    ("pertanian_bibit", "half_broken", "nik"),
    ("perkim_rumah", "missing_column", "tahun_anggaran"),
]
# (file name template, format, separator, encoding, system export)
FILE_PLAN: dict[str, dict[str, tuple]] = {
    "dinsos_kpm": {
        "PKH": ("Data KPM PKH {bulan} {tahun}.xlsx", "xlsx", ",", "utf-8", False),
        "BPNT": ("Penerima BPNT {bln} {tahun}.xlsx", "xlsx", ",", "utf-8", False),
        "PBI_JK": ("PBI-JK {yyyy}-{mm}.csv", "csv", ";", "cp1252", False),
    },
    "disnaker_bpjstk": {"main": ("Peserta BPJS TK Pekerja Rentan {bulan} {tahun}.xlsx", "xlsx", ",", "utf-8", False)},
    "dinkes_ibu_hamil": {"main": ("Data Bumil {bulan} {tahun}.xls", "xls", ",", "utf-8", False)},
    "disdik_siswa": {"main": ("Data Siswa PIP {bulan} {tahun}.xlsx", "xlsx", ",", "utf-8", False)},
    "perkim_rumah": {"main": ("Rekap RTLH Jamban Air Bersih {yyyy}-{mm}.xls", "xls", ",", "utf-8", False)},
    "koperasi_pemberdayaan": {"main": ("Peserta Pemberdayaan UMKM {bln} {tahun}.csv", "csv", ";", "cp1252", False)},
    "pertanian_bibit": {"main": ("Penerima Bantuan Bibit {bulan} {tahun}.xlsx", "xlsx", ",", "utf-8", False)},
    "disdukcapil_mutasi": {"main": ("mutasi_penduduk_{yyyy}{mm}.csv", "csv", ",", "utf-8", True)},
}
KELURAHAN_FORMATS = [("xlsx", ",", "utf-8"), ("xls", ",", "utf-8"), ("csv", ";", "cp1252"), ("csv", ",", "utf-8-sig")]


def write_table(df: pd.DataFrame, path: Path) -> None:
    """CSV through Arrow (10x faster than pandas on Arrow-backed text): values unquoted, as registry exports come,
    unless a value holds a comma, a quote or a line break."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pa.Table.from_pandas(df, preserve_index=False)
    for quoting in ("none", "needed"):
        try:
            with open(path, "wb") as fh:
                fh.write((",".join(df.columns) + "\n").encode())
                pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False, quoting_style=quoting))
            return
        except pa.ArrowInvalid:
            continue


def snapshot_date_for(period: Period):
    return period.start - timedelta(days=SNAPSHOT_DAYS_BEFORE)


def _prepare_out(out: Path) -> None:
    """Start from a clean output: earlier synth output (recognised by its manifest) is replaced; anything else in
    the way is refused rather than deleted."""
    ours = ["registry", "landing", "truth"]
    if (out / "truth" / "manifest.json").exists():
        for name in ours:
            if (out / name).exists():
                shutil.rmtree(out / name)
    else:
        busy = [name for name in ours if (out / name).exists() and any((out / name).iterdir())]
        if busy:
            raise FileExistsError(
                f"Folder {out} sudah berisi {', '.join(busy)} yang bukan keluaran tkpk synth; pilih folder lain.")
    out.mkdir(parents=True, exist_ok=True)


def _names(template: str, period: Period, **extra) -> str:
    return template.format(bulan=BULAN[period.month - 1], bln=F.BULAN_SHORT[period.month - 1], tahun=period.year,
                           yyyy=f"{period.year:04d}", mm=f"{period.month:02d}", **extra)


def generate(out_dir: Path | str, period: str, households: int, seed: int, months: int = 1, mess: float = 1.0,
             *, config_dir: Path | str | None = None, reference_dir: Path | str | None = None) -> dict:
    """Write a synthetic registry and `months` months of OPD submissions with their truth. Returns counts only
    (no personal data)."""
    from tkpk.config import load_config
    from tkpk.normalize.kelurahan import KelurahanIndex
    from tkpk.settings import Settings

    if households < 20:
        raise ValueError("households minimal 20")
    if months < 1:
        raise ValueError("months minimal 1")
    if mess < 0:
        raise ValueError("mess-rate tidak boleh negatif")
    started = time.perf_counter()
    settings = Settings.from_env()
    config_dir = Path(config_dir or settings.config_dir)
    reference_dir = Path(reference_dir or settings.reference_dir)
    cfg = load_config(config_dir)
    kel_index = KelurahanIndex.load(reference_dir)
    out = Path(out_dir)
    first = Period.parse(period)
    periods = [first]
    for _ in range(months - 1):
        periods.append(periods[-1].next())
    snapshot = snapshot_date_for(first)
    _prepare_out(out)

    pop = build(seed, households, snapshot, reference_dir, months)
    households_df, persons_df = registry_frames(pop)
    _check_registry(persons_df)
    registry_dir = out / "registry"
    registry_dir.mkdir(parents=True)
    write_table(households_df, registry_dir / "households.csv")
    write_table(persons_df, registry_dir / "persons.csv")
    landing_registry = out / "landing" / "registry" / snapshot.isoformat()
    landing_registry.mkdir(parents=True)
    for name in ("households.csv", "persons.csv"):
        shutil.copyfile(registry_dir / name, landing_registry / name)
    log.info("synth registry: %d households, %d persons (%.1f s)", len(households_df), len(persons_df),
             time.perf_counter() - started)

    life.prepare(pop, seed, periods)
    ps = ProgramState()
    truth_parts: list[pd.DataFrame] = []
    file_meta: list[dict] = []
    rejected: list[dict] = []
    submitted: dict[str, dict[str, int]] = {}
    known_types = {t.code for t in cfg.types.types}
    verval_truth: list[dict] = []
    verval_counter = [0]
    for m, p in enumerate(periods):
        st = life.simulate_month(pop, seed, p, m, months)
        ctx = Ctx(pop, st, seed, ps, months)
        step_programs(ctx)
        reject = next(((t, how, col) for t, how, col in REJECTS[m % len(REJECTS):] + REJECTS[: m % len(REJECTS)]
                       if t in known_types), None)
        jobs: list[tuple[str, str, str]] = []  # (opd code, opd name, type)
        for opd in cfg.opds.opds:
            jobs += [(opd.code, opd.name, t) for t in opd.submissions]
        if cfg.opds.kelurahan.enabled:
            jobs += [("kel", "Kelurahan", t) for t in cfg.opds.kelurahan.submissions]
        counts: dict[str, int] = {}
        for opd_code, opd_name, type_code in jobs:
            builder = BUILDERS.get(type_code)
            type_cfg = cfg.types.get(type_code)
            rows = fill_missing_columns(ctx, builder(ctx), type_cfg) if builder else build_generic(ctx, type_cfg)
            for key, part in rows.groupby("_file", sort=False):
                if opd_code == "kel":
                    kel_row = pop.kel[pop.kel["digits"] == key].iloc[0]
                    code, name = f"kel-{key}", f"Kelurahan {kel_row['kelurahan']}"
                    fmt, sep, enc = KELURAHAN_FORMATS[int(kel_row.name) % len(KELURAHAN_FORMATS)]
                    template = f"Usulan DTSEN Kel {kel_row['kelurahan']} {{bulan}} {{tahun}}.{fmt}"
                    system = False
                else:
                    code, name = opd_code, opd_name
                    plan = FILE_PLAN.get(type_code, {}).get(key) or (
                        f"{type_code} {{yyyy}}-{{mm}}.xlsx", "xlsx", ",", "utf-8", False)
                    template, fmt, sep, enc, system = plan
                broken = ""
                if reject and reject[0] == type_code and not any(r["period"] == str(p) for r in rejected):
                    broken = reject[1]
                    if broken == "half_broken":
                        fmt, sep, enc = "csv", ";", "cp1252"
                        template = template.rsplit(".", 1)[0] + ".csv"
                filename = _names(template, p)
                spec = F.plan_file(rng_for(seed, "file", str(p), code, key), cfg, period=p, opd=code,
                                   opd_name=name, type_code=type_code, key=str(key), filename=filename, fmt=fmt,
                                   rows=len(part), mess=mess, system=system, sep=sep, encoding=enc)
                if broken:
                    spec.broken = broken
                    if broken == "missing_column":
                        spec.drop_column = reject[2]
                    rejected.append({"period": str(p), "opd_code": code, "type": type_code, "file": spec.path,
                                     "reason": f"{broken}:{reject[2]}"})
                if type_code == "disdik_siswa":
                    spec.extra_sheet = True
                truth, meta = _write_file(out, spec, part, cfg, kel_index, seed, mess, p, pop)
                truth_parts.append(truth)
                file_meta.append(meta)
                counts[type_code] = counts.get(type_code, 0) + len(truth)
        submitted[str(p)] = counts
        verval_truth += write_verval(out, pop, p, seed, Path(reference_dir), verval_counter)
        log.info("synth %s: %d rows (%.1f s)", p, sum(counts.values()), time.perf_counter() - started)

    truth_all = pd.concat(truth_parts, ignore_index=True)[TRUTH_COLUMNS]
    truth_dir = out / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    write_table(truth_all, truth_dir / "submissions.csv")
    pd.DataFrame(verval_truth, columns=["period", "opd_code", "row", "fault", "faults",
                                                                 "hasil_verifikasi"]).to_csv(
        truth_dir / "verval.csv", index=False)
    _write_events(truth_dir, pop, periods)
    _write_outside(truth_dir, pop)
    cross = {}
    for p in periods:
        t = truth_all[truth_all["period"] == str(p)]
        per_person = t.drop_duplicates(["true_person_id", "opd_code"]).groupby("true_person_id").size()
        cross[str(p)] = int((per_person >= 2).sum())
    d = households_df["desil"].replace("", "0").astype(int)
    size = persons_df.groupby("id_keluarga").size().reindex(households_df["id_keluarga"]).to_numpy()
    share = {str(k): round(float(size[d.to_numpy() == k].sum() / size.sum()), 4) for k in range(0, 11)}
    manifest = {
        "generator": "tkpk synth",
        "seed": seed,
        "households_requested": households,
        "months": months,
        "mess_rate": mess,
        "periods": [str(p) for p in periods],
        "snapshot_date": snapshot.isoformat(),
        "registry": {
            "households": len(households_df),
            "persons": len(persons_df),
            "kelurahan": int(households_df["kode_kelurahan"].nunique()),
            "desil_person_share": {("blank" if k == "0" else k): v for k, v in share.items()},
            "nik_outside_kota_jambi": round(float((~persons_df["nik"].str.startswith("1571")).mean()), 4),
            "hamil": int((persons_df["hamil"] == "Y").sum()),
        },
        "outside_registry_people": int((~pop.pp["in_registry"]).sum()),
        "submissions": submitted,
        "rows_total": int(len(truth_all)),
        "persons_in_two_or_more_opds": cross,
        "rejected": rejected,
        "files": file_meta,
        "truth_columns": TRUTH_COLUMNS,
    }
    (truth_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
    elapsed = time.perf_counter() - started
    log.info("synth done: %d households, %d persons, %d submitted rows in %.1f s", len(households_df),
             len(persons_df), len(truth_all), elapsed)
    return {
        "out_dir": str(out),
        "periods": [str(p) for p in periods],
        "snapshot_date": snapshot.isoformat(),
        "households": len(households_df),
        "persons": len(persons_df),
        "files": len(file_meta),
        "rows": int(len(truth_all)),
        "rows_per_period": {k: sum(v.values()) for k, v in submitted.items()},
        "rows_per_type": submitted,  # period -> submission type -> rows
        "rejected": [r["file"] for r in rejected],
        "seconds": round(elapsed, 2),
    }


def _check_registry(persons: pd.DataFrame) -> None:
    """The contract this generator promises: every NIK is 16 digits and encodes the stated birth date and sex."""
    nik = persons["nik"].astype(str)
    born = persons["tanggal_lahir"].astype(str)
    day = nik.str[6:8].astype(int)
    female = persons["jenis_kelamin"] == "P"
    ok = (nik.str.fullmatch(r"\d{16}") & (day - 40 * female == born.str[8:10].astype(int))
          & (nik.str[8:10] == born.str[5:7]) & (nik.str[10:12] == born.str[2:4]) & nik.is_unique)
    if not ok.all():
        raise RuntimeError(f"synth: {int((~ok).sum())} registry NIKs do not encode birth date and sex (a bug)")


def _write_file(out: Path, spec: F.FileSpec, rows: pd.DataFrame, cfg, kel_index, seed: int, mess: float,
                period: Period, pop) -> tuple[pd.DataFrame, dict]:
    rng = rng_for(seed, "mess", spec.period, spec.opd, spec.key)
    prep = F.apply_mess(spec, rows.reset_index(drop=True), cfg, rng, mess, period, pop.kel,
                        reject_half=spec.broken == "half_broken")
    headers, cells = F.format_cells(prep, cfg, kel_index)
    sheet, numbers = F.layout(prep, headers, cells, rng)
    target = out / "landing" / spec.path
    target.parent.mkdir(parents=True, exist_ok=True)
    if spec.fmt == "xlsx":
        extra = None
        if spec.extra_sheet and "jenjang" in prep.values:
            counts = prep.values["jenjang"].value_counts()
            extra = [["REKAP SISWA PER JENJANG"], ["Jenjang", "Jumlah"]] + [[k, int(v)] for k, v in counts.items()]
        F.write_xlsx(target, spec.sheet, sheet, extra, F.FIXED_CREATED)
    elif spec.fmt == "xls":
        F.write_xls(target, spec.sheet, sheet)
    else:
        F.write_csv(target, sheet, spec.sep, spec.encoding)
    pid = prep.truth["_pid"].to_numpy().astype(int)
    hidx = prep.truth["_hh"].to_numpy().astype(int)
    facts = prep.truth["_facts"].astype(str).to_numpy()
    if spec.broken:
        facts = np.where(facts == "", "file_rejected", facts + ";file_rejected")
    truth = pd.DataFrame({
        "period": spec.period, "type": spec.type_code, "opd_code": spec.opd, "file": spec.path, "sheet": spec.sheet,
        "row_number": numbers,
        "id_art": pop.P("id_art")[pid],
        "id_keluarga": pop.H("id_keluarga")[hidx],
        "true_person_id": pop.P("true_person_id")[pid],
        "true_household_id": pop.H("true_hh_id")[hidx],
        "mess": [";".join(c) for c in prep.codes],
        "facts": facts,
        "expected_error": np.where(prep.expected_error | (spec.broken != ""), "Y", "N"),
    })
    meta = spec.describe()
    meta["rows"] = len(truth)
    meta["sheet_rows"] = len(sheet)
    return truth, meta


def _write_events(truth_dir: Path, pop, periods: list[Period]) -> None:
    ev = pop.events
    pid = ev["pid"].to_numpy().astype(int)
    labels = [str(p) for p in periods]
    report = ev["report_month"].to_numpy().astype(int)
    df = pd.DataFrame({
        "period": [labels[m] for m in ev["month"].to_numpy().astype(int)],
        "reported_in": [labels[r] if 0 <= r < len(labels) else "" for r in report],
        "jenis_mutasi": ev["jenis_mutasi"].to_numpy(),
        "tanggal": pd.to_datetime(ev["tanggal"]).dt.strftime("%Y-%m-%d").to_numpy(),
        "true_person_id": pop.P("true_person_id")[pid],
        "id_art": pop.P("id_art")[pid],
        "id_keluarga": pop.P("id_keluarga")[pid],
    })
    write_table(df.sort_values(["period", "tanggal", "true_person_id"], kind="stable"), truth_dir / "events.csv")


def _write_outside(truth_dir: Path, pop) -> None:
    pp = pop.pp
    out = pp[~pp["in_registry"]]
    h = out["hh"].to_numpy()
    kind = np.where(out["newborn"].to_numpy(), "newborn", pop.H("kind")[h])
    out_df = pd.DataFrame({
        "true_person_id": out["true_person_id"].to_numpy(),
        "true_household_id": pop.H("true_hh_id")[h],
        "kind": kind,
        "nik": np.where(out["has_nik"].to_numpy(), out["nik"].to_numpy(), ""),
        "no_kk": pop.H("no_kk")[h],
        "nama": out["nama"].to_numpy(),
        "jenis_kelamin": out["jenis_kelamin"].to_numpy(),
        "tanggal_lahir": np.datetime_as_string(out["born"].to_numpy().astype("datetime64[D]"), unit="D"),
        "hubungan_keluarga": out["rel"].to_numpy(),
        "kode_kelurahan": pop.H("kode_kelurahan")[h],
        "id_keluarga": out["id_keluarga"].to_numpy(),
    })
    write_table(out_df, truth_dir / "people_outside.csv")
