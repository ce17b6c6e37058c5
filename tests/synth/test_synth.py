"""The synthetic Kota Jambi generator (`tkpk synth`): contract, realism targets, truth and determinism.

Small cities keep this fast: 400 households for two months (most tests), 5,000 households for two months where
shares need a moderate size (68 kelurahan, desil shares, life events).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tkpk.normalize.nik import decode_nik, normalize_nik
from tkpk.registry import HOUSEHOLD_COLUMNS, PERSON_COLUMNS

pytestmark = pytest.mark.xdist_group("synth")

PERIOD = "2026-10"
SNAPSHOT = date(2026, 9, 25)


def _generate(out: Path, households: int, seed: int, months: int = 2, mess: float = 1.0) -> dict:
    from tkpk.synth import generate

    return generate(out, PERIOD, households, seed, months=months, mess=mess)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth_small")
    return out, _generate(out, 400, seed=11)


@pytest.fixture(scope="module")
def moderate(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth_moderate")
    return out, _generate(out, 5000, seed=5)


def _read(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / name, dtype=str, keep_default_na=False)


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_city(small, tmp_path):
    out, _ = small
    again = tmp_path / "again"
    _generate(again, 400, seed=11)
    first, second = _hashes(out), _hashes(again)
    assert first == second
    assert any(k.endswith(".xlsx") for k in first) and any(k.endswith(".xls") for k in first)
    other = tmp_path / "other"
    _generate(other, 400, seed=12, months=1)
    assert (other / "registry" / "persons.csv").read_bytes() != (out / "registry" / "persons.csv").read_bytes()


def test_registry_has_the_contract_columns_and_values(small):
    out, result = small
    hh = _read(out, "registry/households.csv")
    pp = _read(out, "registry/persons.csv")
    assert list(hh.columns) == HOUSEHOLD_COLUMNS
    assert list(pp.columns) == PERSON_COLUMNS
    assert len(hh) == 400 and result["households"] == 400 and result["persons"] == len(pp)
    for df in (hh, pp):
        assert df["kode_kelurahan"].str.fullmatch(r"15\.71\.\d{2}\.\d{4}").all()
        assert df["no_kk"].str.fullmatch(r"\d{16}").all()
        assert df["rt"].str.fullmatch(r"\d{3}").all()
    assert pp["nik"].str.fullmatch(r"\d{16}").all() and pp["nik"].is_unique
    assert hh["no_kk"].is_unique and pp["id_art"].is_unique and hh["id_keluarga"].is_unique
    assert set(hh["desil"]) <= {""} | {str(i) for i in range(1, 11)}
    assert set(hh["status_kepemilikan_rumah"]) <= {"milik_sendiri", "sewa", "menumpang", "lainnya"}
    for col in ("rumah_tidak_layak", "sumber_air_layak", "jamban_sendiri"):
        assert set(hh[col]) <= {"Y", "N"}
    for col in ("disabilitas_berat", "hamil"):
        assert set(pp[col]) <= {"Y", "N"}
    assert pp["tanggal_lahir"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert set(pp["jenis_kelamin"]) == {"L", "P"}
    assert set(pp["hubungan_keluarga"]) <= {"kepala_keluarga", "istri", "suami", "anak", "cucu", "orang_tua",
                                            "famili_lain", "lainnya"}
    assert set(pp["pekerjaan_sektor"]) <= {"informal", "formal", "tidak_bekerja", "pelajar", "lainnya"}
    assert (pp.groupby("id_keluarga")["hubungan_keluarga"].apply(lambda s: (s == "kepala_keluarga").sum()) == 1).all()
    # Members carry their household's KK, address and kelurahan.
    merged = pp.merge(hh, on="id_keluarga", suffixes=("", "_hh"))
    for col in ("no_kk", "kode_kelurahan", "alamat", "rt", "rw"):
        assert (merged[col] == merged[f"{col}_hh"]).all()
    # The landing zone holds the same snapshot.
    landing = out / "landing" / "registry" / SNAPSHOT.isoformat()
    for name in ("households.csv", "persons.csv"):
        assert (landing / name).read_bytes() == (out / "registry" / name).read_bytes()


def test_school_levels_match_ages(small):
    out, _ = small
    pp = _read(out, "registry/persons.csv")
    born = pd.to_datetime(pp["tanggal_lahir"])
    age = (pd.Timestamp(SNAPSHOT) - born).dt.days / 365.25
    ranges = {"PAUD": (4, 7), "SD": (7, 13), "SMP": (13, 16), "SMA": (16, 19), "SMK": (16, 19), "PT": (19, 23)}
    for level, (lo, hi) in ranges.items():
        sel = pp["jenjang_sekolah"] == level
        assert ((age[sel] >= lo) & (age[sel] < hi)).all(), level
    assert (pp.loc[pp["jenjang_sekolah"] != "", "pekerjaan_sektor"] == "pelajar").all()
    assert (pp.loc[pp["hamil"] == "Y", "jenis_kelamin"] == "P").all()


def test_every_registry_nik_decodes_to_birth_date_and_sex(moderate):
    out, _ = moderate
    pp = _read(out, "registry/persons.csv")
    for row in pp.itertuples():
        info = decode_nik(row.nik, reference=SNAPSHOT)
        assert info is not None, row.id_art
        assert info.birth_date.isoformat() == row.tanggal_lahir, row.id_art
        assert info.jenis_kelamin == row.jenis_kelamin, row.id_art
    city = pp["nik"].str.startswith("1571")
    assert 0.10 < 1 - city.mean() < 0.20  # ~15% issued elsewhere
    # Issued in the city: the kecamatan of residence.
    assert (pp.loc[city, "nik"].str[4:6] == pp.loc[city, "kode_kelurahan"].str[6:8]).all()
    assert (pp["no_kk"].str[:4] == "1571").all()
    # Twins: same KK, same birth date, different NIK (serial) and name.
    twins = pp[pp.duplicated(["no_kk", "tanggal_lahir"], keep=False) & (pp["hubungan_keluarga"] == "anak")]
    assert len(twins) >= 2
    for _, group in twins.groupby(["no_kk", "tanggal_lahir"]):
        assert group["nik"].str[:6].nunique() == 1 and group["nik"].is_unique and group["nama"].is_unique


def test_moderate_city_covers_68_kelurahan_and_hits_desil_targets(moderate):
    out, _ = moderate
    hh = _read(out, "registry/households.csv")
    pp = _read(out, "registry/persons.csv")
    assert hh["kode_kelurahan"].nunique() == 68
    desil = pp.merge(hh[["id_keluarga", "desil"]], on="id_keluarga")["desil"]
    share1 = (desil == "1").mean()
    share14 = desil.isin(["1", "2", "3", "4"]).mean()
    assert 0.008 <= share1 <= 0.012
    assert 0.08 <= share14 <= 0.10
    # Housing follows poverty.
    low = hh["desil"].isin(["1", "2"])
    high = hh["desil"].isin(["8", "9", "10"])
    assert (hh.loc[low, "rumah_tidak_layak"] == "Y").mean() > 3 * (hh.loc[high, "rumah_tidak_layak"] == "Y").mean()
    assert 0.01 <= (pp["disabilitas_berat"] == "Y").mean() <= 0.02
    women = pp["jenis_kelamin"] == "P"
    assert 0.015 <= (pp.loc[women, "hamil"] == "Y").mean() <= 0.035
    assert (pp["pekerjaan_sektor"] == "informal").mean() > 0.1
    names = " ".join(pp["nama"])
    for token in ("MUHAMMAD", "KEMAS", "NYIMAS", "SAYID", "SYARIFAH", "SITI", " BIN ", " BINTI "):
        assert token in names, token


def test_every_submission_type_arrives_every_month(small, config):
    out, result = small
    truth = _read(out, "truth/submissions.csv")
    types = {t.code for t in config.types.types if not t.folder}  # kelurahan_verval: truth/verval.csv, see below
    for period in ("2026-10", "2026-11"):
        got = truth[truth["period"] == period]
        assert set(got["type"]) == types
        folders = {p.name for p in (out / "landing" / period).iterdir()}
        assert {o.code for o in config.opds.opds} <= folders
        assert any(re.fullmatch(r"kel-1571\d{6}", f) for f in folders)
    suffixes = {p.suffix for p in (out / "landing").rglob("*") if p.is_file()}
    assert {".xlsx", ".xls", ".csv"} <= suffixes
    assert result["rows"] == len(truth)


def test_truth_points_at_real_registry_ids(small):
    out, _ = small
    truth = _read(out, "truth/submissions.csv")
    pp = _read(out, "registry/persons.csv")
    hh = _read(out, "registry/households.csv")
    assert (truth["true_person_id"] != "").all()
    assert set(truth.loc[truth["id_art"] != "", "id_art"]) <= set(pp["id_art"])
    assert set(truth.loc[truth["id_keluarga"] != "", "id_keluarga"]) <= set(hh["id_keluarga"])
    registry_rows = truth["id_art"] != ""
    assert (truth.loc[registry_rows, "true_person_id"] == truth.loc[registry_rows, "id_art"]).all()
    assert (truth.loc[~registry_rows, "facts"].str.contains("not_in_registry|newborn")).all()
    assert registry_rows.mean() > 0.8  # mostly registry people
    # A person of the registry keeps one id across OPDs; some are reported by two OPDs.
    per_person = truth[truth["period"] == "2026-10"].drop_duplicates(["true_person_id", "opd_code"])
    assert (per_person.groupby("true_person_id").size() >= 2).any()


def _sheet_rows(path: Path, sheet: str) -> list[list]:
    if path.suffix == ".csv":
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252")
        sep = ";" if text.count(";") > text.count(",") else ","
        return list(csv.reader(io.StringIO(text), delimiter=sep))
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def test_excel_row_numbers_in_the_truth_match_the_files(small):
    out, _ = small
    truth = _read(out, "truth/submissions.csv")
    nik_by_person = _read(out, "registry/persons.csv").set_index("id_art")["nik"]
    checked = 0
    for file, rows in truth.groupby("file"):
        sheet = _sheet_rows(out / "landing" / file, rows["sheet"].iloc[0])
        data_rows = set(rows["row_number"].astype(int))
        for number, line in enumerate(sheet, start=1):
            first = str(line[0]).strip().upper() if line else ""
            if number not in data_rows:  # titles, header, blanks and the total row are not data
                assert first != "" or not any(str(c).strip() for c in line) or number < min(data_rows) \
                    or first == "JUMLAH", (file, number)
        for row in rows.itertuples():
            line = sheet[int(row.row_number) - 1]
            assert any(str(c).strip() for c in line), (file, row.row_number)
            if row.id_art and not re.search(r"nik_|kk_", row.mess) and row.type != "perkim_rumah":
                values = {normalize_nik(c) for c in line}
                assert nik_by_person[row.id_art] in values, (file, row.row_number)
                checked += 1
    assert checked > 300


def test_exactly_one_rejected_file_per_month(small, config):
    out, _ = small
    manifest = json.loads((out / "truth" / "manifest.json").read_text())
    truth = _read(out, "truth/submissions.csv")
    assert [r["period"] for r in manifest["rejected"]] == ["2026-10", "2026-11"]
    from tkpk.config.submissions import header_key

    for rejected in manifest["rejected"]:
        rows = truth[truth["file"] == rejected["file"]]
        assert len(rows) >= 4 and (rows["expected_error"] == "Y").all()
        assert rows["facts"].str.contains("file_rejected").all()
        how, column = rejected["reason"].split(":")
        sheet = _sheet_rows(out / "landing" / rejected["file"], rows["sheet"].iloc[0])
        header = sheet[int(rows["row_number"].astype(int).min()) - 2]
        aliases = config.types.aliases_for(rejected["type"])
        mapped = {aliases.get(header_key(h)) for h in header}
        if how == "missing_column":
            assert column not in mapped
        else:  # more than half of its rows broken
            assert rows["mess"].str.contains("nik_sci").mean() > 0.5
    others = truth[~truth["file"].isin([r["file"] for r in manifest["rejected"]])]
    assert not others.empty and (others.groupby("file")["expected_error"].apply(lambda s: (s == "Y").mean())
                                 < 0.5).all()


def test_the_mess_is_there_and_recorded(moderate):
    out, _ = moderate
    truth = _read(out, "truth/submissions.csv")
    manifest = json.loads((out / "truth" / "manifest.json").read_text())
    codes = set(";".join(truth["mess"]).split(";")) - {""}
    for code in ("name_variant", "name_typo", "nik_typo", "nik_number", "nik_sci", "date_swap", "date_text",
                 "kel_name", "kel_unknown", "repeat"):
        assert code in codes, code
    files = manifest["files"]
    assert any(f["title"] for f in files) and any(f["total_row"] for f in files)
    assert any(f["encoding"] == "cp1252" and f["sep"] == ";" for f in files)
    assert any(h != c for f in files for c, h in f["headers"].items())  # aliases used
    # No personal data in what generate() returns.
    result = moderate[1]
    assert not re.search(r"\d{16}", json.dumps(result))


def test_months_carry_the_events_of_life(moderate):
    out, _ = moderate
    events = _read(out, "truth/events.csv")
    assert {"LAHIR", "MENINGGAL", "PINDAH_KELUAR", "PINDAH_DATANG"} <= set(events["jenis_mutasi"])
    truth = _read(out, "truth/submissions.csv")
    capil = truth[truth["type"] == "disdukcapil_mutasi"]
    assert capil["true_person_id"].str.startswith("B").any()  # newborns reported
    dinkes = [set(truth[(truth["type"] == "dinkes_ibu_hamil") & (truth["period"] == p)]["true_person_id"])
              for p in ("2026-10", "2026-11")]
    assert dinkes[0] - dinkes[1] and dinkes[1] - dinkes[0]  # births end pregnancies, new ones start
    for period in ("2026-10", "2026-11"):
        path = next((out / "landing" / period / "dinsos").glob("*PKH*"))
        cells = {str(c).lower() for row in _sheet_rows(path, _sheet_of(truth, path, out)) for c in row}
        assert "graduasi" in cells  # PKH graduations every month


def _sheet_of(truth: pd.DataFrame, path: Path, out: Path) -> str:
    rel = str(path.relative_to(out / "landing"))
    return truth.loc[truth["file"] == rel, "sheet"].iloc[0]


def test_mess_rate_zero_gives_tidy_files(tmp_path):
    out = tmp_path / "tidy"
    _generate(out, 300, seed=2, months=1, mess=0.0)
    truth = _read(out, "truth/submissions.csv")
    manifest = json.loads((out / "truth" / "manifest.json").read_text())
    rejected = {r["file"] for r in manifest["rejected"]}
    assert len(rejected) == 1
    tidy = truth[~truth["file"].isin(rejected)]
    assert (tidy["mess"] == "").all()
    assert (tidy["row_number"].astype(int).groupby(tidy["file"]).min() == 2).all()  # header on row 1, no titles


def test_cli_writes_and_refuses_a_foreign_folder(tmp_path, capsys):
    from tkpk.cli import main

    out = tmp_path / "cli"
    assert main(["synth", "--out", str(out), "--period", PERIOD, "--households", "60", "--seed", "4"]) == 0
    text = capsys.readouterr().out
    assert "keluarga" in text and "ditolak" in text and (out / "truth" / "manifest.json").exists()
    # A second run replaces its own earlier output ...
    assert main(["synth", "--out", str(out), "--period", PERIOD, "--households", "60", "--seed", "4"]) == 0
    # ... but never a folder it did not write.
    foreign = tmp_path / "foreign"
    (foreign / "landing").mkdir(parents=True)
    (foreign / "landing" / "keep.txt").write_text("x")
    assert main(["synth", "--out", str(foreign), "--period", PERIOD, "--households", "60"]) == 1
    assert (foreign / "landing" / "keep.txt").exists()
    assert main(["synth", "--out", str(out), "--period", "2026-13", "--households", "60"]) == 1


def test_name_variants_are_the_ones_officers_type():
    import numpy as np

    from tkpk.synth.names import name_typo, name_variant

    rng = np.random.default_rng(0)
    seen = {name_variant("MUHAMMAD RIDWAN BIN AHMAD", False, rng) for _ in range(1000)}
    assert {"M. RIDWAN BIN AHMAD", "MHD RIDWAN BIN AHMAD", "MUHAMMAD RIDWAN"} <= seen
    assert any(v.startswith(("H. ", "DRS. ")) for v in seen)
    kemas = {name_variant("KEMAS JUNAIDI", False, rng) for _ in range(100)}
    assert "KMS. JUNAIDI" in kemas and "KEMAS DJUNAIDI" in kemas
    assert name_typo("SYARIFAH AISYAH", rng) != "SYARIFAH AISYAH"


def test_registry_snapshot_loads_into_the_warehouse(small, warehouse):
    from tkpk.registry import load_snapshot

    out, result = small
    loaded = load_snapshot(warehouse, str(out / "landing" / "registry" / SNAPSHOT.isoformat()), SNAPSHOT)
    assert loaded["households"] == 400 and loaded["persons"] == result["persons"]
    assert loaded["problems"] == []


def test_a_type_added_in_yaml_gets_a_file_without_code(tmp_path):
    """Adding a submission type (or a column) is YAML only: synth still writes it, columns filled by kind."""
    import shutil

    import yaml

    from tkpk.config import load_config

    root = Path(__file__).resolve().parents[2]
    cfg_dir = tmp_path / "config"
    shutil.copytree(root / "include" / "config", cfg_dir)
    types = yaml.safe_load((cfg_dir / "submission_types.yaml").read_text())
    types["types"].append({"code": "dinsos_lansia", "name": "Lansia Terlantar", "unit": "person", "columns": [
        {"name": "nik", "kind": "nik"}, {"name": "nama", "kind": "name"},
        {"name": "kode_kelurahan", "kind": "kelurahan"},
        {"name": "jenis_layanan", "kind": "enum", "values": ["HOME_CARE", "PANTI"]},
        {"name": "tanggal_layanan", "kind": "date"}]})
    types["types"][0]["columns"].append({"name": "bank_penyalur", "kind": "text", "required": False})
    (cfg_dir / "submission_types.yaml").write_text(yaml.safe_dump(types, allow_unicode=True))
    opds = yaml.safe_load((cfg_dir / "opds.yaml").read_text())
    opds["opds"][0]["submissions"].append("dinsos_lansia")
    (cfg_dir / "opds.yaml").write_text(yaml.safe_dump(opds, allow_unicode=True))
    load_config.cache_clear()
    from tkpk.synth import generate

    result = generate(tmp_path / "out", PERIOD, 200, 3, config_dir=cfg_dir)
    assert result["rows_per_type"][PERIOD]["dinsos_lansia"] >= 6
    truth = _read(tmp_path / "out", "truth/submissions.csv")
    file = truth.loc[truth["type"] == "dinsos_lansia", "file"].iloc[0]
    assert file.startswith(f"{PERIOD}/{opds['opds'][0]['code']}/")


def test_verval_folders_carry_their_faults_in_known_proportions(small, tmp_path):
    """`tkpk synth` writes verval sheets and geotagged photos; the photo checks find exactly the planted faults."""
    from tkpk.cli.verval import check_dir
    from tkpk.config import load_config
    from tkpk.period import Period
    from tkpk.settings import Settings
    from tkpk.synth.verval import FAULT_CYCLE

    out, _ = small
    truth = _read(out, "truth/verval.csv")
    assert len(truth) >= 40 and set(truth["period"]) == {"2026-10", "2026-11"}
    share = truth["fault"].value_counts(normalize=True)
    assert abs(share["ok"] - FAULT_CYCLE.count("ok") / len(FAULT_CYCLE)) < 0.1
    settings = Settings.from_env(database_url=f"sqlite:///{tmp_path / 'w.db'}")
    config = load_config(settings.config_dir)
    for (period, opd), rows in truth.groupby(["period", "opd_code"]):
        folder = out / "landing" / period / opd / "verval"
        result = check_dir(folder, Period.parse(period), settings, config)
        got = {r.row: sorted({f["check"] for f in r.flags}) for r in result.rows}
        expected = {int(r["row"]): sorted(set(filter(None, r["faults"].split(";")))) for r in rows.to_dict("records")}
        assert got == expected, (period, opd)
