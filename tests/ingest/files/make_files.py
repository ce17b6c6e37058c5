"""Write the messy OPD files of tests/ingest/files/ (run once; the outputs are committed).

Made by hand the way OPDs make them (Excel with title rows and a signature block, `;` Windows-1252 CSV from an
Indonesian-locale Excel, LibreOffice ODS, an old XLS, a workbook with a password, a PDF renamed .xlsx), NOT with the
project's synthetic generator. `tests/ingest/test_messy_files.py` states what the pipeline must decide for each.

    .venv/bin/python tests/ingest/files/make_files.py
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent


def disnaker_xlsx() -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "BPJS TK"
    ws["A1"] = "DAFTAR PESERTA BPJS KETENAGAKERJAAN BUKAN PENERIMA UPAH"
    ws["A2"] = "DINAS TENAGA KERJA KOTA JAMBI"
    ws["A3"] = "BULAN : OKTOBER 2026"
    header = ["No", "NIK KTP", "Nama Lengkap", "Tgl. Lahir", "L/P", "Desa/Kelurahan", "Jenis Pekerjaan", "TMT",
              "Iuran per Bulan"]
    for j, h in enumerate(header, start=1):
        ws.cell(5, j, h)
    for j in range(1, 10):  # the "(1) (2) (3)" row government tables print under the header
        ws.cell(6, j, j)
    rows = {
        7: [1, 1571014505900003, "Siti Aminah", datetime(1990, 5, 5), "P", "Simpang IV Sipin", "Pedagang",
            datetime(2026, 10, 1), "Rp 16.800,00"],
        8: [2, "1571010101850002", "Budi Santoso", "1 Januari 1985", "L", "15.71.01.1002", "Ojek", "01/10/2026",
            16800],
        9: [3, "157101010185000", "Andi", "01/01/1985", "L", "1571011003", "Buruh", "01-10-2026", 16800],
        11: [4, "1571014107000004", "Rina", "01/07/2030", "P", "Legok", "Penjahit", "1 Okt 2026", 16800],
        12: [5, "1571016006950005", "Dewi", "20/06/1995", "P", "Mendalo Darat", "Pedagang", "01/10/2026", 16800],
        13: [6, "1571011212500006", "Pak Tua", "12/12/1950", "L", "Murni", "Penjaga", "01/10/2026", 16800],
        14: [7, "1171010101900007", "Teuku Umar", "01/01/1990", "L", "Legok", "Nelayan", "01/10/2026", 16800],
        15: [8, "1571010202900008", "Joko", "03/02/1990", "L", "Selamat", "Tukang", "01/10/2026", 16800],
        16: [9, "1571014303900009", "Sari", "03/03/1990", "L", "Sungai Putri", "Buruh", "01/10/2026", 16800],
        17: [10, "1571010101850002", "Budi Santoso", "1 Januari 1985", "L", "15.71.01.1002", "Ojek", "01/10/2026",
             16800],
    }
    for r, values in rows.items():
        for j, v in enumerate(values, start=1):
            ws.cell(r, j, v)
    ws.cell(18, 1, "JUMLAH")
    ws.cell(18, 9, 168000)
    ws.cell(20, 7, "Jambi, 5 November 2026")
    ws.cell(21, 7, "Kepala Dinas Tenaga Kerja")
    ws.cell(24, 7, "Drs. H. AHMAD FAUZI, M.Si")
    ws.cell(25, 7, "NIP. 19700101 199803 1 001")
    wb.save(HERE / "disnaker_bpjstk_oktober.xlsx")


def dinsos_csv() -> None:
    lines = [
        "DATA KPM PKH/BPNT KOTA JAMBI;;;;;;;",
        "Periode: Oktober 2026;;;;;;;",
        ";;;;;;;",
        "No;No. KK;NIK Pengurus;Nama Pengurus;Kelurahan;Program;Status;Nilai Bantuan",
        "1;1571010101200001;1571014505900003;Siti Aminah;SIMPANG IV SIPIN;PKH;Aktif;Rp 3.000.000",
        "2;1571010101200002;1571010101850002;René Café;15.71.02.1002;bpnt;aktif;2.400.000",
        "3;1,57101E+15;1571010101850003;Agus;Legok;PBI JK;;504000",
        "4;1571010101200004;1571010101850004;Maryam;Kel. Solok Sipin;BLT;aktif;0",
        "5;1571010101200005;0000000000000000;Tono;Murni;PKH;graduasi;-",
        "6;1571010101200006;1571014101010006;Ani;Sungai Putri;PBI_JK;nonaktif;504.000",
        ";;;;;;;",
        ";;;JUMLAH;;;;5.904.000",
    ]
    (HERE / "dinsos_kpm_oktober.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def disdik_tab_csv() -> None:
    lines = [
        "NIK\tNama Siswa\tTgl Lahir\tJenis Kelamin\tJenjang Sekolah\tAsal Sekolah\tPIP",
        '="1571011508150001"\tAhmad Rizky\t15-08-2015\tLaki-laki\tSD\tSDN 47/IV Kota Jambi\tYa',
        "1571015508120002\tNur Hasanah\t15/08/2012\tPerempuan\tsmp\tSMPN 7 Kota Jambi\t",
        "1571010101100003\tDimas\t01/01/2010\tL\tMTs\tMTsN 1 Kota Jambi\tTidak",
        "1571010101950004\tBapak Guru\t01/01/1995\tL\tSMA\tSMAN 1 Kota Jambi\tN",
    ]
    (HERE / "disdik_siswa_tab.csv").write_bytes(b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode("utf-8"))


def perkim_ods() -> None:
    import pandas as pd

    title = pd.DataFrame([["REKAP BANTUAN RUMAH DINAS PERKIM TA 2026"]])
    data = pd.DataFrame({
        "No KK": ["1571010101200001", "1571010101200002", "1571010101200003"],
        "Nama KK": ["Ahmad", "Budi", "Citra"],
        "Kelurahan": ["Legok", "Murni", "Selamat"],
        "Jenis Bantuan": ["RTLH", "Jamban", "AIR BERSIH"],
        "Tahun Anggaran": [2026, 2028, 2025],
        "Progres": ["selesai", "proses", "usulan"],
    })
    with pd.ExcelWriter(HERE / "perkim_rumah.ods", engine="odf") as writer:
        title.to_excel(writer, sheet_name="Rekap Perkim", index=False, header=False, startrow=0)
        data.to_excel(writer, sheet_name="Rekap Perkim", index=False, startrow=2)


def pertanian_xls() -> None:
    import xlwt

    wb = xlwt.Workbook()
    ws = wb.add_sheet("Bibit")
    header = ["NIK", "Nama", "Kelurahan", "Komoditas", "Jumlah"]
    rows = [
        ["1571010101900001", "Tani A", "Legok", "Cabai", 100],
        ["1571010101900002", "Tani B", "Murni", "Bawang Merah", 0],
        ["1571010101900003", "Tani C", "Selamat", "JAGUNG", 12.5],
        ["1571014101900004", "Tani D", "Pasir Putih", "cabai", 250],
        ["1571014101900005", "Tani E", "Legok", "BAWANG MERAH", "1.500"],
    ]
    for j, h in enumerate(header):
        ws.write(0, j, h)
    for i, row in enumerate(rows, start=1):
        for j, v in enumerate(row):
            ws.write(i, j, v)
    wb.save(str(HERE / "pertanian_bibit.xls"))


def koperasi_multisheet() -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    info = wb.active
    info.title = "Petunjuk"
    for i, line in enumerate(["Petunjuk pengisian", "Kolom NIK diisi 16 digit", "Kolom Nama diisi nama lengkap",
                              "Kolom Kelurahan diisi nama kelurahan"], start=1):
        info.cell(i, 1, line)
    rekap = wb.create_sheet("Rekap")
    rekap.append(["Kelurahan", "Jumlah"])
    rekap.append(["Legok", 2])
    data = wb.create_sheet("Data")
    data.append(["NIK", "Nama", "Kelurahan", "Kegiatan", "Tanggal"])
    data.append(["1571010101900001", "Usaha A", "Legok", "Pelatihan", "12/10/2026"])
    data.append(["1571010101900002", "Usaha B", "legok", "bantuan usaha", datetime(2026, 10, 14)])
    old = wb.create_sheet("Lama")
    old.append(["NIK", "Nama", "Kelurahan", "Kegiatan", "Tanggal"])
    old.append(["1571010101900009", "Lama", "Legok", "Pelatihan", "12/09/2026"])
    old.sheet_state = "hidden"
    wb.save(HERE / "koperasi_pemberdayaan_multisheet.xlsx")


def dinkes_xlsx() -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Bumil"
    ws.append(["NIK", "Nama Ibu", "Tgl Lahir", "Kelurahan", "Usia Kehamilan (minggu)", "HPL"])
    ws.append([None, "Sumiati", "12/03/1998", "Legok", 20, "15/02/2027"])
    ws.append([None, "Rohani", "01/01/2000", None, 12, None])
    ws.append(["1571014404990003", "Lina", "04/04/1999", "Murni", 50, None])
    ws.append(["1571015505050004", "Mira", "15/05/2005", "Legok", 30, "01/01/2028"])
    ws.append(["1571016101970005", "Yani", "21/01/1997", "Selamat", 8, None])
    ws.append(["1571016202960006", "Ika", "22/02/1996", "Sungai Putri", None, None])
    wb.save(HERE / "dinkes_ibu_hamil.xlsx")


def kelurahan_csv() -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["No KK", "NIK", "Nama", "JK", "Tgl Lahir", "SHDK", "Alamat", "RT", "RW", "Kelurahan", "Alasan"])
    kk = "1571010101200009"
    w.writerow([kk, "1571010101700001", "SUPARMAN", "L", "01/01/1970", "Kepala Keluarga", "Jl. Sipin", "3", "2",
                "Simpang IV Sipin", '=HYPERLINK("http://contoh.example")'])
    w.writerow([kk, "1571014101750002", "SUMARNI", "P", "01/01/1975", "Istri", "Jl. Sipin", "003", "002",
                "Simpang IV Sipin", "+62 812 rumah rusak"])
    w.writerow([kk, "", "ANAK", "L", "05/05/2012", "Anak", "Jl. Sipin", "3", "2", "Simpang IV Sipin",
                "@anak putus sekolah"])
    w.writerow([kk, "", "ANAK", "L", "05/05/2012", "Anak", "Jl. Sipin", "3", "2", "Simpang IV Sipin",
                "@anak putus sekolah"])
    w.writerow([kk, "1571015505900003", "SITI", "P", "15/05/1990", "Famili Lain", "Jl. Sipin", "RT 03", "RW 02",
                "Simpang IV Sipin", "-kehilangan pekerjaan"])
    (HERE / "kelurahan_usulan.csv").write_text(buf.getvalue(), encoding="utf-8")


def disnaker_missing_columns() -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["NIK", "Jenis Kelamin", "Kelurahan", "TMT"])
    ws.append(["1571010101850002", "L", "Legok", "01/10/2026"])
    ws.append(["1571014505900003", "P", "Murni", "01/10/2026"])
    wb.save(HERE / "disnaker_kolom_hilang.xlsx")


def disdukcapil_mostly_bad() -> None:
    lines = [
        "NIK,No KK,Nama,Jenis Mutasi,Tanggal Peristiwa",
        "1571010101500001,1571010101200001,Almarhum A,MENINGGAL,03/10/2026",
        "15710101015,1571010101200002,B,MENINGGAL,04/10/2026",
        "1571010101500003,1571010101200003,C,PINDAH,05/10/2026",
        "1571010101500004,1571010101200004,D,LAHIR,31/02/2026",
    ]
    (HERE / "disdukcapil_mutasi_banyak_salah.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def header_only() -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["NIK", "Nama", "Kelurahan", "Komoditas", "Jumlah"])
    wb.save(HERE / "pertanian_hanya_judul.xlsx")


def impostors() -> None:
    (HERE / "kosong.csv").write_bytes(b"")
    pdf = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >>"
           b" endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
    (HERE / "laporan_sebenarnya_pdf.xlsx").write_bytes(pdf)
    (HERE / "catatan_sebenarnya_teks.xlsx").write_text("NIK;Nama\n1571010101900001;Budi\n", encoding="utf-8")


def encrypted() -> None:
    import msoffcrypto.format.ooxml
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["NIK", "Nama", "Kelurahan", "Komoditas", "Jumlah"])
    ws.append(["1571010101900001", "Tani A", "Legok", "Cabai", 100])
    plain = io.BytesIO()
    wb.save(plain)
    plain.seek(0)
    out = io.BytesIO()
    msoffcrypto.format.ooxml.OOXMLFile(plain).encrypt("rahasia", out)
    (HERE / "pertanian_terkunci.xlsx").write_bytes(out.getvalue())


def main() -> None:
    for make in (disnaker_xlsx, dinsos_csv, disdik_tab_csv, perkim_ods, pertanian_xls, koperasi_multisheet,
                 dinkes_xlsx, kelurahan_csv, disnaker_missing_columns, disdukcapil_mostly_bad, header_only,
                 impostors, encrypted):
        make()
    print("\n".join(sorted(p.name for p in HERE.iterdir() if p.suffix != ".py")))


if __name__ == "__main__":
    main()
