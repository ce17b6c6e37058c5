"""A synthetic month for the tests that run Airflow itself: the landing zone (two kecamatan, the OPDs every stage
reads), a warehouse with its registry, the environment `make demo` gives `airflow dags test`, the e-mails sent, and a
corrected OPD upload."""

from __future__ import annotations

import email
import shutil
from datetime import date
from email import policy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOUSEHOLDS = 300
# The submissions every later stage reads (recipients, events, pregnancies, schools, BPJS TK, the two types synth
# rejects in one of the months) and one kelurahan's proposals and verval folder; the other OPDs stay away ("belum
# mengirim", a normal outcome) so that each run has fewer tasks on two cores.
KEEP = {"dinsos", "disnaker", "dinkes", "disdik", "disdukcapil", "koperasi", "pertanian"}
# The households live in two of the eleven kecamatan (Telanaipura holds the first verval kelurahan): linkage and
# eligibility are mapped per kecamatan, so a run has 2 + 2 instead of 11 + 11 of those tasks and still maps over
# several. The pipeline itself reads the whole reference (include/reference).
KECAMATAN = ("15.71.01", "15.71.08")


def two_kecamatan_reference(folder: Path) -> Path:
    """include/reference with the kelurahan list cut to KECAMATAN: what the synthetic city is generated from."""
    import csv

    shutil.copytree(ROOT / "include" / "reference", folder)
    path = folder / "kota_jambi_kelurahan_kepmendagri2025.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.DictWriter(fh, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(r for r in rows if r["kode_kecamatan"] in KECAMATAN)
    return folder


def synthetic_landing(out: Path, first: str, months: int, seed: int = 5) -> Path:
    """`months` synthetic months from `first` in two kecamatan, with only the KEEP OPDs' and one kelurahan's
    folders."""
    from tkpk.synth import generate

    generate(out, first, households=HOUSEHOLDS, seed=seed, months=months,
             reference_dir=two_kecamatan_reference(out / "reference"))
    landing = out / "landing"
    for folder in (p for p in landing.iterdir() if p.name != "registry"):
        kelurahan = sorted(p.name for p in folder.iterdir() if p.name.startswith("kel-"))[:1]
        for sub in folder.iterdir():
            if sub.name not in KEEP | set(kelurahan):
                shutil.rmtree(sub)
    return landing


def warehouse(url: str, landing: Path) -> str:
    """A migrated warehouse with every registry snapshot of the landing zone loaded."""
    from tkpk.registry import load_snapshot
    from tkpk.warehouse import get_engine, upgrade

    upgrade(url)
    for snapshot in sorted((landing / "registry").iterdir()):
        load_snapshot(url, str(snapshot), date.fromisoformat(snapshot.name), actor="uji-airflow")
    get_engine.cache_clear()
    return url


def month_env(var: Path, landing: Path, url: str, smtp_port: int, **extra: str) -> dict:
    """What `make demo` gives `airflow dags test` (tkpk.demo.airflow_env), on this test's warehouse and landing."""
    from tkpk.demo import airflow_env

    (var / "airflow").mkdir(parents=True, exist_ok=True)
    env = airflow_env(var, smtp_port)
    env.update(TKPK_VAR_DIR=str(var), TKPK_DATABASE_URL=url, TKPK_LANDING_URL=landing.as_uri(),
               TKPK_ARCHIVE_URL=(var / "archive").as_uri(), GX_ANALYTICS_ENABLED="False", **extra)
    return env


def messages(outbox: Path) -> list:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(outbox.glob("*.eml"))]


def drop_last_rows(path: Path, n: int, target: Path) -> Path:
    """Write the file's data rows minus the last n data rows as a plain UTF-8 CSV (what a corrected upload is)."""
    import pandas as pd

    if path.suffix.lower() == ".csv":
        raw = path.read_bytes()
        enc = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "cp1252"
        sep = ";" if raw.count(b";") > raw.count(b",") else ","
        frame = pd.read_csv(path, sep=sep, encoding=enc, dtype=str, header=None, keep_default_na=False)
    else:
        frame = pd.read_excel(path, header=None, dtype=str, engine="calamine").fillna("")
    # keep everything up to the last data row; a trailing total row ("JUMLAH") stays out of the count
    is_total = frame.apply(lambda r: any(str(v).strip().upper() in ("JUMLAH", "TOTAL") for v in r), axis=1)
    blank = frame.apply(lambda r: all(str(v).strip() == "" for v in r), axis=1)
    body = frame[~is_total & ~blank]
    body = body.iloc[: len(body) - n]
    body.to_csv(target, index=False, header=False, encoding="utf-8")
    return target


