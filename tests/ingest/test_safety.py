"""File safety: size limit before parsing, zip bombs refused quickly, encrypted and mislabelled files rejected, and
archive names that cannot escape their folder."""

from __future__ import annotations

import dataclasses
import io
import time
import zipfile

import pytest

from tests.ingest.conftest import PERIOD


def limits(**kw):
    from tkpk.config.submissions import FileLimits

    return FileLimits(**kw)


def _xlsx_like(members: dict[str, bytes], level: int = 9) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>")
        zf.writestr("xl/workbook.xml", b"<workbook/>")
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_zip_bomb_is_refused_fast_from_the_member_table():
    from tkpk.ingest.errors import FileRejected
    from tkpk.ingest.safety import inspect

    bomb = _xlsx_like({"xl/worksheets/sheet1.xml": b"\0" * (64 * 1024 * 1024)})
    assert len(bomb) < 200_000  # 64 MB that packs into a few dozen KB
    started = time.perf_counter()
    with pytest.raises(FileRejected) as exc:
        inspect(bomb, "data.xlsx", limits())
    assert time.perf_counter() - started < 0.5
    assert exc.value.check == "dekompresi_berlebih"
    assert "rasio kompresi" in exc.value.message


def test_unpacked_size_over_the_limit_is_refused():
    import os

    from tkpk.ingest.errors import FileRejected
    from tkpk.ingest.safety import inspect

    data = _xlsx_like({"xl/worksheets/sheet1.xml": os.urandom(3 * 1024 * 1024)}, level=1)
    with pytest.raises(FileRejected) as exc:
        inspect(data, "data.xlsx", limits(max_uncompressed_mb=2))
    assert exc.value.check == "dekompresi_berlebih"
    assert inspect(data, "data.xlsx", limits(max_uncompressed_mb=10)) == "xlsx"


def test_zip_bomb_through_validate_file(tmp_path):
    from tkpk.ingest import validate_file

    path = tmp_path / "bom.xlsx"
    path.write_bytes(_xlsx_like({"xl/worksheets/sheet1.xml": b"<row/>" * (8 * 1024 * 1024)}))
    result = validate_file(path, "pertanian_bibit", PERIOD)
    assert not result.accepted and result.issues[0].check == "dekompresi_berlebih"


def test_size_limit_is_checked_before_the_file_is_read(tmp_path, monkeypatch, config):
    from pathlib import Path

    from tkpk.config.submissions import FileLimits
    from tkpk.ingest import validate_file

    path = tmp_path / "besar.csv"
    path.write_bytes(b"NIK;Nama\n" + b"1571010101900001;Budi\n" * 1000)
    small = dataclasses.replace(config, types=config.types.model_copy(update={"file_limits": FileLimits(
        max_file_mb=0.01)}))

    def never(self):
        raise AssertionError("the file must not be read")

    monkeypatch.setattr(Path, "read_bytes", never)
    result = validate_file(path, "pertanian_bibit", PERIOD, config=small)
    assert [f.check for f in result.issues] == ["berkas_terlalu_besar"]
    assert "MB" in result.issues[0].message


@pytest.mark.parametrize("name,data,check,fragment", [
    ("data.xlsx", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n", "bukan_spreadsheet", "PDF"),
    ("data.xlsx", b"NIK,Nama\n1571010101900001,Budi\n", "bukan_spreadsheet", "teks"),
    ("data.xls", b"<html><table><tr><td>NIK</td></tr></table></html>", "bukan_spreadsheet", "HTML"),
    ("data.csv", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + b"\0" * 64, "bukan_spreadsheet", "PNG"),
    ("data.pdf", b"%PDF-1.7\n", "format_tidak_didukung", ".pdf"),
    ("data.xlsx", b"", "berkas_kosong", "kosong"),
])
def test_content_sniffing(name, data, check, fragment):
    from tkpk.ingest.errors import FileRejected
    from tkpk.ingest.safety import inspect

    with pytest.raises(FileRejected) as exc:
        inspect(data, name, limits())
    assert exc.value.check == check
    assert fragment in exc.value.message


def test_zip_that_is_not_a_workbook_and_workbook_named_csv():
    from tkpk.ingest.errors import FileRejected
    from tkpk.ingest.safety import inspect

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", b"<w:document/>")
    with pytest.raises(FileRejected) as exc:
        inspect(buf.getvalue(), "data.xlsx", limits())
    assert exc.value.check == "bukan_spreadsheet"
    with pytest.raises(FileRejected) as exc:
        inspect(_xlsx_like({}), "data.csv", limits())
    assert exc.value.check == "bukan_spreadsheet" and "Excel" in exc.value.message


def test_encrypted_workbook_is_detected_before_parsing(files_dir):
    from tkpk.ingest.errors import FileRejected
    from tkpk.ingest.safety import inspect

    with pytest.raises(FileRejected) as exc:
        inspect((files_dir / "pertanian_terkunci.xlsx").read_bytes(), "x.xlsx", limits())
    assert exc.value.check == "berkas_terkunci" and "kata sandi" in exc.value.message


def test_old_xls_named_xlsx_is_rejected(files_dir):
    from tkpk.ingest.errors import FileRejected
    from tkpk.ingest.safety import inspect

    with pytest.raises(FileRejected) as exc:
        inspect((files_dir / "pertanian_bibit.xls").read_bytes(), "bibit.xlsx", limits())
    assert exc.value.check == "bukan_spreadsheet" and ".xls" in exc.value.message
    assert inspect((files_dir / "pertanian_bibit.xls").read_bytes(), "bibit.xls", limits()) == "xls"


@pytest.mark.parametrize("name,expected", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\Windows\\evil.xlsx", "evil.xlsx"),
    (".bashrc", "bashrc"),
    ("Data Oktober (1).xlsx", "Data_Oktober_1_.xlsx"),
    ("Peserta BPJS – Kelurahan Legok.csv", "Peserta_BPJS_Kelurahan_Legok.csv"),
    ("....", "berkas"),
])
def test_safe_names_cannot_escape_the_archive_folder(name, expected):
    from tkpk.ingest.load import safe_name

    assert safe_name(name) == expected
    assert "/" not in safe_name(name) and not safe_name(name).startswith(".")
