"""`tkpk link`: match people to the base registry.

    tkpk link --registry PERSONS.csv --submission ROWS.csv --out LINKS.csv   files in, file out (no warehouse)
    tkpk link train --registry PERSONS.csv --submission ROWS.csv [--truth TRUTH.csv]   new model version
    tkpk link period --period 2026-10                                       the monthly step on the warehouse
"""

from __future__ import annotations

import time

from tkpk.cli import UsageError
from tkpk.cli.options import add_period
from tkpk.settings import Settings


def register(sub) -> None:
    p = sub.add_parser(
        "link", help="cocokkan orang dengan registri (berkas CSV/XLSX atau periode di gudang data)",
        description="Tanpa sub-perintah: --registry PERSONS.csv --submission ROWS.csv --out LINKS.csv "
                    "(hasil: row_id, id_art, match_status, match_probability, person_key, candidate_id_art, evidence).",
    )
    p.add_argument("--registry", help="persons.csv registri (id_art, id_keluarga, nik, no_kk, nama, ...)")
    p.add_argument("--submission", help="baris yang dikirim (row_id, nik, no_kk, nama, jenis_kelamin, ...)")
    p.add_argument("--out", help="berkas hasil LINKS.csv")
    p.add_argument("--model", default=None, help="berkas model (bawaan: versi tertinggi di linkage/model/)")
    p.add_argument("--by-partition", action="store_true", help="jalankan per kecamatan, seperti task Airflow")
    p.set_defaults(func=run_files)
    ps = p.add_subparsers(dest="action", metavar="SUB")

    tr = ps.add_parser("train", help="latih model baru dari data berlabel (atau EM tanpa label) dan simpan versinya")
    tr.add_argument("--registry", required=True)
    tr.add_argument("--submission", required=True)
    tr.add_argument("--truth", default=None, help="CSV row_id,id_art (id_art kosong = tidak ada di registri)")
    tr.add_argument("--out", default=None, help="berkas model (bawaan: linkage/model/person_v<N+1>.json)")
    tr.set_defaults(func=run_train)

    pe = ps.add_parser("period", help="jalankan langkah linkage bulanan di gudang data")
    add_period(pe)
    pe.add_argument("--database-url", default=None)
    pe.set_defaults(func=run_period)


def _n(value: int) -> str:
    """Indonesian thousands: 10.000."""
    from tkpk.reports.format import angka

    return angka(value)


def run_files(args) -> int:
    from tkpk.linkage.files import LinkInputError, link_files

    if not (args.registry and args.submission and args.out):
        raise UsageError("butuh --registry, --submission dan --out (atau sub-perintah train / period).")
    start = time.perf_counter()
    try:
        counts = link_files(args.registry, args.submission, args.out, model_path=args.model,
                            by_partition=args.by_partition)
    except LinkInputError as exc:
        print(f"Berkas DITOLAK: {exc}")
        return 2
    print(f"{_n(counts['rows'])} baris: tertaut {_n(counts['linked'])}, tinjauan {_n(counts['review'])}, "
          f"baru {_n(counts['new'])} (model v{counts['model_version']}, "
          f"{time.perf_counter() - start:.1f} detik).".replace(".0 detik", " detik"))
    print(f"Hasil ditulis ke {args.out}")
    return 0


def run_train(args) -> int:
    from tkpk.linkage.files import REGISTRY_COLUMNS, ROW_COLUMNS, LinkInputError, read_table
    from tkpk.linkage.train import describe, train

    try:
        persons = read_table(args.registry, REGISTRY_COLUMNS, required=["id_art", "nama"])
        rows = read_table(args.submission, ROW_COLUMNS, required=["row_id"])
        truth = read_table(args.truth, ["row_id", "id_art"], required=["row_id", "id_art"]) if args.truth else None
    except LinkInputError as exc:
        print(f"Berkas DITOLAK: {exc}")
        return 2
    if "id_keluarga" not in persons.columns:
        persons["id_keluarga"] = persons["id_art"]
    model, path = train(persons, rows, truth, out=args.out)
    for line in describe(model):
        print(line)
    print(f"Model v{model.version} disimpan di {path}")
    return 0


def run_period(args) -> int:
    from tkpk.linkage import link_period
    period = str(args.period)
    settings = Settings.from_env()
    if args.database_url:
        settings = Settings.from_env(database_url=args.database_url)
    result = link_period(settings, period)
    print(f"Linkage {period}: tertaut {result.get('linked', 0)}, tinjauan {result.get('review', 0)}, "
          f"baru {result.get('new', 0)}, duplikat lintas OPD {result.get('cross_opd_duplicates', 0)}; "
          f"keluarga cocok {result.get('households_matched', 0)}, baru {result.get('households_new', 0)}, "
          f"digabung {result.get('households_deduplicated', 0)}.")
    return 0
