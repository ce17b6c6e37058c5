"""The link step on the warehouse (issue 4, items 2, 3, 6, 7, 8): on SQLite and PostgreSQL, re-run safe, the same
answer as the file path (partitioned by kecamatan vs whole), the review round trip (a steward's decision wins the
next month), stable person keys across months, and household links (No KK, pecah KK, duplicate proposals)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import select

from tkpk.cli import main as cli
from tkpk.linkage.files import link_frames
from tkpk.linkage.monthly import finalize_linkage, link_partition, link_period, prepare_linkage
from tkpk.linkage.review import export_review, review_frame
from tkpk.settings import Settings
from tkpk.warehouse import session_scope
from tkpk.warehouse.models import AuditLog, HouseholdLink, PersonLink, ReviewDecision, ReviewItem

from .conftest import load_world, person_row, stage

P1, P2 = "2026-10", "2026-11"


def links_of(url: str, period: str) -> pd.DataFrame:
    with session_scope(url) as s:
        rows = s.execute(select(PersonLink.row_id, PersonLink.id_art, PersonLink.match_status, PersonLink.person_key,
                                PersonLink.candidate_id_art, PersonLink.decided_by, PersonLink.evidence)
                         .where(PersonLink.period == period).order_by(PersonLink.row_id)).all()
    return pd.DataFrame.from_records(rows, columns=["row_id", "id_art", "match_status", "person_key",
                                                    "candidate_id_art", "decided_by", "evidence"]).set_index("row_id")


def settings_for(url: str) -> Settings:
    return Settings.from_env(database_url=url)


def people(persons: pd.DataFrame, n: int, offset: int = 0, role: str | None = None) -> list[pd.Series]:
    pool = persons[persons["nik"] != ""]
    if role:
        pool = pool[pool["hubungan_keluarga"] == role]
    return [pool.iloc[offset + 5 * i] for i in range(n)]


def test_link_step_on_the_warehouse(warehouse, tmp_path, registry_persons):
    load_world(warehouse, tmp_path, registry_persons)
    a, b, c, d = people(registry_persons, 4)
    relative = registry_persons[(registry_persons["id_keluarga"] == d["id_keluarga"])
                                & (registry_persons["id_art"] != d["id_art"])].iloc[0]
    ids = stage(warehouse, P1, "disnaker", "disnaker_bpjstk", [
        person_row(a),
        person_row(b, nik="", nama=b["nama"].title()),
        person_row(c, nik=c["nik"][:4] + str((int(c["nik"][4]) + 1) % 10) + c["nik"][5:]),  # a slip in the NIK
        {"nik": "", "nama": "Orang Baru Sekali", "tanggal_lahir": "1990-01-01", "jenis_kelamin": "L",
         "kode_kelurahan": "15.71.01.1001"},
        # A relative typed with d's NIK: a different name and no birth date -> the steward decides.
        {"nik": d["nik"], "nama": "Zaenuddin Pranoto", "kode_kelurahan": d["kode_kelurahan"]},
    ])
    ids2 = stage(warehouse, P1, "dinkes", "dinkes_ibu_hamil", [person_row(b, nik="", jenis_kelamin="")])
    result = link_period(settings_for(warehouse), P1)
    links = links_of(warehouse, P1)
    assert len(links) == 6
    assert (links.at[ids[0], "id_art"], links.at[ids[0], "decided_by"]) == (a["id_art"], "nik")
    assert (links.at[ids[1], "id_art"], links.at[ids[1], "match_status"]) == (b["id_art"], "linked")
    assert links.at[ids[2], "id_art"] == c["id_art"]
    assert links.at[ids[3], "match_status"] == "new" and links.at[ids[3], "person_key"].startswith("N")
    assert (links.at[ids[4], "match_status"], links.at[ids[4], "candidate_id_art"]) == ("review", d["id_art"])
    assert pd.isna(links.at[ids[4], "id_art"])
    assert links.at[ids2[0], "person_key"] == links.at[ids[1], "person_key"] == b["id_art"]
    assert result["cross_opd_duplicates"] == 1 and result["review"] == 1
    assert result["linked"] == 4 and result["new"] == 1
    assert links.at[ids[0], "evidence"].startswith("nik=exact")
    with session_scope(warehouse) as s:
        assert s.scalar(select(ReviewItem.candidate_id_art).where(ReviewItem.period == P1)) == d["id_art"]
    # Re-run safe: the same links, nothing doubled.
    assert link_period(settings_for(warehouse), P1)["linked"] == 4
    pd.testing.assert_frame_equal(links_of(warehouse, P1), links)
    assert relative["id_art"] != d["id_art"]


def test_partitioned_warehouse_run_equals_whole_file_run(sqlite_warehouse, tmp_path, registry_persons, model):
    """The mapped tasks (prepare -> one task per kecamatan -> finalize) give the links of one whole run."""
    from bench.linkage_evaluate import make_submission

    load_world(sqlite_warehouse, tmp_path, registry_persons)
    rows, _truth = make_submission(registry_persons, 300, seed=21)
    records = rows.drop(columns=["row_id"]).to_dict("records")
    ids = stage(sqlite_warehouse, P1, "disnaker", "disnaker_bpjstk", records)
    settings = settings_for(sqlite_warehouse)
    partitions = prepare_linkage(settings, P1)
    assert len(partitions) == 11
    for p in reversed(partitions):  # any order
        link_partition(settings, P1, p)
    finalize_linkage(settings, P1)
    db = links_of(sqlite_warehouse, P1)
    # The file path on the same rows, as the warehouse holds them (normalised by ingestion).
    with session_scope(sqlite_warehouse) as s:
        from tkpk.linkage.monthly import load_rows

        staged = load_rows(s, P1)
    whole = link_frames(registry_persons, staged.drop(columns=["opd_code", "submission_type", "hubungan_keluarga"]),
                        model, reference=date(2026, 10, 31)).set_index("row_id")
    assert list(db.index) == ids
    assert (db["match_status"] == whole.loc[db.index, "match_status"]).all()
    assert (db["id_art"].fillna("") == whole.loc[db.index, "id_art"]).all()
    assert (db["person_key"] == whole.loc[db.index, "person_key"]).all()


def test_review_round_trip_decision_wins_next_month(warehouse, tmp_path, registry_persons):
    load_world(warehouse, tmp_path, registry_persons)
    d, e = people(registry_persons, 2, offset=40)
    unsure = [{"nik": d["nik"], "nama": "Zaenuddin Pranoto", "kode_kelurahan": d["kode_kelurahan"]},
              {"nik": e["nik"], "nama": "Wahyuningsih Rahmadani", "kode_kelurahan": e["kode_kelurahan"]}]
    stage(warehouse, P1, "koperasi", "koperasi_pemberdayaan", unsure)
    settings = settings_for(warehouse)
    link_period(settings, P1)
    queue = review_frame(warehouse, P1)
    assert sorted(queue["candidate_id_art"]) == sorted([d["id_art"], e["id_art"]])
    out = tmp_path / "tinjauan.xlsx"
    assert cli(["review", "export", "--period", P1, "--out", str(out), "--database-url", warehouse]) == 0
    sheet = pd.read_excel(out, sheet_name="Tinjauan", dtype=str).fillna("")
    assert "Keputusan" in sheet.columns and "Nama (Registri)" in sheet.columns
    assert not sheet["NIK (Usulan)"].str.contains(d["nik"]).any()  # masked
    assert sheet["NIK (Usulan)"].str.contains(r"\*{6}", regex=True).all()
    full = tmp_path / "lengkap.xlsx"
    export_review(warehouse, P1, full, show_nik=True)
    assert pd.read_excel(full, sheet_name="Tinjauan", dtype=str)["NIK (Usulan)"].isin([d["nik"], e["nik"]]).all()
    # The steward: d is the same person, e is not.
    sheet.loc[sheet["ID ART (Registri)"] == d["id_art"], "Keputusan"] = "match"
    sheet.loc[sheet["ID ART (Registri)"] == e["id_art"], "Keputusan"] = "tidak_cocok"
    with pd.ExcelWriter(out, engine="openpyxl") as xw:
        sheet.to_excel(xw, sheet_name="Tinjauan", index=False)
    assert cli(["review", "import", str(out), "--by", "bappeda", "--database-url", warehouse]) == 0
    with session_scope(warehouse) as s:
        decided = {r.id_art: r.decision for r in s.scalars(select(ReviewDecision))}
        assert s.scalar(select(AuditLog.action).where(AuditLog.action == "review_decision")) == "review_decision"
    assert decided == {d["id_art"]: "match", e["id_art"]: "non_match"}
    # Next month the same rows come again: the decisions win over the model.
    ids = stage(warehouse, P2, "koperasi", "koperasi_pemberdayaan", unsure)
    link_period(settings, P2)
    links = links_of(warehouse, P2)
    assert (links.at[ids[0], "match_status"], links.at[ids[0], "id_art"], links.at[ids[0], "decided_by"]) == (
        "linked", d["id_art"], "steward")
    assert links.at[ids[1], "match_status"] != "linked"
    assert links.at[ids[1], "candidate_id_art"] != e["id_art"]
    assert review_frame(warehouse, P2)["candidate_id_art"].tolist() == []


def test_person_keys_of_new_persons_persist(sqlite_warehouse, tmp_path, registry_persons):
    load_world(sqlite_warehouse, tmp_path, registry_persons)
    newcomer = {"nik": "1571054405010123", "nama": "Wulan Dari Sukmawati", "tanggal_lahir": "2001-05-04",
                "jenis_kelamin": "P", "kode_kelurahan": "15.71.05.1002"}
    no_nik = {"nik": "", "nama": "Bujang Selamat Riyadi", "tanggal_lahir": "1969-12-01", "jenis_kelamin": "L",
              "kode_kelurahan": "15.71.08.1003"}
    first = stage(sqlite_warehouse, P1, "pertanian", "pertanian_bibit", [newcomer, no_nik])
    settings = settings_for(sqlite_warehouse)
    link_period(settings, P1)
    m1 = links_of(sqlite_warehouse, P1)
    # Next month: submitted by other OPDs, written differently, in another order.
    second = stage(sqlite_warehouse, P2, "koperasi", "koperasi_pemberdayaan",
                   [dict(no_nik, nama="BUJANG SELAMAT RIYADI"), dict(newcomer, nama="wulan dari sukmawati")])
    link_period(settings, P2)
    m2 = links_of(sqlite_warehouse, P2)
    assert m1.at[first[0], "match_status"] == m2.at[second[1], "match_status"] == "new"
    assert m1.at[first[0], "person_key"] == m2.at[second[1], "person_key"]
    assert m1.at[first[1], "person_key"] == m2.at[second[0], "person_key"]
    assert m1.at[first[0], "person_key"] != m1.at[first[1], "person_key"]


def test_households(sqlite_warehouse, tmp_path, registry_persons):
    load_world(sqlite_warehouse, tmp_path, registry_persons)
    heads = people(registry_persons, 4, offset=80, role="kepala_keluarga")
    h1, h2, h3, h4 = heads
    members3 = registry_persons[registry_persons["id_keluarga"] == h3["id_keluarga"]]
    new_kk = h2["no_kk"][:6] + "011026" + "0777"
    kpm = [
        {"no_kk": h1["no_kk"], "nik": h1["nik"], "nama": h1["nama"], "kode_kelurahan": h1["kode_kelurahan"],
         "program": "PKH"},
        {"no_kk": h1["no_kk"], "nik": h1["nik"], "nama": h1["nama"], "kode_kelurahan": h1["kode_kelurahan"],
         "program": "BPNT"},
        # Pecah KK: a new KK not in the registry, the pengurus is a registry person -> the household follows them.
        {"no_kk": new_kk, "nik": h2["nik"], "nama": h2["nama"], "kode_kelurahan": h2["kode_kelurahan"],
         "program": "PKH"},
    ]
    ids_kpm = stage(sqlite_warehouse, P1, "dinsos", "dinsos_kpm", kpm)
    ids_perkim = stage(sqlite_warehouse, P1, "perkim", "perkim_rumah", [
        {"no_kk": h1["no_kk"], "nama": h1["nama"], "kode_kelurahan": h1["kode_kelurahan"], "jenis_bantuan": "RTLH"},
        {"no_kk": h4["no_kk"][:6] + "020226" + "0888", "nama": "Rumah Baru Sekali",
         "kode_kelurahan": h4["kode_kelurahan"], "jenis_bantuan": "JAMBAN"},
    ])
    # A kelurahan proposes as "new poor household" a family whose members are already in the registry (new KK).
    proposal_kk = h3["no_kk"][:6] + "030326" + "0999"
    proposal = [person_row(p, no_kk=proposal_kk, hubungan_keluarga=p["hubungan_keluarga"]) for _, p in
                members3.iterrows()]
    ids_prop = stage(sqlite_warehouse, P1, "kel-1571011001", "kelurahan_usulan", proposal)
    result = link_period(settings_for(sqlite_warehouse), P1)
    with session_scope(sqlite_warehouse) as s:
        hl = pd.DataFrame.from_records(
            s.execute(select(HouseholdLink.row_id, HouseholdLink.id_keluarga, HouseholdLink.match_status,
                             HouseholdLink.via, HouseholdLink.household_key, HouseholdLink.duplicate_of)
                      .where(HouseholdLink.period == P1)).all(),
            columns=["row_id", "id_keluarga", "match_status", "via", "household_key", "duplicate_of"]
        ).set_index("row_id")
    assert (hl.loc[ids_kpm[0], ["id_keluarga", "match_status", "via"]].tolist()
            == [h1["id_keluarga"], "linked", "no_kk"])
    assert hl.at[ids_kpm[1], "household_key"] == hl.at[ids_kpm[0], "household_key"] == hl.at[ids_perkim[0],
                                                                                               "household_key"]
    assert hl.loc[ids_kpm[2], ["id_keluarga", "via"]].tolist() == [h2["id_keluarga"], "person"]
    assert hl.at[ids_perkim[1], "match_status"] == "new"
    for rid in ids_prop:
        assert hl.loc[rid, ["match_status", "duplicate_of"]].tolist() == ["duplicate", h3["id_keluarga"]]
    assert result["households_matched"] == 2
    assert result["households_new"] == 1
    assert result["household_proposals_duplicate"] == 1
    assert result["households_deduplicated"] == 2  # the PKH+BPNT+Perkim rows of h1 are one household


@pytest.mark.postgres
def test_review_queue_empty_month_is_fine(pg_url, tmp_path):
    """A month with no rows and no registry: the step runs and reports zeros (the DAG's all_done path)."""
    from tkpk.warehouse import upgrade

    upgrade(pg_url)
    result = link_period(settings_for(pg_url), P1)
    assert result["rows"] == 0 and result["partitions"] == 0
