"""`tkpk synth`: write a synthetic Kota Jambi (registry snapshot, months of OPD files, truth) for tests and demos."""

from __future__ import annotations

from pathlib import Path

from tkpk.cli import UsageError
from tkpk.cli.options import add_period


def register(sub) -> None:
    p = sub.add_parser("synth", help="buat data sintetis Kota Jambi (registri, kiriman OPD, kebenaran)",
                       description="Menulis snapshot registri, kiriman OPD bulanan (XLSX/XLS/CSV, dengan kekacauan "
                                   "seperti berkas asli) dan kunci kebenaran ke folder --out.")
    p.add_argument("--out", required=True, help="folder keluaran (registry/, landing/, truth/)")
    add_period(p, help="bulan pertama, YYYY-MM (misalnya 2026-10)")
    p.add_argument("--households", type=int, default=3000, help="jumlah keluarga di registri (kota: 170000)")
    p.add_argument("--seed", type=int, default=1, help="benih acak; argumen sama = berkas sama persis")
    p.add_argument("--months", type=int, default=1, help="jumlah bulan berturut-turut (default 1)")
    p.add_argument("--mess-rate", type=float, default=1.0,
                   help="pengali tingkat kekacauan berkas (0 = rapi, 1 = seperti biasa, 2 = dua kali lipat)")
    p.set_defaults(func=run)


def run(args) -> int:
    from tkpk.synth import generate

    if args.households < 20:
        raise UsageError("--households minimal 20.")
    if not 1 <= args.months <= 24:
        raise UsageError("--months harus antara 1 dan 24.")
    if args.mess_rate < 0:
        raise UsageError("--mess-rate tidak boleh negatif.")
    try:
        result = generate(Path(args.out), str(args.period), args.households, args.seed, months=args.months,
                          mess=args.mess_rate)
    except FileExistsError as exc:
        raise UsageError(str(exc)) from exc
    from tkpk.reports.format import angka as dots
    print(f"Data sintetis ditulis ke {result['out_dir']} dalam {result['seconds']:.1f} detik.")
    print(f"  Registri (snapshot {result['snapshot_date']}): {dots(result['households'])} keluarga, "
          f"{dots(result['persons'])} jiwa")
    for period, rows in result["rows_per_period"].items():
        print(f"  Kiriman {period}: {dots(rows)} baris")
    print(f"  Berkas: {result['files']}; sengaja ditolak: {', '.join(result['rejected'])}")
    print(f"  Kunci kebenaran: {Path(result['out_dir']) / 'truth'}")
    return 0
