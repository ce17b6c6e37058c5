"""The link step of `tkpk_monthly` on the warehouse: what the DAG's mapped tasks call.

    prepare_linkage(settings, period) -> [kecamatan, ...]     global exact-NIK pass; the partitions to map over
    link_partition(settings, period, kecamatan) -> counts      probabilistic pass against one kecamatan's registry
    finalize_linkage(settings, period) -> counts               best candidate across partitions, bands, steward
                                                               decisions, clusters and person keys, review queue,
                                                               household links
    link_period(settings, period) -> counts                    the three in sequence (CLI, demo, tests)

Input: the accepted rows of the period (staged_row of current batches) and the registry snapshot of the period
(`tkpk.registry.snapshot_for_period`). Every write is keyed by the period and replaced on a re-run. Return values go
to XCom: counts only, never personal data.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Column, MetaData, String, Table, bindparam, case, delete, func, select, update

from tkpk.linkage import engine
from tkpk.linkage.compare import name_similarity
from tkpk.linkage.model import Model, load_model
from tkpk.linkage.prepare import prepare_persons
from tkpk.period import Period
from tkpk.registry import snapshot_for_period
from tkpk.warehouse import analyze, session_scope
from tkpk.warehouse.bulk import insert_frame
from tkpk.warehouse.models import (
    HouseholdLink,
    LinkCandidate,
    NameFrequency,
    PersonKey,
    PersonLink,
    RegistryHousehold,
    RegistryPerson,
    RegistrySnapshot,
    ReviewDecision,
    ReviewItem,
    StagedRow,
    SubmissionBatch,
)

log = logging.getLogger(__name__)
CHUNK = 5_000
PERSON_COLUMNS = ["id_art", "id_keluarga", "nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "alamat", "rt",
                  "rw", "kode_kelurahan"]


# --- reading -------------------------------------------------------------------------------------------------------


# Fields of staged_row.data the matcher reads, extracted by the database (no JSON decoding of whole rows in Python).
DATA_FIELDS = ("alamat", "rt", "rw", "hubungan_keluarga")


@contextmanager
def keys_table(session, values: Iterable, length: int = 64) -> Iterator[Table]:
    """A temporary one-column table (`k`) holding the distinct `values`, for one join where a long `IN (...)` list
    would otherwise be sent in chunks (hundreds of statements at province scale, each planned and run anew)."""
    table = Table(f"tmp_keys_{uuid.uuid4().hex[:12]}", MetaData(), Column("k", String(length), primary_key=True),
                  prefixes=["TEMPORARY"])
    conn = session.connection()
    table.create(conn)
    try:
        insert_frame(conn, table, pd.DataFrame({"k": sorted({str(v) for v in values if v is not None and v == v})}))
        yield table
    finally:
        table.drop(conn)


def load_rows(session, period: str, *, open_only: bool = False) -> pd.DataFrame:
    """Accepted rows of the period (current batches), with the person fields the matcher reads; `open_only`: those
    the exact-NIK pass has not linked (what a partition works on)."""
    q = (select(StagedRow.row_id, StagedRow.opd_code, StagedRow.submission_type, StagedRow.nik, StagedRow.no_kk,
                StagedRow.nama, StagedRow.jenis_kelamin, StagedRow.tanggal_lahir, StagedRow.kode_kelurahan,
                *[StagedRow.data[f].as_string().label(f) for f in DATA_FIELDS])
         .join(SubmissionBatch, SubmissionBatch.batch_id == StagedRow.batch_id)
         # The batch filter lets the database start from the period's few current batches (batch_id index).
         .where(StagedRow.period == period, SubmissionBatch.period == period, SubmissionBatch.is_current.is_(True))
         .order_by(StagedRow.row_id))
    # Field-verification results (kelurahan_verval, a sub-folder type) are not OPD records of people: tkpk.verval
    # matches them to registry families by No KK / NIK itself; they never enter linkage or its review queue.
    from tkpk.config import load_config

    folder_types = [t.code for t in load_config().types.types if t.folder]
    if folder_types:
        q = q.where(StagedRow.submission_type.not_in(folder_types))
    if open_only:
        linked = select(PersonLink.row_id).where(PersonLink.period == period)
        q = q.where(StagedRow.row_id.not_in(linked))
    records = session.execute(q).all()
    cols = ["row_id", "opd_code", "submission_type", "nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir",
            "kode_kelurahan", *DATA_FIELDS]
    df = pd.DataFrame.from_records(records, columns=cols)
    df["tanggal_lahir"] = [d.isoformat() if isinstance(d, date) else (d or "") for d in df["tanggal_lahir"]]
    for c in ("nik", "no_kk", "nama", "jenis_kelamin", "kode_kelurahan", "alamat", "rt", "rw"):
        df[c] = df[c].astype(object).where(df[c].notna(), "").astype(str)
    return df


def _registry_frame(records) -> pd.DataFrame:
    df = pd.DataFrame.from_records(records, columns=PERSON_COLUMNS + ["kode_kecamatan"])
    df["tanggal_lahir"] = [d.isoformat() if isinstance(d, date) else "" for d in df["tanggal_lahir"]]
    for c in ("nik", "no_kk", "nama", "jenis_kelamin", "alamat", "rt", "rw", "kode_kelurahan"):
        df[c] = df[c].astype(object).where(df[c].notna(), "").astype(str)
    return df


def _person_select(snapshot_id: int):
    return (select(*[getattr(RegistryPerson, c) for c in PERSON_COLUMNS], RegistryHousehold.kode_kecamatan)
            .join(RegistryHousehold, (RegistryHousehold.snapshot_id == RegistryPerson.snapshot_id)
                  & (RegistryHousehold.id_keluarga == RegistryPerson.id_keluarga))
            .where(RegistryPerson.snapshot_id == snapshot_id))


def load_registry_households(session, snapshot_id: int, niks: Iterable[str]) -> pd.DataFrame:
    """Registry persons of every household with a member holding one of `niks` (the NIK matches of the exact pass
    and their relatives), in one query joined against a temporary table of the NIKs."""
    with keys_table(session, niks, length=16) as keys:
        households = (select(RegistryPerson.id_keluarga)
                      .join(keys, keys.c.k == RegistryPerson.nik)
                      .where(RegistryPerson.snapshot_id == snapshot_id))
        records = session.execute(_person_select(snapshot_id)
                                  .where(RegistryPerson.id_keluarga.in_(households))).all()
    return _registry_frame(records)


def load_registry_partition(session, snapshot_id: int, kecamatan: str) -> pd.DataFrame:
    """Registry persons whose household lies in `kecamatan` (driven from the household index)."""
    households = (select(RegistryHousehold.id_keluarga)
                  .where(RegistryHousehold.snapshot_id == snapshot_id, RegistryHousehold.kode_kecamatan == kecamatan))
    q = (select(*[getattr(RegistryPerson, c) for c in PERSON_COLUMNS])
         .where(RegistryPerson.snapshot_id == snapshot_id, RegistryPerson.id_keluarga.in_(households)))
    return _registry_frame([(*r, kecamatan) for r in session.execute(q).all()])


def name_counts(session, snapshot_id: int) -> pd.Series:
    """Term frequencies of the snapshot's names, computed once per snapshot (the first run that needs them)."""
    found = session.execute(select(NameFrequency.name_ph, NameFrequency.n)
                            .where(NameFrequency.snapshot_id == snapshot_id)).all()
    if found:
        return pd.Series({k: v for k, v in found}, dtype="int64")
    names = pd.Series([r[0] for r in session.execute(select(RegistryPerson.nama)
                                                      .where(RegistryPerson.snapshot_id == snapshot_id))],
                      dtype=object)
    from tkpk.normalize.names import normalize_name_series, phonetic_series

    phon = phonetic_series(normalize_name_series(names).fillna("")).fillna("")
    counts = phon[phon != ""].str.slice(0, 200).value_counts()
    _insert(session, NameFrequency, [{"snapshot_id": snapshot_id, "name_ph": k, "n": int(v)} for k, v in counts.items()])
    return counts.astype("int64")


def _context(model: Model, snap: RegistrySnapshot, counts: pd.Series) -> engine.Context:
    n = int(snap.persons or counts.sum() or 1)
    return engine.Context(n_registry=n, name_counts=counts, prior_bits=model.prior_bits(n))


def _insert(session, model, records: list[dict]) -> None:
    """Through the warehouse's bulk insert (COPY on PostgreSQL), inside the session's transaction."""
    insert_frame(session, model, pd.DataFrame.from_records(records))


def _reference(period: str) -> date:
    return Period.parse(period).end


# --- 1. prepare: clear, exact-NIK pass, partitions ----------------------------------------------------------------


def prepare_linkage(settings, period: str, *, model: Model | None = None) -> list[str]:
    """Clear the period's links (re-run safe), run the global exact-NIK pass, and return the partitions (kecamatan
    codes of registry households) for the probabilistic passes."""
    model = model or load_model()
    period = str(Period.parse(period))
    with session_scope(settings.database_url) as s:
        for table in (LinkCandidate, HouseholdLink, ReviewItem, PersonLink):
            s.execute(delete(table).where(table.period == period))
        analyze(s, StagedRow, SubmissionBatch)  # the month's files were just loaded
        snap = snapshot_for_period(s, period)
        if snap is None:
            log.warning("Periode %s: belum ada snapshot registri; semua baris akan berstatus baru", period)
            return []
        counts = name_counts(s, snap.snapshot_id)
        rows = load_rows(s, period)
        ctx = _context(model, snap, counts)
        reference = _reference(period)
        rp = prepare_persons(rows[["row_id"] + [c for c in PERSON_COLUMNS if c in rows.columns]],
                             reference=reference, kelurahan=_kelurahan(settings))
        niks = {str(n) for n in rp.loc[rp["nik"] > 0, "nik"]}
        reg = load_registry_households(s, snap.snapshot_id, niks)
        regp = prepare_persons(reg, reference=reference, kelurahan=_kelurahan(settings))
        engine.with_name_u(regp, ctx)
        engine.with_name_u(rp, ctx)
        exact = engine.exact_nik_pass(rp, regp, model, ctx)
        # A steward's "not this person" beats the NIK: those rows go on to the probabilistic passes.
        if len(exact):
            fp = engine.review_fingerprint(rp)
            refused = _decisions(s, fp[exact["ri"].to_numpy()])
            if len(refused):
                refused = refused[refused["decision"] == "non_match"]
                bad = {(f, a) for f, a in zip(refused["fingerprint"], refused["id_art"], strict=True)}
                keep = [(fp[ri], art) not in bad for ri, art in zip(exact["ri"], exact["id_art"], strict=True)]
                exact = exact[np.array(keep, dtype=bool)]
        ev = _evidence(rp, regp, exact)
        row_ids = rp["row_id"].to_numpy()
        _insert(s, PersonLink, [
            {"period": period, "row_id": int(row_ids[ri]), "snapshot_id": snap.snapshot_id, "id_art": art,
             "id_keluarga": fam, "match_status": "linked",
             "match_probability": float(np.round(Model.probability(sc), 6)), "candidate_id_art": None,
             "person_key": art, "evidence": e, "decided_by": "nik", "model_version": str(model.version),
             "partition": None}
            for ri, art, fam, sc, e in zip(exact["ri"], exact["id_art"], exact["id_keluarga"], exact["score"], ev,
                                           strict=True)])
        partitions = sorted(r[0] for r in s.execute(
            select(RegistryHousehold.kode_kecamatan).where(RegistryHousehold.snapshot_id == snap.snapshot_id)
            .distinct()))
    log.info("Periode %s: %d baris, %d tertaut lewat NIK, %d partisi", period, len(rows), len(exact),
             len(partitions))
    return partitions


def _kelurahan(settings):
    from tkpk.normalize.kelurahan import KelurahanIndex

    return KelurahanIndex.load(settings.reference_dir)


def _evidence(rp: pd.DataFrame, regp: pd.DataFrame, frame: pd.DataFrame) -> list[str]:
    names_r = rp["name"].to_numpy(dtype=object)
    names_g = regp["name"].to_numpy(dtype=object)
    from tkpk.linkage.compare import code_text

    return [engine.evidence(code_text(c), name_similarity(names_r[ri], names_g[gi]))
            for ri, gi, c in zip(frame["ri"], frame["gi"], frame["code"], strict=True)]


def _decisions(session, fingerprints) -> pd.DataFrame:
    out = []
    if session.scalar(select(func.count()).select_from(ReviewDecision)):
        with keys_table(session, fingerprints) as keys:
            out = session.execute(select(ReviewDecision.fingerprint, ReviewDecision.id_art, ReviewDecision.decision)
                                  .join(keys, keys.c.k == ReviewDecision.fingerprint)).all()
    return pd.DataFrame.from_records(out, columns=["fingerprint", "id_art", "decision"])


# --- 2. one partition ------------------------------------------------------------------------------------------------


def link_partition(settings, period: str, partition: str, *, model: Model | None = None) -> dict:
    """Probabilistic pass for the rows not linked by NIK, against the registry persons whose household lies in
    kecamatan `partition`. Keeps each row's best candidates (table link_candidate). Returns counts."""
    model = model or load_model()
    period = str(Period.parse(period))
    with session_scope(settings.database_url) as s:
        s.execute(delete(LinkCandidate).where(LinkCandidate.period == period, LinkCandidate.partition == partition))
        snap = snapshot_for_period(s, period)
        if snap is None:
            return {"partition": partition, "rows": 0, "registry": 0, "candidates": 0}
        rows = load_rows(s, period, open_only=True)
        reg = load_registry_partition(s, snap.snapshot_id, partition)
        counts = name_counts(s, snap.snapshot_id)
        if rows.empty or reg.empty:
            return {"partition": partition, "rows": int(len(rows)), "registry": int(len(reg)), "candidates": 0}
        ctx = _context(model, snap, counts)
        reference = _reference(period)
        rp = prepare_persons(rows[["row_id"] + [c for c in PERSON_COLUMNS if c in rows.columns]],
                             reference=reference, kelurahan=_kelurahan(settings))
        regp = prepare_persons(reg, reference=reference, kelurahan=_kelurahan(settings))
        engine.with_name_u(regp, ctx)
        cands = engine.score_candidates(rp, regp, model, ctx)
        ev = _evidence(rp, regp, cands)
        rank = cands.groupby("ri", sort=False).cumcount().to_numpy()
        row_ids = rp["row_id"].to_numpy()
        _insert(s, LinkCandidate, [
            {"period": period, "partition": partition, "row_id": int(row_ids[ri]), "rank": int(k), "id_art": art,
             "id_keluarga": fam, "score": float(sc), "nik_weight": float(nw), "personal": float(pe),
             "code": int(c), "evidence": e}
            for ri, k, art, fam, sc, nw, pe, c, e in zip(cands["ri"], rank, cands["id_art"], cands["id_keluarga"],
                                                          cands["score"], cands["nik_weight"], cands["personal"],
                                                          cands["code"], ev, strict=True)])
    return {"partition": partition, "rows": int(len(rows)), "registry": int(len(reg)),
            "candidates": int(len(cands)), "rows_with_candidate": int(cands["ri"].nunique())}


# --- 3. finalize ---------------------------------------------------------------------------------------------------


def finalize_linkage(settings, period: str, *, model: Model | None = None) -> dict:
    """Decide every row of the period, cluster, persist keys, queue reviews, link households. Returns counts."""
    from tkpk.config import load_config
    from tkpk.linkage.households import PROPOSAL_TYPE, link_households

    model = model or load_model()
    period = str(Period.parse(period))
    now = datetime.now(UTC)
    with session_scope(settings.database_url) as s:
        snap = snapshot_for_period(s, period)
        rows = load_rows(s, period)
        s.execute(delete(HouseholdLink).where(HouseholdLink.period == period))
        s.execute(delete(ReviewItem).where(ReviewItem.period == period))
        exact_rows = s.execute(select(PersonLink.row_id, PersonLink.id_art, PersonLink.id_keluarga,
                                      PersonLink.match_probability, PersonLink.evidence)
                               .where(PersonLink.period == period, PersonLink.decided_by == "nik")).all()
        s.execute(delete(PersonLink).where(PersonLink.period == period, PersonLink.decided_by != "nik"))
        cand_rows = s.execute(select(LinkCandidate.row_id, LinkCandidate.id_art, LinkCandidate.id_keluarga,
                                     LinkCandidate.score, LinkCandidate.nik_weight, LinkCandidate.personal,
                                     LinkCandidate.code, LinkCandidate.evidence)
                              .where(LinkCandidate.period == period)).all()
        counts = name_counts(s, snap.snapshot_id) if snap else pd.Series(dtype="int64")
        ctx = _context(model, snap, counts) if snap else engine.Context(1, counts, model.prior_bits(1))
        reference = _reference(period)
        rp = prepare_persons(rows[["row_id"] + [c for c in PERSON_COLUMNS if c in rows.columns]],
                             reference=reference, kelurahan=_kelurahan(settings))
        engine.with_name_u(rp, ctx)
        pos = pd.Series(np.arange(len(rp)), index=rp["row_id"].to_numpy())
        exact = pd.DataFrame.from_records(exact_rows, columns=["row_id", "id_art", "id_keluarga", "p", "evidence"])
        exact = exact[exact["row_id"].isin(pos.index)]
        exact_frame = pd.DataFrame({"ri": pos.reindex(exact["row_id"]).to_numpy(), "id_art": exact["id_art"],
                                    "id_keluarga": exact["id_keluarga"],
                                    "score": [Model.bits(min(max(p, 1e-9), 1 - 1e-12)) for p in exact["p"]],
                                    "code": 0})
        cands = pd.DataFrame.from_records(cand_rows, columns=["row_id", "id_art", "id_keluarga", "score", "nik_weight",
                                                              "personal", "code", "evidence"])
        cands = cands[cands["row_id"].isin(pos.index)]
        cands.insert(0, "ri", pos.reindex(cands["row_id"]).to_numpy())
        fp = engine.review_fingerprint(rp)
        decisions = _decisions(s, fp)
        dec_frame = None
        if len(decisions):
            by_fp = pd.DataFrame({"ri": np.arange(len(rp)), "fingerprint": fp})
            dec_frame = by_fp.merge(decisions, on="fingerprint")
            with keys_table(s, dec_frame["id_art"], length=40) as keys:
                fam = dict(s.execute(select(RegistryPerson.id_art, RegistryPerson.id_keluarga)
                                     .join(keys, keys.c.k == RegistryPerson.id_art)
                                     .where(RegistryPerson.snapshot_id == (snap.snapshot_id if snap else -1))).all())
            dec_frame["id_keluarga"] = dec_frame["id_art"].map(fam)
            # A match decision for a person no longer in this snapshot cannot be applied.
            dec_frame = dec_frame[(dec_frame["decision"] != "match") | dec_frame["id_keluarga"].notna()]
        decided = engine.decide(len(rp), exact_frame, cands.drop(columns=["row_id", "evidence"]), model, dec_frame)
        known = _known_keys(s, engine.fingerprints(rp))
        person_key, pairs = engine.cluster_rows(rp, decided, model, ctx, known)
        # Evidence: the chosen candidate's, from its partition.
        ev_by = {(int(r), a): e for r, a, e in zip(cands["ri"], cands["id_art"], cands["evidence"], strict=True)}
        status = decided["match_status"].to_numpy()
        by = decided["decided_by"].to_numpy()
        cand = decided["candidate_id_art"].to_numpy(dtype=object)
        row_ids = rp["row_id"].to_numpy()
        exact_ri = set(exact_frame["ri"].tolist())
        records = []
        for i in range(len(rp)):
            if i in exact_ri and by[i] == "nik":
                continue
            evidence_text = "keputusan=petugas" if by[i] == "steward" else ev_by.get((i, cand[i]), None)
            records.append({
                "period": period, "row_id": int(row_ids[i]), "snapshot_id": snap.snapshot_id if snap else None,
                "id_art": decided["id_art"].iat[i], "id_keluarga": decided["id_keluarga"].iat[i],
                "match_status": status[i], "match_probability": float(decided["match_probability"].iat[i]),
                "candidate_id_art": cand[i] if status[i] != "linked" else None, "person_key": person_key[i],
                "evidence": evidence_text, "decided_by": by[i], "model_version": str(model.version),
                "partition": None})
        if snap is not None:
            # Steward-decided rows among the exact ones replace their NIK link.
            steward_exact = [int(row_ids[i]) for i in exact_ri if by[i] == "steward"]
            if steward_exact:
                s.execute(delete(PersonLink).where(PersonLink.period == period, PersonLink.row_id.in_(steward_exact)))
                for i in exact_ri:
                    if by[i] == "steward":
                        records.append({"period": period, "row_id": int(row_ids[i]), "snapshot_id": snap.snapshot_id,
                                        "id_art": decided["id_art"].iat[i],
                                        "id_keluarga": decided["id_keluarga"].iat[i], "match_status": "linked",
                                        "match_probability": 1.0, "candidate_id_art": None,
                                        "person_key": person_key[i], "evidence": "keputusan=petugas",
                                        "decided_by": "steward", "model_version": str(model.version),
                                        "partition": None})
            _insert(s, PersonLink, records)
        _store_keys(s, period, rp, decided, person_key, known)
        review_idx = np.flatnonzero(status == "review")
        _insert(s, ReviewItem, [
            {"period": period, "row_id": int(row_ids[i]), "candidate_id_art": cand[i],
             "match_probability": float(decided["match_probability"].iat[i]),
             "evidence": ev_by.get((int(i), cand[i])), "fingerprint": fp[i], "status": "open", "created_at": now}
            for i in review_idx])
        # Households.
        config = load_config(settings.config_dir)
        household_types = {t.code for t in config.types.types if t.unit == "household" or t.group_by}
        household_types.add(PROPOSAL_TYPE)
        kk_norm = rp["kk"].to_numpy()
        hh_rows = pd.DataFrame({"row_id": row_ids, "submission_type": rows["submission_type"].to_numpy(),
                                "no_kk": [str(k) if k else "" for k in kk_norm], "match_status": status,
                                "id_keluarga": decided["id_keluarga"].to_numpy(dtype=object),
                                "person_key": person_key})
        wanted_kk = sorted({k for k, t in zip(hh_rows["no_kk"], hh_rows["submission_type"], strict=True)
                            if k and t in household_types})
        registry_kk: dict[str, str] = {}
        if snap is not None and wanted_kk:
            with keys_table(s, wanted_kk, length=16) as keys:
                registry_kk.update(dict(s.execute(
                    select(RegistryHousehold.no_kk, RegistryHousehold.id_keluarga)
                    .join(keys, keys.c.k == RegistryHousehold.no_kk)
                    .where(RegistryHousehold.snapshot_id == snap.snapshot_id)).all()))
        hlinks, hcounts = link_households(hh_rows, registry_kk, household_types)
        if snap is not None and len(hlinks):
            _insert(s, HouseholdLink, [
                {"period": period, "row_id": int(r.row_id), "snapshot_id": snap.snapshot_id,
                 "id_keluarga": r.id_keluarga, "match_status": r.match_status, "via": r.via,
                 "household_key": r.household_key, "duplicate_of": r.duplicate_of, "evidence": r.evidence}
                for r in hlinks.itertuples(index=False)])
        opd = rows["opd_code"].to_numpy()
        keyed = pd.DataFrame({"key": person_key, "opd": opd})
        multi = keyed.groupby("key")["opd"].nunique()
        total_links = s.scalar(select(func.count()).select_from(PersonLink).where(PersonLink.period == period))
        analyze(s, PersonLink, HouseholdLink, PersonKey)  # eligibility and the reports read them next
    result = {
        "rows": int(len(rp)),
        "linked": int((status == "linked").sum()),
        "review": int((status == "review").sum()),
        "new": int((status == "new").sum()),
        "by_nik": int((by == "nik").sum()),
        "by_steward": int((by == "steward").sum()),
        "persons": int(keyed["key"].nunique()),
        "within_month_duplicates": int(len(rp) - keyed["key"].nunique()),
        "cross_opd_duplicates": int((multi > 1).sum()),
        "model_version": int(model.version),
        "stored_links": int(total_links or 0),
    }
    result.update(hcounts)
    del pairs
    log.info("Periode %s: linkage %s", period, result)
    return result


def _known_keys(session, fingerprints) -> dict[str, str]:
    if session.execute(select(PersonKey.fingerprint).limit(1)).first() is None:
        return {}
    with keys_table(session, fingerprints) as keys:
        return dict(session.execute(select(PersonKey.fingerprint, PersonKey.person_key)
                                    .join(keys, keys.c.k == PersonKey.fingerprint)).all())


def _store_keys(session, period: str, rp: pd.DataFrame, decided: pd.DataFrame, person_key: np.ndarray,
                known: dict[str, str]) -> None:
    """Persist the keys of persons not in the registry: each fingerprint seen -> its person key."""
    fps = engine.fingerprints(rp)
    linked = decided["match_status"].to_numpy() == "linked"
    fresh: dict[str, str] = {}
    for i in np.flatnonzero(~linked):
        key = person_key[i]
        if not key or not str(key).startswith("N"):
            continue
        fresh.setdefault(fps[i], key)
    old = [{"fp": f, "pk": k} for f, k in fresh.items() if f in known]
    if old:
        # Periods are YYYY-MM text, so the string order is the time order (portable MIN/MAX of two values).
        stmt = (update(PersonKey.__table__).where(PersonKey.fingerprint == bindparam("fp"))
                .values(person_key=bindparam("pk"),
                        last_period=case((PersonKey.last_period < period, period), else_=PersonKey.last_period),
                        first_period=case((PersonKey.first_period > period, period), else_=PersonKey.first_period)))
        conn = session.connection()
        for i in range(0, len(old), CHUNK):
            conn.execute(stmt, old[i:i + CHUNK])
    _insert(session, PersonKey, [{"fingerprint": f, "person_key": k, "first_period": period, "last_period": period}
                                 for f, k in fresh.items() if f not in known])


# --- all three ----------------------------------------------------------------------------------------------------


def link_period(settings, period: str, *, model: Model | None = None) -> dict:
    """prepare -> every partition -> finalize, in one process (CLI, demo, tests)."""
    model = model or load_model()
    partitions = prepare_linkage(settings, period, model=model)
    for p in partitions:
        link_partition(settings, period, p, model=model)
    result = finalize_linkage(settings, period, model=model)
    result["partitions"] = len(partitions)
    return result
