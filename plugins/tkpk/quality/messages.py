"""Indonesian messages for every check code, written for an OPD data officer who opens the file in Excel.

Check codes are stable identifiers stored with each finding; the message says what is wrong and what to do. Values
that may be personal data (NIK, No KK, names) are never put in a message: the finding's `value` carries the cell,
and callers mask it where it could reach a log or an e-mail.
"""

from __future__ import annotations

from datetime import date

from tkpk.period import BULAN

_LABELS = {
    "nik": "NIK",
    "no_kk": "No KK",
    "nik_pengurus": "NIK pengurus",
    "kode_kelurahan": "Kelurahan",
    "rt": "RT",
    "rw": "RW",
    "hpl": "HPL (hari perkiraan lahir)",
    "penerima_pip": "Penerima PIP",
    "usia_kehamilan_minggu": "Usia kehamilan (minggu)",
}


def column_label(column: str | None) -> str:
    if not column:
        return "Nilai"
    return _LABELS.get(column, column.replace("_", " ").capitalize())


def tanggal(d: date) -> str:
    """`31 Oktober 2026`."""
    return f"{d.day} {BULAN[d.month - 1]} {d.year}"


def _num(value) -> str:
    """16.800 for amounts; years and small numbers as written (2027, 45)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and abs(value) >= 10000:
        return f"{value:,}".replace(",", ".")
    return str(value)


def describe(check: str, column: str | None = None, **ctx) -> str:
    """The Indonesian message for a finding. `ctx` carries what the message may mention (allowed values, bounds, E,
    the decoded value of a NIK, the earlier row of a repeat); never the personal data itself."""
    # The column as the clerk's own file names it ("Kode Kel"), else a readable name of the canonical column.
    label = ctx.get("header") or column_label(column)
    e = ctx.get("end")
    e_text = tanggal(e) if isinstance(e, date) else "akhir periode"

    # --- file level (critical) ---
    if check == "berkas_kosong":
        return "Berkas kosong (0 byte). Kirim ulang berkas yang berisi data."
    if check == "berkas_terlalu_besar":
        return (f"Ukuran berkas {ctx.get('size_mb', '?')} MB melebihi batas {ctx.get('limit_mb', '?')} MB; berkas tidak "
                "dibuka. Pecah data menjadi beberapa berkas atau hubungi pengelola data.")
    if check == "dekompresi_berlebih":
        return ("Isi berkas jauh lebih besar daripada ukuran berkasnya (" + str(ctx.get("detail", "rasio kompresi tidak "
                "wajar")) + "); demi keamanan berkas tidak dibuka. Simpan ulang dari Excel sebagai .xlsx biasa.")
    if check == "berkas_terkunci" and ctx.get("ext") == "ods":
        return ("Berkas dilindungi kata sandi, sehingga tidak dapat dibaca. Buka di LibreOffice, pilih File > Simpan "
                "Sebagai, hilangkan centang 'Simpan dengan kata sandi', simpan, lalu kirim ulang.")
    if check == "berkas_terkunci":
        return ("Berkas dilindungi kata sandi, sehingga tidak dapat dibaca. Buka di Excel, hapus kata sandinya (File > Info "
                "> Protect Workbook > Encrypt with Password, kosongkan), simpan, lalu kirim ulang.")
    if check == "bukan_spreadsheet":
        return (f"Berkas bernama .{ctx.get('ext', '?')} tetapi isinya {ctx.get('actual', 'bukan lembar kerja')}. "
                "Kirim berkas Excel (.xlsx/.xls), ODS atau CSV yang asli.")
    if check == "format_tidak_didukung":
        return (f"Format berkas .{ctx.get('ext', '?')} tidak didukung. Gunakan .xlsx, .xls, .ods atau .csv "
                "(templat: `tkpk template`).")
    if check == "berkas_tidak_terbaca":
        detail = ctx.get("detail")
        extra = f" ({detail})" if detail else ""
        return f"Berkas tidak dapat dibaca{extra}. Buka di Excel, simpan ulang sebagai .xlsx, lalu kirim ulang."
    if check == "kolom_wajib_tidak_ada":
        aliases = [a for a in ctx.get("aliases") or [] if a != column]  # headers a clerk writes, not our name
        shown = ", ".join(f"'{a}'" for a in aliases[:6])
        where = f" di sheet '{ctx['sheet']}'" if ctx.get("sheet") else ""
        name = f"'{aliases[0]}'" if aliases else f"'{column_label(column)}'"
        text = f"Kolom wajib {name} tidak ditemukan{where}."
        if shown:
            text += f" Judul kolom yang dikenali: {shown}."
        if ctx.get("suggestion"):
            written, known = ctx["suggestion"]
            text += f" Kolom '{written}' di berkas mungkin maksudnya '{known}': perbaiki judul kolomnya."
        return text
    if check == "kolom_tidak_dikenal":
        return (f"Judul kolom '{ctx.get('header')}' tidak dikenali, sehingga kolom ini tidak dibaca. Mungkin "
                f"maksudnya '{ctx.get('known')}'? Perbaiki judul kolomnya lalu kirim ulang.")
    if check == "tidak_ada_baris_data":
        return "Tidak ada baris data di bawah baris judul kolom."
    if check == "terlalu_banyak_baris_salah":
        return (f"{ctx.get('errors')} dari {ctx.get('total')} baris ({ctx.get('share_pct')}%) mengandung kesalahan, "
                f"melebihi batas {ctx.get('limit_pct')}%. Berkas ditolak seluruhnya; perbaiki baris yang salah lalu "
                "kirim ulang.")
    if check == "berkas_ganda":
        return f"Berkas ini sama persis dengan berkas '{ctx.get('same_as')}' yang juga dikirim; hanya satu yang dibaca."
    if check == "berkas_lain_diabaikan":
        return "Berkas ini bukan lembar kerja (.xlsx/.xls/.ods/.csv) dan tidak dibaca."
    if check == "struktur_csv_rusak":
        return (f"Tanda kutip (\") di baris Excel {ctx.get('row', '?')} (baris teks {ctx.get('line', '?')}) tidak "
                f"ditutup dengan benar, sehingga {ctx.get('swallowed', '?')} baris sesudahnya terbaca sebagai satu sel. "
                "Berkas ditolak agar tidak ada baris yang hilang diam-diam; perbaiki tanda kutip di baris itu (atau "
                "simpan ulang dari Excel), lalu kirim ulang.")
    if check == "berkas_tautan_ditolak":
        return ("Berkas ini adalah tautan (symlink/shortcut) ke berkas lain, bukan berkas aslinya; demi keamanan tidak "
                "dibaca. Salin berkas aslinya ke folder kiriman.")
    if check == "berkas_khusus_ditolak":
        return ("Ini bukan berkas biasa (pipe, socket atau perangkat); demi keamanan tidak dibaca. Letakkan berkas "
                "lembar kerja biasa di folder kiriman.")
    if check == "berkas_masih_disalin":
        return (f"Berkas masih disalin (berubah kurang dari {_num(ctx.get('seconds', 120))} detik yang lalu), sehingga "
                "belum dibaca pada run ini agar tidak terbaca setengah jadi. Berkas dibaca pada run berikutnya; tidak "
                "perlu dikirim ulang.")
    if check == "lembar_terlalu_besar":
        detail = ctx.get("detail") or "lembar kerja terlalu besar"
        if ctx.get("far"):
            return (f"{detail}; berkas tidak dibuka. Biasanya ada isi (walau hanya spasi) di sel yang jauh di luar "
                    "tabel: hapus baris di bawah dan kolom di kanan tabel (blok, klik kanan > Hapus), simpan, lalu "
                    "kirim ulang.")
        return f"{detail}; berkas tidak dibuka. Pecah data menjadi beberapa berkas lalu kirim ulang."

    # --- row errors ---
    if check == "sel_terlalu_panjang":
        return (f"Isi sel {label} sepanjang {_num(ctx.get('length', '?'))} karakter melebihi batas "
                f"{_num(ctx.get('limit', '?'))} karakter per sel; baris tidak dimuat dan isinya hanya disimpan "
                "sebagian. Periksa sel itu (mungkin tertempel teks lain) lalu kirim ulang barisnya.")
    if check == "nik_mungkin_terpotong":
        return (f"{label} diketik sebagai angka di Excel. Excel hanya menyimpan 15 digit angka, sehingga digit terakhir "
                f"{label} ini mungkin berubah menjadi 0. Cocokkan dengan KTP/KK; ketik {label} sebagai teks (format "
                "sel Text, atau awali dengan tanda petik ') lalu kirim ulang bila salah.")
    if check == "karakter_kontrol_dihapus":
        return (f"{label} berisi karakter tak terlihat (karakter kontrol, mis. NUL) yang sudah dihapus; baris tetap "
                "dimuat. Periksa isinya di berkas asal.")
    if check == "wajib_diisi":
        return f"{label} wajib diisi."
    if check == "salah_satu_wajib_diisi":
        return "NIK atau No KK wajib diisi (minimal salah satu)."
    if check == "kolom_salah_satu_tidak_ada":
        return ("Kolom NIK maupun No KK tidak ditemukan; minimal salah satu wajib ada (judul kolom 'NIK' atau "
                "'No KK').")
    if check.startswith(("nik_", "kk_")) and check.split("_", 1)[1] in _NIK_PROBLEMS:
        return _NIK_PROBLEMS[check.split("_", 1)[1]](label, ctx)
    if check == "tanggal_tidak_terbaca":
        return (f"{label} tidak terbaca sebagai tanggal yang ada. Tulis tanggal seperti 31/12/1990 atau "
                "31 Desember 1990 (hari/bulan/tahun).")
    if check == "tanggal_tidak_lengkap":
        return f"{label} hanya berisi tahun; isi tanggal lengkap (hari/bulan/tahun)."
    if check == "tanggal_masa_depan":
        return f"{label} jatuh setelah akhir periode ({e_text}); tanggal di masa depan tidak mungkin."
    if check == "tanggal_terlalu_jauh":
        days = ctx.get("max_days")
        return f"{label} lebih dari {days} hari setelah akhir periode ({e_text})."
    if check == "tanggal_terlalu_lama":
        return f"{label} sebelum tahun 1900; periksa kembali tahunnya."
    if check == "kelurahan_tidak_dikenal":
        return (f"{label} tidak ditemukan di Kota Jambi. Isi kode Kemendagri (mis. 15.71.01.1001) atau nama "
                "kelurahan yang benar (mis. Simpang IV Sipin).")
    if check == "nilai_tidak_dikenal":
        allowed = ctx.get("allowed") or []
        return f"{label} harus salah satu dari: {', '.join(allowed)}."
    if check == "jenis_kelamin_tidak_dikenal":
        return f"{label} harus L (laki-laki) atau P (perempuan)."
    if check == "ya_tidak_tidak_dikenal":
        return f"{label} harus Y (ya) atau N (tidak)."
    if check == "rt_rw_tidak_valid":
        return f"{label} harus berupa nomor, misalnya 003."
    if check == "bukan_angka":
        return f"{label} harus berupa angka (contoh: 16800 atau Rp 16.800)."
    if check == "bukan_bilangan_bulat":
        return f"{label} harus bilangan bulat tanpa pecahan."
    if check == "di_bawah_minimum":
        return f"{label} paling kecil {_num(ctx.get('min'))}."
    if check == "di_atas_maksimum":
        return f"{label} paling besar {_num(ctx.get('max'))}."
    if check == "baris_ganda":
        return f"Baris ini sama persis dengan baris {ctx.get('first_row')}; hapus salah satunya."

    # --- row warnings ---
    if check == "baris_ada_di_berkas_lain":
        return (f"Baris ini sama dengan baris {ctx.get('same_row')} di berkas '{ctx.get('same_file')}' yang juga "
                "dikirim untuk periode ini; dimuat satu kali saja. Bila berkas ini menggantikan berkas itu, kirim "
                "ulang dengan `tkpk submit --replace`.")
    if check == "nik_kosong_diterima":
        return ("NIK kosong. Baris tetap diterima karena nama, tanggal lahir dan kelurahan lengkap; lengkapi NIK bila "
                "sudah ada.")
    if check == "nik_beda_tanggal_lahir":
        decoded = ctx.get("decoded")
        shown = f" ({tanggal(decoded)})" if isinstance(decoded, date) else ""
        return f"Tanggal lahir berbeda dengan tanggal lahir yang tersimpan di NIK{shown}. Periksa NIK atau tanggal lahir."
    if check == "nik_beda_jenis_kelamin":
        decoded = ctx.get("decoded")
        word = {"L": "laki-laki", "P": "perempuan"}.get(decoded or "", "jenis kelamin lain")
        return f"Jenis kelamin berbeda dengan NIK (NIK menunjukkan {word}). Periksa NIK atau jenis kelamin."
    if check == "nik_luar_kota_jambi":
        return f"{label} diterbitkan di luar Kota Jambi (kode wilayah {ctx.get('region', '?')}); periksa domisilinya."
    if check == "usia_tidak_wajar":
        lo, hi = ctx.get("age_min"), ctx.get("age_max")
        age = ctx.get("age")
        age_text = f"{age} tahun" if age is not None else "Usia"
        return f"Usia {age_text} pada {e_text} tidak wajar untuk program ini (wajar {lo}-{hi} tahun)."
    return f"{label}: pemeriksaan '{check}' gagal."


_NIK_PROBLEMS = {
    "notasi_ilmiah": lambda label, ctx: (
        f"{label} rusak oleh notasi ilmiah Excel (mis. 1,57E+15): digit terakhirnya sudah hilang. Ketik ulang "
        f"{label} dan format kolomnya sebagai Teks."),
    "bukan_angka": lambda label, ctx: f"{label} harus berisi 16 angka; ada huruf atau tanda lain.",
    "panjang_salah": lambda label, ctx: (
        f"{label} harus 16 digit; terbaca {ctx['digits']} digit." if ctx.get("digits") is not None
        else f"{label} harus 16 digit."),
    "placeholder": lambda label, ctx: (
        f"{label} berisi nomor pengganti (semua angka sama, atau diawali/diakhiri 0000), bukan {label} asli."),
    "kode_wilayah_salah": lambda label, ctx: f"Kode wilayah {label} (4 digit pertama) tidak ada.",
    "tanggal_salah": lambda label, ctx: f"Tanggal lahir di dalam {label} (digit ke-7 s.d. 12) bukan tanggal yang ada.",
}
