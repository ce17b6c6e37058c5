"""`tkpk verval check DIR --period YYYY-MM [--json]`: check a verval folder (the filled list and its photos) exactly
as the monthly load will, for a kelurahan operator before sending and for a steward after.

Like `tkpk validate`: exit 0 accepted (even with photo findings), 2 rejected (a sheet rejected or no sheet), 1 a
usage error. `--json` prints validate's object (`status`, `rows_total`, `rows_valid`, `issues[]`) plus
`rows_lengkap` and `rows[]`: one entry per data row with its status and photo flags, NIK and No KK masked. Photos
seen in earlier months are looked up in the warehouse when it is reachable (read only).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tkpk.cli.options import add_period
from tkpk.cli.validate import strict_usage
from tkpk.quality.findings import SEVERITY_LABEL

TYPE = "kelurahan_verval"
HUMAN_LIMIT = 60


def register(sub) -> None:
    p = sub.add_parser("verval", help="hasil verifikasi lapangan (verval) dengan foto",
                       description="Verifikasi lapangan (verval): periksa lembar kerja dan foto sebelum dikirim.")
    vsub = p.add_subparsers(dest="verval_command", metavar="PERINTAH")
    c = vsub.add_parser("check", help="periksa folder verval (lembar kerja + foto) tanpa memuatnya",
                        description="Memeriksa folder verval persis seperti pemuatan bulanan. Kode keluar: 0 diterima, "
                                    "2 ditolak, 1 salah pemakaian.")
    c.add_argument("dir", metavar="FOLDER", help="folder berisi lembar kerja verval dan foto (lepas atau satu zip)")
    add_period(c, help="periode laporan (tanggal acuan = hari terakhir)")
    c.add_argument("--json", action="store_true", help="cetak hasil sebagai satu objek JSON")
    strict_usage(c)
    c.set_defaults(func=run_check)
    p.set_defaults(func=lambda args: (p.print_help(), 1)[1])


def folder_items(folder: Path) -> list:
    from tkpk.ingest.landing import ignored_name
    from tkpk.verval.folder import Item

    return [Item.local(p) for p in sorted(folder.rglob("*")) if p.is_file() and not ignored_name(p.name)]


def _known(settings, period):
    """Photos of earlier months from the warehouse; None (and a note on stderr) when it cannot be read."""
    try:
        from tkpk.verval.store import known_photos
        from tkpk.warehouse import session_scope

        with session_scope(settings.database_url) as s:
            return known_photos(s, period)
    except Exception as exc:  # noqa: BLE001 - the check works without history; say so
        print(f"Catatan: gudang data tidak terbaca ({type(exc).__name__}); foto bulan-bulan sebelumnya tidak "
              "dibandingkan.", file=sys.stderr)
        return None


def check_dir(folder: Path, period, settings, config, known=None):
    from tkpk.ingest.validate import validate_file
    from tkpk.normalize.kelurahan import KelurahanIndex
    from tkpk.verval.folder import check_folder

    stype = config.types.get(TYPE)

    def validate(item):
        result = validate_file(item.url, TYPE, period, settings=settings, config=config)
        result.file = item.name
        return result

    return check_folder(folder_items(folder), stype, period.end, validate=validate, limits=config.types.file_limits,
                        reference_dir=settings.reference_dir, known=known,
                        kelurahan=KelurahanIndex.load(settings.reference_dir))


def to_json(result, folder: str, period) -> dict:
    from tkpk.normalize.nik import mask, mask_text

    issues = []
    for r in result.sheets:
        for f in r.issues:
            issue = f.as_issue()
            issue["file"] = r.file
            if issue.get("value"):
                issue["value"] = mask_text(str(issue["value"]))
            issues.append(issue)
    for f in result.findings:
        issues.append({**f.as_issue(), "file": f.file})
    rows = []
    for r in result.rows:
        rows.append({
            "file": r.file, "sheet": r.sheet, "row": r.row, "status": r.status,
            "nik": mask(r.nik) if r.nik else None, "no_kk": mask(r.no_kk) if r.no_kk else None,
            "kode_kelurahan": r.kode_kelurahan, "hasil_verifikasi": r.hasil_verifikasi,
            "flags": [dict(f) for f in r.flags],
        })
    quarantined = []
    for r in result.sheets:
        if r.quarantined is not None:
            for rec in r.quarantined.to_dict(orient="records"):
                quarantined.append({"file": r.file, "sheet": rec.get("_sheet"), "row": int(rec["_row"]),
                                    "status": "perlu_perbaikan", "quarantined": True,
                                    "nik": mask(rec.get("nik")) if rec.get("nik") else None,
                                    "no_kk": mask(rec.get("no_kk")) if rec.get("no_kk") else None,
                                    "kode_kelurahan": rec.get("kode_kelurahan") or None,
                                    "hasil_verifikasi": rec.get("hasil_verifikasi") or None, "flags": []})
    rows = sorted(rows + quarantined, key=lambda x: (x["file"], x["sheet"] or "", x["row"]))
    return {
        "dir": folder,
        "type": TYPE,
        "period": str(period),
        "status": "accepted" if result.accepted else "rejected",
        "rows_total": sum(r.rows_total for r in result.sheets),
        "rows_valid": sum(r.rows_valid for r in result.sheets),
        "rows_lengkap": result.rows_lengkap,
        "photos": len(result.photos),
        "issues": issues,
        "rows": rows,
    }


def run_check(args) -> int:
    from tkpk.cli import UsageError
    from tkpk.config import load_config
    from tkpk.settings import Settings

    settings = Settings.from_env()
    config = load_config(settings.config_dir)
    period = args.period
    folder = Path(args.dir)
    if not folder.is_dir():
        raise UsageError(f"Folder '{args.dir}' tidak ditemukan.")
    result = check_dir(folder, period, settings, config, _known(settings, period))
    if not result.sheets:
        from tkpk.ingest.validate import ValidationResult
        from tkpk.quality.findings import CRITICAL, Finding

        empty = ValidationResult(file=str(folder), type=TYPE, period=str(period), status="rejected")
        empty.issues.append(Finding("berkas_tidak_terbaca", CRITICAL, "Tidak ada lembar kerja (.xlsx/.xls/.ods/.csv) "
                                    "di folder ini; hasil verval harus dikirim bersama daftarnya.", file=None))
        result.sheets.append(empty)
    data = to_json(result, args.dir, period)
    if args.json:
        json.dump(data, sys.stdout, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
    else:
        print_human(data, period)
    return 0 if data["status"] == "accepted" else 2


def print_human(data: dict, period, out=None) -> None:
    w = (out or sys.stdout).write
    w(f"Folder   : {data['dir']}\n")
    w(f"Periode  : {period.label()}\n")
    w(f"Hasil    : {'DITERIMA' if data['status'] == 'accepted' else 'DITOLAK'}\n")
    w(f"Baris    : {data['rows_total']} baris data, {data['rows_valid']} valid, {data['rows_lengkap']} lengkap "
      f"(foto rumah tanpa temuan), {data['photos']} foto\n")
    shown = 0
    if data["issues"]:
        w("\nTemuan lembar kerja dan folder:\n")
        for i in data["issues"][:HUMAN_LIMIT]:
            place = ", ".join(x for x in (i.get("file") or "", f"baris {i['row']}" if i.get("row") else "",
                                          f"kolom {i['column']}" if i.get("column") else "") if x)
            w(f"  [{SEVERITY_LABEL.get(i['severity'], i['severity'])}] {place or 'folder'}: {i['message']}\n")
            shown += 1
    flagged = [r for r in data["rows"] if r["flags"]]
    if flagged:
        w("\nTemuan foto per baris (PERINGATAN: baris tetap dimuat, status perlu_perbaikan bila foto rumah):\n")
        for r in flagged:
            for f in r["flags"]:
                if shown >= HUMAN_LIMIT:
                    break
                w(f"  {r['file']} baris {r['row']} [{f['check']}]: {f['message']}\n")
                shown += 1
    total = len(data["issues"]) + sum(len(r["flags"]) for r in flagged)
    if total > shown:
        w(f"  ... dan {total - shown} temuan lain (gunakan --json untuk daftar lengkap).\n")
