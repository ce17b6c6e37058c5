"""Linkage of plain files, without the warehouse: `tkpk link --registry PERSONS.csv --submission ROWS.csv --out
LINKS.csv` (the contract the matcher is evaluated on) and `tkpk link train`.

Same engine as the monthly run (`tkpk.linkage.engine`), same saved model; reads CSV (any of `,;|\\t`, UTF-8 or
Windows-1252) or XLSX with every cell as text, so NIKs keep their digits.
"""

from __future__ import annotations

import csv
import logging
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from tkpk.linkage import engine
from tkpk.linkage.compare import name_similarity
from tkpk.linkage.model import Model, load_model
from tkpk.linkage.prepare import prepare_persons

log = logging.getLogger(__name__)

LINK_COLUMNS = ["row_id", "id_art", "match_status", "match_probability", "person_key", "candidate_id_art", "evidence"]
# Read from PERSONS.csv (alamat is in the contract but not compared: RT/RW and kelurahan carry the address).
REGISTRY_COLUMNS = ["id_art", "id_keluarga", "nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "rt", "rw",
                    "kode_kelurahan"]
ROW_COLUMNS = ["row_id", "nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "rt", "rw", "kode_kelurahan"]


# Why a row with a probable candidate was not linked (extra column of LINKS.csv, for the steward).
REASONS = {"p": "probabilitas_rendah", "margin": "kandidat_lain_dekat", "family": "kerabat_lebih_cocok",
           "name": "nama_kurang_cocok"}


class LinkInputError(ValueError):
    """An input file cannot be used; the message says why, in Indonesian."""


def read_table(path: str | Path, wanted: list[str], *, required: list[str]) -> pd.DataFrame:
    """Columns `wanted` (those present) of a CSV or XLSX file, every cell as text ('' when empty)."""
    path = Path(path)
    if not path.exists():
        raise LinkInputError(f"Berkas {path} tidak ditemukan.")
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
        df = pd.read_excel(path, dtype=str, engine="calamine").fillna("")
        df.columns = [str(c).strip().lower() for c in df.columns]
    else:
        df = _read_csv(path, wanted)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise LinkInputError(f"Kolom wajib tidak ada di {path.name}: {', '.join(missing)}.")
    return df[[c for c in wanted if c in df.columns]]


def _read_csv(path: Path, wanted: list[str]) -> pd.DataFrame:
    """pyarrow's multi-threaded reader, every column as text; delimiter and encoding sniffed from the start."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    with open(path, "rb") as fh:
        head = fh.read(65536)
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    try:
        text_head, encoding = head.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text_head, encoding = head.decode("cp1252", errors="replace"), "cp1252"
    first = text_head.splitlines()[0] if text_head else ""
    sep = max([",", ";", "\t", "|"], key=first.count)
    header = [c.strip() for c in next(csv.reader([first], delimiter=sep))]
    names = [c.lower().lstrip("\ufeff") for c in header]
    keep = [h for h, n in zip(header, names, strict=True) if n in wanted]
    table = pcsv.read_csv(
        path,
        read_options=pcsv.ReadOptions(encoding=encoding, use_threads=True),
        parse_options=pcsv.ParseOptions(delimiter=sep, newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(column_types={h: pa.string() for h in header}, include_columns=keep,
                                            strings_can_be_null=False, quoted_strings_can_be_null=False),
    )
    table = table.rename_columns([c.strip().lower().lstrip("\ufeff") for c in table.column_names])
    return table.to_pandas(types_mapper=lambda t: pd.ArrowDtype(t))


def _kelurahan_index():
    from tkpk.normalize.kelurahan import KelurahanIndex

    try:
        return KelurahanIndex.load()
    except OSError:
        return None


def link_frames(persons: pd.DataFrame, rows: pd.DataFrame, model: Model | None = None, *,
                reference: date | None = None, by_partition: bool = False) -> pd.DataFrame:
    """LINKS for raw registry persons and submitted rows (both as text frames). `by_partition` runs the
    probabilistic pass kecamatan by kecamatan, as the monthly run's mapped tasks do (same answer, by design)."""
    model = model or load_model()
    reference = reference or date.today()
    kel = _kelurahan_index()
    t0 = time.perf_counter()
    reg = prepare_persons(persons, reference=reference, kelurahan=kel)
    rp = prepare_persons(rows, reference=reference, kelurahan=kel)
    ctx = engine.Context.build(model, reg["name_ph"], registry=reg)
    engine.with_name_u(rp, ctx)
    t1 = time.perf_counter()
    exact = engine.exact_nik_pass(rp, reg, model, ctx)
    open_mask = ~np.isin(np.arange(len(rp)), exact["ri"].to_numpy())
    row_keys = engine.block_keys(rp, "row")
    if by_partition:
        part = reg["kel_i"].to_numpy() // 10000  # kecamatan
        pieces = []
        for p in np.unique(part):
            sub = reg[part == p].reset_index(drop=True)
            found = engine.score_candidates(rp, sub, model, ctx, row_mask=open_mask, row_keys=row_keys)
            pieces.append(found)
        candidates = pd.concat(pieces, ignore_index=True) if pieces else engine._empty_candidates()
    else:
        candidates = engine.score_candidates(rp, reg, model, ctx, row_mask=open_mask, row_keys=row_keys)
    t2 = time.perf_counter()
    decided = engine.decide(len(rp), exact, candidates, model)
    person_key, _pairs = engine.cluster_rows(rp, decided, model, ctx)
    t3 = time.perf_counter()
    log.info("linkage: prepare %.1fs, match %.1fs, decide+cluster %.1fs", t1 - t0, t2 - t1, t3 - t2)
    return links_frame(rp, reg, decided, person_key)


def links_frame(rp: pd.DataFrame, reg: pd.DataFrame, decided: pd.DataFrame, person_key: np.ndarray) -> pd.DataFrame:
    """The LINKS.csv table: one row per input row, in input order."""
    ev = []
    cands = decided["candidate_id_art"].to_numpy(dtype=object)
    has = np.array([bool(c) and c == c for c in cands])
    pos = pd.Index(reg["id_art"].to_numpy(dtype=object)).get_indexer(cands[has]) if has.any() else np.array([], int)
    reg_names = reg["name"].to_numpy(dtype=object)
    cand_name = np.full(len(cands), "", dtype=object)
    cand_name[np.flatnonzero(has)] = np.where(pos >= 0, reg_names[np.maximum(pos, 0)], "")
    names = rp["name"].to_numpy(dtype=object)
    cache: dict[str, str] = {}
    for i, levels in enumerate(decided["levels"].to_numpy(dtype=object)):
        if not levels:
            ev.append("")
            continue
        sim = name_similarity(names[i], cand_name[i]) if has[i] else None
        key = f"{levels}|{sim}"
        text = cache.get(key)
        if text is None:
            text = cache[key] = engine.evidence(levels, sim)
        ev.append(text)
    status = decided["match_status"].to_numpy(dtype=object)
    out = pd.DataFrame({
        "row_id": rp["row_id"].to_numpy(dtype=object),
        "id_art": decided["id_art"].fillna("").to_numpy(dtype=object),
        "match_status": status,
        "match_probability": np.round(decided["match_probability"].to_numpy(dtype=float), 4),
        "person_key": person_key,
        "candidate_id_art": np.where(status == "review", decided["candidate_id_art"].fillna(""), "").astype(object),
        "evidence": ev,
        "decided_by": decided["decided_by"].to_numpy(dtype=object),
        "review_reason": decided["why"].map(REASONS).fillna("").to_numpy(dtype=object),
    })
    return out


def link_files(registry: str | Path, submission: str | Path, out: str | Path, *, model_path: str | Path | None = None,
               by_partition: bool = False) -> dict:
    """The CLI contract: read, link, write LINKS.csv. Returns counts."""
    model = load_model(model_path)
    persons = read_table(registry, REGISTRY_COLUMNS, required=["id_art", "nama"])
    if "id_keluarga" not in persons.columns:
        persons["id_keluarga"] = persons["id_art"]
    rows = read_table(submission, ROW_COLUMNS, required=["row_id"])
    links = link_frames(persons, rows, model, by_partition=by_partition)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    links.to_csv(out, index=False)
    counts = links["match_status"].value_counts().to_dict()
    return {"rows": int(len(links)), "linked": int(counts.get("linked", 0)), "review": int(counts.get("review", 0)),
            "new": int(counts.get("new", 0)), "model_version": model.version}
