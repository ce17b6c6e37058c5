"""The matcher on plain files (issue 4, items 2, 4, 5, 8): the CLI contract on a small messy file with known answers,
the family guard (twins on one KK), determinism, partitioned == whole, NIK comparison levels."""

from __future__ import annotations

import csv
from datetime import date

import numpy as np
import pandas as pd
import pytest

from bench.linkage_evaluate import make_submission, score
from tkpk.cli import main as cli
from tkpk.linkage.compare import nik_levels
from tkpk.linkage.files import LINK_COLUMNS, link_frames

REFERENCE = date(2026, 10, 31)


def twins(persons: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Two children of one household born the same day (their NIKs differ in the serial only)."""
    kids = persons[persons["hubungan_keluarga"] == "anak"]
    dup = kids[kids.duplicated(["id_keluarga", "tanggal_lahir"], keep=False)].sort_values("id_art")
    first = dup.iloc[0]
    other = dup[(dup["id_keluarga"] == first["id_keluarga"]) & (dup["id_art"] != first["id_art"])].iloc[0]
    return first, other


def pick(persons, *, role=None, nik=True, skip=()):
    pool = persons[(persons["nik"] != "") if nik else slice(None)]
    if role:
        pool = pool[pool["hubungan_keluarga"] == role]
    pool = pool[~pool["id_art"].isin(skip)]
    return pool.iloc[len(skip) * 7 % max(len(pool), 1)]


@pytest.fixture(scope="module")
def contract_case(registry_persons, tmp_path_factory):
    """PERSONS.csv, a messy ROWS.csv and the expected answers (row_id -> id_art, or '' for a new person)."""
    reg = registry_persons
    used: list[str] = []

    def take(role=None):
        p = pick(reg, role=role, skip=tuple(used))
        used.append(p["id_art"])
        return p

    a, b, c, d, e, f, g, h = (take("kepala_keluarga") for _ in range(8))
    t1, t2 = twins(reg)
    used += [t1["id_art"], t2["id_art"]]
    i = take("istri")
    rows, expect = [], {}

    def add(rid, person, **cells):
        row = {"row_id": rid, "nik": person["nik"], "no_kk": "", "nama": person["nama"],
               "jenis_kelamin": person["jenis_kelamin"], "tanggal_lahir": person["tanggal_lahir"], "alamat": "",
               "rt": "", "rw": "", "kode_kelurahan": person["kode_kelurahan"]}
        row.update(cells)
        rows.append(row)
        expect[rid] = person["id_art"] if person is not None and "id_art" in person else ""

    def dmy(p, sep="/"):
        y, m, dd = p["tanggal_lahir"].split("-")
        return f"{dd}{sep}{m}{sep}{y}"

    add("r01", a, nik="'" + a["nik"], tanggal_lahir=dmy(a), jenis_kelamin="LAKI-LAKI" if a["jenis_kelamin"] == "L"
        else "Perempuan")
    add("r02", b, nik=f"{b['nik'][:6]}.{b['nik'][6:12]}.{b['nik'][12:]}", tanggal_lahir=dmy(b, "-"),
        kode_kelurahan=b["kode_kelurahan"].replace(".", ""), jenis_kelamin="1" if b["jenis_kelamin"] == "L" else "2")
    y, m, dd = c["tanggal_lahir"].split("-")
    bulan = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
             "November", "Desember"][int(m) - 1]
    add("r03", c, nik=c["nik"][:9] + c["nik"][10:], tanggal_lahir=f"{int(dd)} {bulan} {y}")  # 15 digits
    add("r04", d, nik=f"{d['nik'][0]}.{d['nik'][1:6]}E+15", nama=d["nama"].title())  # destroyed by Excel
    add("r05", e, nik="", nama="Hj. " + e["nama"].title() if e["jenis_kelamin"] == "P" else "H. " + e["nama"])
    add("r06", f, nik=f["nik"][:14] + f["nik"][15] + f["nik"][14])  # two digits swapped
    add("r07", g, nik="", nama=g["nama"], no_kk=g["no_kk"])
    add("r08", g, nik=g["nik"], nama=g["nama"].lower())  # the same person again, another OPD
    # Twins: each row must land on its own twin; a twin typed with the other twin's NIK must not be linked to them.
    add("r09", t1)
    add("r10", t2, nik="")
    add("r11", t2, nik=t1["nik"])
    add("r12", i, tanggal_lahir=dmy(i))
    # Persons not in the registry: one submitted twice, and a newborn of a registry household on its KK.
    new = {"nik": "", "nama": "Zulkarnain Pratama Wijaya", "jenis_kelamin": "L", "tanggal_lahir": "1977-03-05",
           "kode_kelurahan": "15.71.05.1002"}
    rows.append({"row_id": "r13", "no_kk": "", "alamat": "", "rt": "", "rw": "", **new})
    rows.append({"row_id": "r14", "no_kk": "", "alamat": "", "rt": "", "rw": "", **new,
                 "nama": "ZULKARNAIN PRATAMA WIJAYA"})
    rows.append({"row_id": "r15", "nik": h["nik"][:6] + "010526" + "7001", "no_kk": h["no_kk"],
                 "nama": "Bayi " + h["nama"].split()[-1], "jenis_kelamin": "L", "tanggal_lahir": "2026-05-01",
                 "alamat": "", "rt": "", "rw": "", "kode_kelurahan": h["kode_kelurahan"]})
    expect.update({"r13": "", "r14": "", "r15": ""})
    folder = tmp_path_factory.mktemp("contract")
    reg.drop(columns=["hubungan_keluarga"]).to_csv(folder / "persons.csv", index=False)
    with open(folder / "rows.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["row_id", "nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir",
                                           "alamat", "rt", "rw", "kode_kelurahan"])
        w.writeheader()
        w.writerows(rows)
    return folder, expect, (t1, t2)


def test_cli_contract_on_a_messy_file(contract_case, capsys):
    folder, expect, (t1, t2) = contract_case
    out = folder / "links.csv"
    assert cli(["link", "--registry", str(folder / "persons.csv"), "--submission", str(folder / "rows.csv"),
                "--out", str(out)]) == 0
    assert "tertaut" in capsys.readouterr().out
    links = pd.read_csv(out, dtype=str, keep_default_na=False).set_index("row_id")
    assert list(links.reset_index().columns[:7]) == LINK_COLUMNS
    assert sorted(links.index) == sorted(expect)
    for rid in ("r01", "r02", "r03", "r04", "r05", "r06", "r07", "r08", "r09", "r10", "r12"):
        assert links.at[rid, "match_status"] == "linked", (rid, links.loc[rid].to_dict())
        assert links.at[rid, "id_art"] == expect[rid], rid
        assert links.at[rid, "person_key"] == expect[rid]
        assert links.at[rid, "candidate_id_art"] == ""
    # A twin typed with the other twin's NIK: never linked to the twin whose NIK it carries.
    assert not (links.at["r11", "match_status"] == "linked" and links.at["r11", "id_art"] == t1["id_art"])
    for rid in ("r13", "r14", "r15"):
        assert links.at[rid, "match_status"] == "new", rid
        assert links.at[rid, "id_art"] == ""
    assert links.at["r13", "person_key"] == links.at["r14", "person_key"] != ""
    assert links.at["r13", "person_key"] != links.at["r15", "person_key"]
    assert links.at["r07", "person_key"] == links.at["r08", "person_key"]
    probability = links["match_probability"].astype(float)
    assert ((probability >= 0) & (probability <= 1)).all()
    assert links.loc["r01", "evidence"].startswith("nik=exact;nama=1.00")
    assert "nik=transpose" in links.at["r06", "evidence"]
    assert "nik=rusak_mirip" in links.at["r03", "evidence"]


def test_family_guard_twins(registry_persons, model):
    """Twins share KK, address and birth date and their NIKs differ in the serial: the name decides, and the NIK
    of one twin typed for the other must not pull the row onto the wrong twin."""
    t1, t2 = twins(registry_persons)
    rows = pd.DataFrame([
        {"row_id": "a", "nik": t2["nik"], "nama": t1["nama"], "tanggal_lahir": t1["tanggal_lahir"],
         "jenis_kelamin": t1["jenis_kelamin"], "kode_kelurahan": t1["kode_kelurahan"], "no_kk": t1["no_kk"]},
        {"row_id": "b", "nik": "", "nama": t1["nama"], "tanggal_lahir": t1["tanggal_lahir"],
         "jenis_kelamin": t1["jenis_kelamin"], "kode_kelurahan": t1["kode_kelurahan"], "no_kk": t1["no_kk"]},
        {"row_id": "c", "nik": "", "nama": t2["nama"], "tanggal_lahir": t2["tanggal_lahir"],
         "jenis_kelamin": t2["jenis_kelamin"], "kode_kelurahan": t2["kode_kelurahan"], "no_kk": t2["no_kk"]},
    ])
    links = link_frames(registry_persons, rows, model, reference=REFERENCE).set_index("row_id")
    assert links.at["a", "id_art"] != t2["id_art"]
    assert links.at["a", "match_status"] in ("linked", "review")
    if links.at["a", "match_status"] == "linked":
        assert links.at["a", "id_art"] == t1["id_art"]
    assert (links.at["b", "match_status"], links.at["b", "id_art"]) == ("linked", t1["id_art"])
    assert (links.at["c", "match_status"], links.at["c", "id_art"]) == ("linked", t2["id_art"])


@pytest.fixture(scope="module")
def month(registry_persons):
    rows, truth = make_submission(registry_persons, 600, seed=5)
    return rows, truth


def test_deterministic(registry_persons, month, model):
    rows, _ = month
    first = link_frames(registry_persons, rows, model, reference=REFERENCE)
    again = link_frames(registry_persons.sample(frac=1, random_state=3), rows, model, reference=REFERENCE)
    pd.testing.assert_frame_equal(first, again)


def test_partitioned_equals_whole(registry_persons, month, model):
    rows, truth = month
    whole = link_frames(registry_persons, rows, model, reference=REFERENCE)
    parts = link_frames(registry_persons, rows, model, reference=REFERENCE, by_partition=True)
    pd.testing.assert_frame_equal(whole, parts)
    metrics = score(whole, truth)
    assert metrics["precision"] >= 0.995 and metrics["recall"] >= 0.95, metrics
    assert metrics["review_share"] < 0.05


def test_nik_levels():
    a = np.array([1571012345670001] * 7 + [0], dtype=np.int64)
    b = np.array([1571012345670001, 1571012345670002, 1571012345670010, 1571012354670001, 1572012345670001,
                  1571012345679901, 1571012345570001, 1], dtype=np.int64)
    # exact, serial slip, serial digits swapped (0001/0010 is a swap, not one digit + carry), swap inside the birth
    # date, one digit in the region, same birth date other serial, slip in the birth date, missing
    assert nik_levels(a, b).tolist() == [1, 3, 4, 9, 2, 6, 9, 0]


def test_train_writes_a_new_deterministic_version(registry_persons, month, tmp_path):
    """`tkpk link train`: labelled pairs -> m, random pairs -> u; a new file, the same for the same input."""
    import json

    from tkpk.linkage.model import load_model, next_model_path
    from tkpk.linkage.train import train

    rows, truth = month
    version, default_path = next_model_path()
    assert default_path.name == f"person_v{version}.json"
    first, path = train(registry_persons, rows, truth, out=tmp_path / "a.json", reference=REFERENCE,
                        random_pairs_n=20_000)
    _, again = train(registry_persons, rows, truth, out=tmp_path / "b.json", reference=REFERENCE,
                     random_pairs_n=20_000)
    assert json.loads(path.read_text()) == json.loads(again.read_text())
    assert first.version == version and first.trained["method"] == "supervised"
    w = load_model(path).weights
    assert w["nik"][1] > 10 and w["nama"][8] > w["nama"][3] > w["nama"][1]  # exact NIK strong; names ordered
    assert w["tgl_lahir"][1] > 0 > w["tgl_lahir"][5]
    links = link_frames(registry_persons, rows, load_model(path), reference=REFERENCE)
    assert score(links, truth)["precision"] >= 0.99
