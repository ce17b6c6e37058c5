"""`tkpk submit` through the real process: the traps of issue #14 (a second file silently joining the batch, a
`--replace` that left the old file, a BPJS TK file landing in the Dinkes folder) and a row found in two files of
one batch loaded once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.journey.conftest import FILES, PERIOD

pytestmark = pytest.mark.xdist_group("journey")


def audit_rows(url):
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import AuditLog

    with session_scope(url) as s:
        return [(a.actor, a.action, a.opd_code, a.details) for a in s.scalars(select(AuditLog).order_by(AuditLog.at))]


def test_second_overlapping_file_asks_for_replace_or_add_and_replace_is_idempotent(journey, tmp_path):
    first = tmp_path / "kpm_oktober.csv"
    first.write_bytes((FILES / "dinsos_kpm_oktober.csv").read_bytes())
    corrected = tmp_path / "kpm_oktober_perbaikan.csv"
    corrected.write_bytes(first.read_bytes().replace(b"BLT", b"PKH"))
    folder = journey.folder("dinsos")

    p = journey.tkpk("submit", str(first), "--opd", "dinsos", "--period", PERIOD, "--by", "Rina")
    assert p.returncode == 0, p.stderr
    assert sorted(x.name for x in folder.iterdir()) == ["kpm_oktober.csv"]

    # The trap: the corrected file used to be placed next to the old one and both were loaded as one batch.
    p = journey.tkpk("submit", str(corrected), "--opd", "dinsos", "--period", PERIOD)
    assert p.returncode == 1
    assert "3 dari 4 baris berkas ini sudah ada di kpm_oktober.csv" in p.stderr
    assert "--replace" in p.stderr and "--add" in p.stderr and "Traceback" not in p.stderr
    assert sorted(x.name for x in folder.iterdir()) == ["kpm_oktober.csv"]

    # The same name is a clash too, whatever the content.
    renamed = tmp_path / "other" / "kpm_oktober.csv"
    renamed.parent.mkdir()
    renamed.write_bytes(corrected.read_bytes())
    p = journey.tkpk("submit", str(renamed), "--opd", "dinsos", "--period", PERIOD)
    assert p.returncode == 1 and "berkas bernama sama sudah ada: kpm_oktober.csv" in p.stderr

    p = journey.tkpk("submit", str(corrected), "--opd", "dinsos", "--period", PERIOD, "--replace", "--by", "Rina")
    assert p.returncode == 0, p.stderr
    assert "1 berkas lama dipindahkan" in p.stdout and "kpm_oktober.csv" in p.stdout
    assert sorted(x.name for x in folder.iterdir()) == ["_diganti", "kpm_oktober_perbaikan.csv"]
    assert [x.name.split("_", 1)[1] for x in (folder / "_diganti").iterdir()] == ["kpm_oktober.csv"]
    replaced = [a for a in audit_rows(journey.url) if a[1] == "submit_replace"]
    assert len(replaced) == 1 and replaced[0][0] == "Rina" and replaced[0][3]["replaced"] == ["kpm_oktober.csv"]

    # Idempotent: the same --replace again changes nothing and says so.
    p = journey.tkpk("submit", str(corrected), "--opd", "dinsos", "--period", PERIOD, "--replace")
    assert p.returncode == 0 and "Tidak ada yang diganti" in p.stdout
    assert sorted(x.name for x in folder.iterdir()) == ["_diganti", "kpm_oktober_perbaikan.csv"]
    assert len(list((folder / "_diganti").iterdir())) == 1


def test_replace_works_when_the_file_was_already_placed_beside_the_old_one(journey, tmp_path):
    """The second trap: the file had been placed next to the old one; `--replace` answered "sudah ada" and left the
    old file in the batch."""
    folder = journey.folder("dinsos")
    folder.mkdir(parents=True)
    (folder / "kpm_lama.csv").write_bytes((FILES / "dinsos_kpm_oktober.csv").read_bytes())
    corrected = tmp_path / "kpm_baru.csv"
    corrected.write_bytes((FILES / "dinsos_kpm_oktober.csv").read_bytes().replace(b"BLT", b"PKH"))
    (folder / "kpm_baru.csv").write_bytes(corrected.read_bytes())

    p = journey.tkpk("submit", str(corrected), "--opd", "dinsos", "--period", PERIOD, "--replace")
    assert p.returncode == 0, p.stderr
    assert "kini satu-satunya berkas" in p.stdout
    assert sorted(x.name for x in folder.iterdir()) == ["_diganti", "kpm_baru.csv"]


def test_add_places_a_second_part_and_shared_rows_load_once(journey, tmp_path):
    from tkpk.ingest import load_submission
    from tkpk.settings import Settings
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import Finding, StagedRow

    header = "No KK;NIK Pengurus;Nama Pengurus;Kelurahan;Program;Status;Nominal"
    a = ["1571010101200001;1571014505900003;Siti Aminah;Legok;PKH;aktif;3.000.000",
         "1571010101200002;1571010101850002;Budi Santoso;Murni;BPNT;aktif;2.400.000"]
    b = ["1571010101200003;1571010101850003;Agus;Selamat;PBI_JK;aktif;504.000",
         "1571010101200002;1571010101850002;BUDI  SANTOSO;murni;bpnt;aktif;2400000"]
    part1, part2 = tmp_path / "kpm_pkh.csv", tmp_path / "kpm_bpnt.csv"
    part1.write_text("\n".join([header, *a]) + "\n", encoding="utf-8")
    part2.write_text("\n".join([header, *b]) + "\n", encoding="utf-8")
    assert journey.tkpk("submit", str(part1), "--opd", "dinsos", "--period", PERIOD).returncode == 0
    p = journey.tkpk("submit", str(part2), "--opd", "dinsos", "--period", PERIOD, "--add")
    assert p.returncode == 0, p.stderr
    assert "satu batch" in p.stdout

    settings = Settings.from_env(database_url=journey.url, landing_url=journey.landing.as_uri(),
                                 archive_url=(journey.var / "archive").as_uri(), var_dir=journey.var)
    counts = load_submission(settings, PERIOD, "dinsos", "dinsos_kpm")
    assert (counts["rows_total"], counts["rows_accepted"], counts["rows_quarantined"]) == (3, 3, 0)
    with session_scope(journey.url) as s:
        staged = s.scalars(select(StagedRow.source_file).where(StagedRow.no_kk == "1571010101200002")).all()
        warn = s.scalars(select(Finding).where(Finding.check == "baris_ada_di_berkas_lain")).all()
    assert staged == ["kpm_pkh.csv"]
    assert len(warn) == 1 and warn[0].source_file == "kpm_bpnt.csv" and warn[0].row_number == 3
    assert "baris 3 di berkas 'kpm_pkh.csv'" in warn[0].message and warn[0].severity == "warning"


def test_file_of_another_type_is_refused_unless_overridden(journey):
    """The third trap: a BPJS TK file sent with --opd dinkes validated as "ibu hamil" and landed in Dinkes' folder."""
    source = FILES / "disnaker_bpjstk_oktober.xlsx"
    p = journey.tkpk("validate", str(source), "--type", "dinkes_ibu_hamil", "--period", PERIOD)
    assert "Catatan: berkas ini tampaknya data Peserta BPJS Ketenagakerjaan (Disnaker)" in p.stdout
    p = journey.tkpk("submit", str(source), "--opd", "dinkes", "--period", PERIOD)
    assert p.returncode == 2
    assert "Berkas ini tampaknya data Peserta BPJS Ketenagakerjaan (Disnaker) (disnaker_bpjstk)" in p.stdout
    assert "--jenis-lain" in p.stdout and not journey.folder("dinkes").exists()
    p = journey.tkpk("submit", str(source), "--opd", "dinkes", "--period", PERIOD, "--jenis-lain")
    assert p.returncode == 0, p.stderr + p.stdout
    assert [x.name for x in journey.folder("dinkes").iterdir()] == ["disnaker_bpjstk_oktober.xlsx"]
    # The right OPD is not bothered.
    p = journey.tkpk("submit", str(FILES / "dinkes_ibu_hamil.xlsx"), "--opd", "dinkes", "--period", PERIOD,
                     "--replace")
    assert p.returncode == 0, p.stderr + p.stdout
