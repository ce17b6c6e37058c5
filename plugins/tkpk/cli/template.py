"""`tkpk template TYPE --out FILE.xlsx`: the official XLSX template of a submission type for OPD officers.

Sheet "Petunjuk" explains every column in Indonesian; sheet "Data" has the header (canonical column names, which
`tkpk validate` always recognises), drop-down lists for coded columns (enums, L/P, Y/N, kelurahan names from a
hidden "Referensi" sheet), NIK/No KK/RT/RW columns formatted as text so Excel cannot turn a NIK into 1,57E+15,
date columns formatted dd/mm/yyyy. Every text cell is written as a string, never as a formula.
"""

from __future__ import annotations

from pathlib import Path

DATA_ROWS = 5000
_KIND_HELP = {
    "nik": ("16 digit angka, ditulis sebagai teks (kolom ini sudah berformat Teks).", "1571014505900003"),
    "kk": ("16 digit angka No KK, ditulis sebagai teks.", "1571010101200001"),
    "name": ("Nama lengkap sesuai KTP/KK.", "SITI AMINAH"),
    "text": ("Teks bebas.", ""),
    "date": ("Tanggal hari/bulan/tahun, mis. 05/05/1990 atau 5 Mei 1990.", "05/05/1990"),
    "enum": ("Pilih dari daftar.", ""),
    "int": ("Bilangan bulat.", "10"),
    "amount": ("Nilai rupiah tanpa desimal, mis. 16800 (boleh ditulis Rp 16.800).", "16800"),
    "kelurahan": ("Nama kelurahan (pilih dari daftar) atau kode Kemendagri 15.71.01.1001.", "Simpang IV Sipin"),
    "sex": ("L (laki-laki) atau P (perempuan).", "P"),
    "yn": ("Y (ya) atau N (tidak).", "N"),
    "rtrw": ("Nomor RT/RW, mis. 003.", "003"),
}


def register(sub) -> None:
    from tkpk.cli.validate import strict_usage

    p = sub.add_parser("template", help="buat templat XLSX resmi untuk satu jenis kiriman")
    p.add_argument("type_code", metavar="JENIS", help="jenis kiriman, mis. disnaker_bpjstk")
    p.add_argument("--out", required=True, metavar="BERKAS.xlsx", help="berkas keluaran")
    strict_usage(p)
    p.set_defaults(func=run)


def write_template(stype, out: Path, *, common_aliases: dict | None = None, kelurahan=None) -> Path:
    import xlsxwriter

    from tkpk.normalize.kelurahan import KelurahanIndex

    kelurahan = kelurahan or KelurahanIndex.load()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(out), {"strings_to_formulas": False, "strings_to_urls": False})
    bold = wb.add_format({"bold": True})
    title = wb.add_format({"bold": True, "font_size": 14})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    text_fmt = wb.add_format({"num_format": "@"})
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    int_fmt = wb.add_format({"num_format": "0"})

    info = wb.add_worksheet("Petunjuk")
    data = wb.add_worksheet("Data")
    ref = wb.add_worksheet("Referensi")

    info.write_string(0, 0, f"Templat kiriman: {stype.name}", title)
    info.write_string(1, 0, f"Kode jenis kiriman: {stype.code}")
    notes = [
        "Cara mengisi:",
        "1. Isi data mulai baris 2 di sheet 'Data'. Jangan mengubah, menghapus atau menggeser baris judul kolom.",
        "2. Satu baris untuk satu " + ("keluarga." if stype.unit == "household" else "orang."),
        "3. NIK dan No KK harus 16 digit. Kolomnya sudah berformat Teks; jika menempel (paste) data, gunakan "
        "Paste Special > Values agar format Teks tidak hilang.",
        "4. Tanggal ditulis hari/bulan/tahun (05/05/1990). Jangan menulis tahun saja.",
        "5. Kolom berdaftar pilihan (panah di sel) hanya menerima nilai dari daftar.",
        "6. Jangan menambahkan baris JUMLAH atau tanda tangan di sheet 'Data' (boleh, tetapi tidak diperlukan).",
        "7. Sebelum mengirim, periksa berkas untuk bulan datanya, mis. Oktober 2026: tkpk validate BERKAS --type "
        + stype.code + " --period 2026-10 (tanpa --period: bulan lalu, periode yang diproses run bulanan).",
        "",
        "Baris yang salah tidak dimuat (dikarantina) dan dilaporkan kembali ke OPD; jika lebih dari "
        f"{round(stype.reject_error_share * 100)}% baris salah, seluruh berkas ditolak.",
    ]
    for i, line in enumerate(notes, start=3):
        info.write_string(i, 0, line, bold if i == 3 else None)
    start = len(notes) + 5
    for j, h in enumerate(["Kolom", "Wajib", "Isi", "Nilai yang boleh", "Judul lain yang dikenali", "Contoh"]):
        info.write_string(start, j, h, head)
    for i, col in enumerate(stype.columns, start=start + 1):
        help_text, example = _KIND_HELP.get(col.kind, ("", ""))
        allowed = ", ".join(col.values) if col.kind == "enum" else ""
        if col.kind == "enum":
            example = col.values[0]
        extra = []
        if col.min is not None:
            extra.append(f"minimal {col.min:g}")
        if col.max is not None:
            extra.append(f"maksimal {col.max:g}")
        if col.max_days_after_end:
            extra.append(f"boleh sampai {col.max_days_after_end} hari setelah akhir periode")
        if col.kind == "date" and not col.max_days_after_end:
            extra.append("tidak boleh setelah akhir periode")
        if col.default is not None:
            extra.append(f"jika kosong: {col.default}")
        if col.name == "nik" and stype.nik_optional_when:
            extra.append("boleh kosong jika nama, tanggal lahir dan kelurahan terisi (akan diberi peringatan)")
        aliases = ", ".join((*col.aliases, *(common_aliases or {}).get(col.name, ()))[:6])
        info.write_string(i, 0, col.name, bold)
        info.write_string(i, 1, "wajib" if col.required else "tidak wajib")
        info.write_string(i, 2, "; ".join([help_text, *extra]).strip("; "), wrap)
        info.write_string(i, 3, allowed, wrap)
        info.write_string(i, 4, aliases, wrap)
        info.write_string(i, 5, str(example))
    info.set_column(0, 0, 24)
    info.set_column(1, 1, 12)
    info.set_column(2, 2, 60)
    info.set_column(3, 4, 32)
    info.set_column(5, 5, 20)

    names = sorted(k.kelurahan for k in kelurahan.rows)
    ref.write_string(0, 0, "kode")
    ref.write_string(0, 1, "nama")
    for i, k in enumerate(sorted(kelurahan.rows, key=lambda r: r.kelurahan), start=1):
        ref.write_string(i, 0, k.kode_kelurahan)
        ref.write_string(i, 1, k.kelurahan)
    ref.hide()

    last = DATA_ROWS
    for j, col in enumerate(stype.columns):
        data.write_string(0, j, col.name, head)
        fmt = {"nik": text_fmt, "kk": text_fmt, "rtrw": text_fmt, "date": date_fmt, "int": int_fmt,
               "amount": int_fmt}.get(col.kind)
        data.set_column(j, j, 22 if col.kind in ("nik", "kk", "name", "text", "kelurahan") else 14, fmt)
        help_text, _ = _KIND_HELP.get(col.kind, ("", ""))
        options = {"input_title": col.name[:32], "input_message": help_text[:255]}
        if col.kind == "enum":
            options.update(validate="list", source=list(col.values))
        elif col.kind == "sex":
            options.update(validate="list", source=["L", "P"])
        elif col.kind == "yn":
            options.update(validate="list", source=["Y", "N"])
        elif col.kind == "kelurahan":
            options.update(validate="list", source=f"=Referensi!$B$2:$B${len(names) + 1}")
        elif col.kind in ("nik", "kk"):
            options.update(validate="length", criteria="==", value=16)
        else:
            options.update(validate="any")
        if options.get("validate") != "any":
            options.update(error_title="Nilai tidak valid",
                           error_message=("Harus 16 digit." if col.kind in ("nik", "kk")
                                          else "Pilih nilai dari daftar."))
        data.data_validation(1, j, last, j, options)
    data.freeze_panes(1, 0)
    data.activate()
    wb.close()
    return out


def run(args) -> int:
    from tkpk.cli import UsageError
    from tkpk.config import load_config
    from tkpk.settings import Settings

    settings = Settings.from_env()
    config = load_config(settings.config_dir)
    try:
        stype = config.types.get(args.type_code)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise UsageError("Berkas keluaran harus berakhiran .xlsx.")
    write_template(stype, out, common_aliases=config.types.common_aliases)
    print(f"Templat {stype.code} ditulis ke {out}.")
    return 0
