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


# --- encrypted legacy and OpenDocument workbooks (real files saved with a password by LibreOffice) -------------------

ENCRYPTED = [("pertanian_bibit_terkunci.xls", "pertanian_bibit", "pertanian"),
             ("perkim_rumah_terkunci.ods", "perkim_rumah", "perkim")]


def test_encrypted_fixtures_really_are_encrypted(files_dir):
    """Guard the fixtures themselves: the XLS carries a FILEPASS record right after BOF, the ODS manifest has
    encryption data, and the password (see files/README.md) opens the XLS."""
    import struct

    import msoffcrypto
    import olefile

    xls = (files_dir / "pertanian_bibit_terkunci.xls").read_bytes()
    with olefile.OleFileIO(io.BytesIO(xls)) as ole:
        stream = ole.openstream("Workbook").read()
    kind, length = struct.unpack_from("<HH", stream, 0)
    assert kind == 0x0809 and struct.unpack_from("<H", stream, 4 + length)[0] == 0x002F  # BOF, then FILEPASS
    office = msoffcrypto.OfficeFile(io.BytesIO(xls))
    office.load_key(password="rahasia")
    office.decrypt(io.BytesIO())
    with zipfile.ZipFile(files_dir / "perkim_rumah_terkunci.ods") as zf:
        assert b"manifest:encryption-data" in zf.read("META-INF/manifest.xml")
        assert zf.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"


@pytest.mark.parametrize("name,type_code,_opd", ENCRYPTED)
def test_encrypted_xls_and_ods_are_rejected_by_tkpk_validate(cli, files_dir, name, type_code, _opd):
    code, _out, _err, data = cli("validate", str(files_dir / name), "--type", type_code, "--period", PERIOD, "--json")
    assert code == 2 and data["status"] == "rejected"
    assert [(i["check"], i["severity"]) for i in data["issues"]] == [("berkas_terkunci", "critical")]
    assert "kata sandi" in data["issues"][0]["message"]


@pytest.mark.parametrize("name,type_code,opd", ENCRYPTED)
def test_encrypted_xls_and_ods_are_rejected_by_the_load(tmp_path, files_dir, name, type_code, opd):
    from sqlalchemy import select

    from tests.ingest.conftest import make_settings, put
    from tkpk.ingest import BatchRejected, load_submission
    from tkpk.warehouse import session_scope, upgrade
    from tkpk.warehouse.models import Finding

    settings = make_settings(tmp_path)
    upgrade(settings.database_url)
    put(settings, opd, files_dir / name)
    with pytest.raises(BatchRejected) as exc:
        load_submission(settings, PERIOD, opd, type_code)
    assert "kata sandi" in exc.value.message
    with session_scope(settings.database_url) as s:
        assert [(f.check, f.source_file) for f in s.scalars(select(Finding))] == [("berkas_terkunci", name)]


# --- sheet area (max_rows / max_cells) ---------------------------------------------------------------------------------


def _stray_xlsx(row: int, col: int, *, blank: bool = False) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.add_worksheet("Petunjuk").write_string(0, 0, "Isi sheet Data")
    ws = wb.add_worksheet("Data Bibit")
    for i in range(5):
        for j in range(4):
            ws.write_string(i, j, "x")
    if blank:
        ws.write_blank(row, col, None, wb.add_format({"bold": True}))  # formatting only: calamine skips it
    else:
        ws.write_string(row, col, " ")
    wb.close()
    return buf.getvalue()


def test_a_stray_far_cell_is_refused_before_calamine_builds_the_sheet():
    from tkpk.ingest.errors import FileRejected
    from tkpk.ingest.safety import inspect

    data = _stray_xlsx(100_000, 16_383)
    assert len(data) < 10_000
    started = time.perf_counter()
    with pytest.raises(FileRejected) as exc:
        inspect(data, "bibit.xlsx", limits())
    assert time.perf_counter() - started < 1
    assert exc.value.check == "lembar_terlalu_besar"
    assert "Lembar 'Data Bibit' terisi sampai sel XFD100001" in exc.value.message  # the name the officer sees
    assert "1.638.416.384 sel" in exc.value.message
    assert inspect(_stray_xlsx(100_000, 16_383, blank=True), "bibit.xlsx", limits()) == "xlsx"
    assert inspect(data, "bibit.xlsx", limits(max_cells=2_000_000_000)) == "xlsx"
    with pytest.raises(FileRejected, match="melebihi batas 50.000 baris"):
        inspect(_stray_xlsx(99_999, 3), "bibit.xlsx", limits(max_rows=50_000))


def _ods(table_xml: str, prolog: str = "") -> bytes:
    content = (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
               f'<table:table table:name="Rumah">{table_xml}</table:table>'
               '</office:spreadsheet></office:body></office:document-content>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", "<manifest/>")
    return buf.getvalue()


def test_ods_repeat_counts_count_only_for_filled_cells():
    from tkpk.ingest.errors import FileRejected
    from tkpk.ingest.safety import inspect

    header = '<table:table-row><table:table-cell office:value-type="string"><text:p>NIK</text:p></table:table-cell>' \
             '</table:table-row>'
    # LibreOffice writes the empty rest of a sheet as one repeated empty row: fine.
    empty_rest = ('<table:table-row table:number-rows-repeated="1048575">'
                  '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>')
    assert inspect(_ods(header + empty_rest), "rumah.ods", limits()) == "ods"
    # The same repeat on a filled cell is 17 billion cells for calamine.
    bomb = ('<table:table-row table:number-rows-repeated="1048575">'
            '<table:table-cell table:number-columns-repeated="16384" office:value-type="string"><text:p>x</text:p>'
            '</table:table-cell></table:table-row>')
    with pytest.raises(FileRejected) as exc:
        inspect(_ods(header + bomb), "rumah.ods", limits())
    assert exc.value.check == "lembar_terlalu_besar" and "Lembar 'Rumah'" in exc.value.message
    with pytest.raises(FileRejected) as exc:
        inspect(_ods(header, prolog='<!DOCTYPE x [<!ENTITY a "b">]>'), "rumah.ods", limits())
    assert exc.value.check == "berkas_tidak_terbaca" and "DTD" in exc.value.message


def test_csv_shape_is_checked_before_parsing():
    from tkpk.config import load_config
    from tkpk.ingest.errors import FileRejected
    from tkpk.ingest.read import read_csv
    from tkpk.settings import Settings

    config = load_config(Settings.from_env().config_dir)
    stype, aliases = config.types.get("pertanian_bibit"), config.types.aliases_for("pertanian_bibit")
    header = "NIK;Nama;Kelurahan;Jenis Bibit;Jumlah\n"
    row = "1571010101900001;Budi;Legok;Padi;10\n"
    # One line with 50,000 fields and 1,000 ordinary lines: the parsers would pad every line to 50,000 cells.
    wide = (header + ";" * 50_000 + "\n" + row * 1000).encode()
    with pytest.raises(FileRejected) as exc:
        read_csv(wide, stype, aliases, limits(max_cells=1_000_000))
    assert exc.value.check == "lembar_terlalu_besar" and "Berkas berisi 1.002 baris x 50.001 kolom" in exc.value.message
    # Semicolons inside quoted cells inflate the cheap estimate only: the exact count lets the file through.
    quoted = (header + ('1571010101900001;"' + ";" * 5_000 + '";Legok;Padi;10\n') + row * 300).encode()
    assert len(read_csv(quoted, stype, aliases, limits(max_cells=10_000))[0].frame) == 301
    with pytest.raises(FileRejected, match="melebihi batas 100 baris"):
        read_csv((header + row * 150).encode(), stype, aliases, limits(max_rows=100))


def test_a_cell_over_the_csv_module_field_limit_is_read():
    """The csv module refuses fields over 128 KB by default (_csv.Error, was bug 2): a long cell is kept."""
    from tkpk.config import load_config
    from tkpk.ingest.read import read_csv
    from tkpk.settings import Settings

    config = load_config(Settings.from_env().config_dir)
    stype, aliases = config.types.get("pertanian_bibit"), config.types.aliases_for("pertanian_bibit")
    data = ("NIK;Nama;Kelurahan;Jenis Bibit;Jumlah\n1571010101900001;" + "A" * 300_000 + ";Legok;Padi;10\n"
            "1571010101900002;Budi;Legok;Padi;10\n").encode()
    frame = read_csv(data, stype, aliases)[0].frame
    assert len(frame) == 2 and len(frame["nama"][0]) == 300_000


@pytest.mark.parametrize("text", ["Cannot detect file format", "Xml error: unexpected DOCTYPE",
                                  "Zip error: invalid Zip archive: Could not find EOCD", "Cfb error: invalid sector",
                                  "something nobody has seen before (errno 13)"])
def test_parser_errors_never_reach_the_message_in_english(text):
    from tkpk.ingest.read import _short
    from tkpk.quality.messages import describe

    message = describe("berkas_tidak_terbaca", detail=_short(RuntimeError(text)))
    assert text not in message and not any(w in message.lower() for w in ("error", "cannot", "invalid", "errno"))
    assert message.startswith("Berkas tidak dapat dibaca (")
