"""`tkpk review export --period P --out FILE.xlsx [--show-nik]` and `tkpk review import FILE.xlsx`: the steward's
queue of uncertain matches (see `tkpk.linkage.review`)."""

from __future__ import annotations

from tkpk.cli.options import add_period
from tkpk.settings import Settings


def register(sub) -> None:
    p = sub.add_parser("review", help="antrean tinjauan pencocokan yang meragukan (ekspor / impor XLSX)")
    ps = p.add_subparsers(dest="action", required=True)
    ex = ps.add_parser("export", help="tulis pasangan yang perlu ditinjau ke XLSX")
    add_period(ex)
    ex.add_argument("--out", required=True, help="berkas XLSX")
    ex.add_argument("--show-nik", action="store_true", help="tampilkan NIK dan No KK lengkap (hanya petugas berwenang)")
    ex.add_argument("--database-url", default=None)
    ex.set_defaults(func=run_export)
    im = ps.add_parser("import", help="baca keputusan dari XLSX tinjauan")
    im.add_argument("file", help="berkas XLSX hasil ekspor yang sudah diisi")
    im.add_argument("--by", default=None, metavar="NAMA",
                    help="nama petugas yang memutuskan, untuk jejak audit (bawaan: nama login)")
    im.add_argument("--database-url", default=None)
    im.set_defaults(func=run_import)


def run_export(args) -> int:
    from tkpk.linkage.review import export_review
    period = str(args.period)
    url = args.database_url or Settings.from_env().database_url
    n = export_review(url, period, args.out, show_nik=args.show_nik)
    masked = "lengkap" if args.show_nik else "disamarkan"
    print(f"{n} pasangan untuk ditinjau periode {period} ditulis ke {args.out} (NIK {masked}).")
    return 0


def run_import(args) -> int:
    import getpass

    from tkpk.linkage.review import ReviewFileError, import_review

    url = args.database_url or Settings.from_env().database_url
    actor = (args.by or "").strip() or getpass.getuser()
    try:
        counts = import_review(url, args.file, actor=actor)
    except ReviewFileError as exc:
        print(f"Berkas DITOLAK: {exc}")
        return 2
    print(f"Keputusan disimpan atas nama {actor}: cocok {counts['match']}, tidak cocok {counts['non_match']}, "
          f"dilewati {counts['skipped']}, tidak disimpan {counts['invalid']}. Berlaku mulai run berikutnya.")
    for row, reason in counts["problems"]:
        print(f"  baris {row}: {reason}")
    return 0
