"""`tkpk validate`, `tkpk template` and `tkpk submit`: the JSON contract, exit codes, Indonesian output, the official
template round trip, and placing a checked file in the landing zone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ingest.conftest import PERIOD

ROOT = Path(__file__).resolve().parents[2]
ISSUE_KEYS = {"sheet", "row", "column", "header", "check", "severity", "message", "value"}


def test_json_contract(cli, files_dir):
    code, _out, err, data = cli("validate", str(files_dir / "dinsos_kpm_oktober.csv"), "--type", "dinsos_kpm",
                                "--period", PERIOD, "--json")
    assert code == 0, err
    assert set(data) == {"file", "type", "status", "rows_total", "rows_valid", "issues", "records"}
    assert data["file"] == str(files_dir / "dinsos_kpm_oktober.csv") and data["type"] == "dinsos_kpm"
    assert all(set(i) == ISSUE_KEYS for i in data["issues"])
    assert all(i["sheet"] is None for i in data["issues"])  # a CSV has no sheet
    assert [r["row"] for r in data["records"]] == [5, 6, 10]
    assert set(data["records"][0]) == {"row", "no_kk", "nik_pengurus", "nama_pengurus", "kode_kelurahan", "program",
                                       "status_kepesertaan", "nominal"}


def test_rejected_file_exit_2_with_json(cli, files_dir):
    code, out, _err, data = cli("validate", str(files_dir / "disnaker_kolom_hilang.xlsx"), "--type",
                                "disnaker_bpjstk", "--period", PERIOD, "--json")
    assert code == 2 and data["status"] == "rejected" and data["records"] == []
    assert out.count("\n") == 1  # one object, one line


@pytest.mark.parametrize("args,fragment", [
    (["--type", "bukan_jenis"], "tidak dikenal"),
    (["--type", "dinsos_kpm", "--period", "2026-13"], "YYYY-MM"),
])
def test_usage_errors_exit_1_on_stderr_without_json(cli, files_dir, args, fragment):
    code, out, err, _data = cli("validate", str(files_dir / "dinsos_kpm_oktober.csv"), *args, "--json")
    assert code == 1 and out == "" and fragment in err


def test_missing_file_and_missing_type_exit_1(cli, tmp_path):
    code, out, err, _ = cli("validate", str(tmp_path / "tidak_ada.xlsx"), "--type", "dinsos_kpm", "--json")
    assert (code, out) == (1, "") and "tidak ditemukan" in err
    code, out, err, _ = cli("validate", str(tmp_path / "tidak_ada.xlsx"))
    assert (code, out) == (1, "") and "--type" in err
    code, out, err, _ = cli("validate", str(tmp_path / "tidak_ada.xlsx"), "--type", "dinsos_kpm", "--jsn")
    assert (code, out) == (1, "") and "--jsn" in err


def test_human_output_is_indonesian(cli, files_dir):
    code, out, _err, _ = cli("validate", str(files_dir / "disnaker_bpjstk_oktober.xlsx"), "--type", "disnaker_bpjstk",
                             "--period", PERIOD)
    assert code == 0
    assert "Hasil    : DITERIMA" in out and "Periode  : Oktober 2026" in out
    assert "[GALAT] sheet 'BPJS TK', baris 9, kolom 'NIK KTP': NIK KTP harus 16 digit" in out
    assert "[PERINGATAN]" in out
    code, out, _err, _ = cli("validate", str(files_dir / "pertanian_terkunci.xlsx"), "--type", "pertanian_bibit")
    assert code == 2 and "DITOLAK" in out and "kata sandi" in out


def test_console_script_exit_codes(files_dir, tmp_path):
    """The real process: exit code 2 and the JSON on stdout for a rejected file."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "plugins"), "TKPK_HOME": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "tkpk", "validate", str(files_dir / "kosong.csv"), "--type",
                           "dinsos_kpm", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert json.loads(proc.stdout)["issues"][0]["check"] == "berkas_kosong"


def test_template_round_trip(cli, tmp_path):
    import openpyxl

    out = tmp_path / "templat_usulan.xlsx"
    code, stdout, _err, _ = cli("template", "kelurahan_usulan", "--out", str(out))
    assert code == 0 and "ditulis" in stdout
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Petunjuk", "Data", "Referensi"]
    assert wb["Referensi"].sheet_state == "hidden"
    data = wb["Data"]
    header = [c.value for c in data[1]]
    assert header[:4] == ["no_kk", "nik", "nama", "jenis_kelamin"]
    def column_format(col: int) -> str:
        return next(d.number_format for d in data.column_dimensions.values() if d.min <= col <= d.max)

    # NIK and No KK typed into the template stay text; dates show day first.
    assert column_format(header.index("nik") + 1) == "@" and column_format(header.index("no_kk") + 1) == "@"
    assert column_format(header.index("tanggal_lahir") + 1) == "dd/mm/yyyy"
    lists = {next(iter(dv.sqref.ranges)).min_col: dv.formula1 for dv in data.data_validations.dataValidation
             if dv.type == "list"}
    assert lists[header.index("jenis_kelamin") + 1] == '"L,P"'
    assert "kepala_keluarga" in lists[header.index("hubungan_keluarga") + 1]
    assert lists[header.index("kode_kelurahan") + 1].startswith("Referensi!")
    assert "Petunjuk" in wb.sheetnames and "16 digit" in " ".join(
        str(c.value) for row in wb["Petunjuk"].iter_rows() for c in row if c.value)

    # An officer fills the template in Excel and checks it.
    values = {"no_kk": "1571010101200009", "nik": "1571010101700001", "nama": "SUPARMAN", "jenis_kelamin": "L",
              "tanggal_lahir": "01/01/1970", "hubungan_keluarga": "kepala_keluarga", "alamat": "Jl. Sipin",
              "rt": "003", "rw": "002", "kode_kelurahan": "Simpang IV Sipin", "alasan_usulan": "rumah rusak"}
    for j, name in enumerate(header, start=1):
        data.cell(2, j, values[name])
    wb.save(out)
    code, _stdout, _err, result = cli("validate", str(out), "--type", "kelurahan_usulan", "--period", PERIOD,
                                      "--json")
    assert code == 0 and result["issues"] == []
    assert result["records"] == [{"row": 2, **values, "tanggal_lahir": "1970-01-01",
                                  "kode_kelurahan": "15.71.01.1001"}]


def test_template_unknown_type_and_bad_extension(cli, tmp_path):
    assert cli("template", "tidak_ada", "--out", str(tmp_path / "x.xlsx"))[0] == 1
    assert cli("template", "dinsos_kpm", "--out", str(tmp_path / "x.csv"))[0] == 1


@pytest.fixture
def landing(tmp_path, monkeypatch) -> Path:
    from tkpk.warehouse import upgrade

    root = tmp_path / "landing"
    monkeypatch.setenv("TKPK_LANDING_URL", root.as_uri())
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    monkeypatch.setenv("TKPK_DATABASE_URL", url)  # submit records who placed or replaced a file
    upgrade(url)
    return root


def test_submit_places_an_accepted_file_under_a_safe_name(cli, files_dir, tmp_path, landing):
    source = tmp_path / "Data KPM Oktober (dari WA).csv"
    source.write_bytes((files_dir / "dinsos_kpm_oktober.csv").read_bytes())
    code, out, err, _ = cli("submit", str(source), "--opd", "dinsos", "--period", PERIOD)
    assert code == 0, err
    placed = landing / PERIOD / "dinsos" / "Data_KPM_Oktober_dari_WA_.csv"
    assert placed.read_bytes() == source.read_bytes() and "ditaruh" in out

    code, out, _err, _ = cli("submit", str(source), "--opd", "dinsos", "--period", PERIOD)
    assert code == 0 and "sudah ada" in out
    assert len(list((landing / PERIOD / "dinsos").iterdir())) == 1

    corrected = tmp_path / "kpm_perbaikan.csv"
    corrected.write_bytes(source.read_bytes().replace(b"BLT", b"PKH"))
    code, out, _err, _ = cli("submit", str(corrected), "--opd", "dinsos", "--period", PERIOD, "--replace")
    assert code == 0 and "_diganti" in out
    names = sorted(p.name for p in (landing / PERIOD / "dinsos").iterdir())
    assert names == ["_diganti", "kpm_perbaikan.csv"]


def test_submit_refuses_a_rejected_file(cli, files_dir, landing):
    code, out, _err, _ = cli("submit", str(files_dir / "disnaker_kolom_hilang.xlsx"), "--opd", "disnaker",
                             "--period", PERIOD)
    assert code == 2 and "TIDAK ditaruh" in out
    assert not (landing / PERIOD / "disnaker").exists()


def test_submit_usage_errors(cli, files_dir, landing):
    assert cli("submit", str(files_dir / "dinsos_kpm_oktober.csv"), "--opd", "dinas_x", "--period", PERIOD)[0] == 1
    code, _out, err, _ = cli("submit", str(files_dir / "dinsos_kpm_oktober.csv"), "--opd", "dinsos", "--period",
                             PERIOD, "--type", "disdik_siswa")
    assert code == 1 and "tidak mengirim" in err
