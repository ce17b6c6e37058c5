"""Header matching through the real `tkpk validate`: a misspelled optional header is no longer dropped silently, a
misspelled required one is named with its likely meaning, and every message names the column as the clerk wrote it
(`--json` keeps `column` canonical and adds `header`)."""

from __future__ import annotations

import json

import pytest

from tests.journey.conftest import PERIOD

pytestmark = pytest.mark.xdist_group("journey")

ROWS = ["1571014505900003;Siti Aminah;05/05/1990;P;Legok;Ojek;01/10/2026;16800",
        "1571010101850002;Budi;01/01/1985;X;Kelurahan Entah;Buruh;01/10/2026;16800"]


def write(tmp_path, header: str):
    path = tmp_path / "bpjs.csv"
    path.write_text("\n".join([header, *ROWS]) + "\n", encoding="utf-8")
    return path


def test_misspelled_headers_are_suggested_and_messages_use_the_clerks_headers(journey, tmp_path):
    source = write(tmp_path, "NIK;Nama;Tgl Lahir;L/P;Kode Kel;Pekerjan;Mulai Kepesertan;Iuran")
    p = journey.tkpk("validate", str(source), "--type", "disnaker_bpjstk", "--period", PERIOD)
    assert p.returncode == 2, p.stderr
    assert "Kolom 'Mulai Kepesertan' di berkas mungkin maksudnya 'Mulai Kepesertaan'" in p.stdout
    assert "Judul kolom 'Pekerjan' tidak dikenali, sehingga kolom ini tidak dibaca. Mungkin maksudnya 'Pekerjaan'" \
        in p.stdout
    assert "tanggal_mulai" not in p.stdout and "kode_kelurahan" not in p.stdout
    assert "tidak ada yang dipakai karena berkas ditolak" in p.stdout and "valid" not in p.stdout

    source = write(tmp_path, "NIK;Nama;Tgl Lahir;L/P;Kode Kel;Pekerjan;Mulai Kepesertaan;Iuran")
    p = journey.tkpk("validate", str(source), "--type", "disnaker_bpjstk", "--period", PERIOD, "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    by_check = {i["check"]: i for i in data["issues"]}
    assert by_check["kolom_tidak_dikenal"]["column"] == "pekerjaan"
    assert by_check["kolom_tidak_dikenal"]["header"] == "Pekerjan"
    assert by_check["kolom_tidak_dikenal"]["severity"] == "warning"
    kel = by_check["kelurahan_tidak_dikenal"]
    assert (kel["column"], kel["header"], kel["row"]) == ("kode_kelurahan", "Kode Kel", 3)
    assert kel["message"].startswith("Kode Kel tidak ditemukan di Kota Jambi")
    sex = by_check["jenis_kelamin_tidak_dikenal"]
    assert (sex["column"], sex["header"]) == ("jenis_kelamin", "L/P") and sex["message"].startswith("L/P harus")
    assert (data["rows_total"], data["rows_valid"]) == (2, 1)


def test_the_steward_view_shows_the_clerks_header_for_a_quarantined_row(journey, tmp_path):
    """The Karantina page names the column as the OPD wrote it ("Kode Kel"), from the finding's stored header."""
    from tkpk.ingest import load_submission
    from tkpk.settings import Settings
    from tkpk.workspace import quarantine_batches, quarantine_page

    source = write(tmp_path, "NIK;Nama;Tgl Lahir;L/P;Kode Kel;Pekerjaan;Mulai Kepesertaan;Iuran")
    placed = journey.tkpk("submit", str(source), "--opd", "disnaker", "--period", PERIOD)
    assert placed.returncode == 0, placed.stderr
    settings = Settings.from_env(database_url=journey.url, landing_url=journey.landing.as_uri(),
                                 archive_url=(journey.var / "archive").as_uri(), var_dir=journey.var)
    load_submission(settings, PERIOD, "disnaker", "disnaker_bpjstk")
    batch = quarantine_batches(journey.url, PERIOD)[0]
    rows, total = quarantine_page(journey.url, batch["batch_id"], offset=0, limit=50)
    assert total == len(rows) >= 1
    kel = next(r for r in rows if r["column"] == "kode_kelurahan")
    assert (kel["header"], kel["row_number"]) == ("Kode Kel", 3)
