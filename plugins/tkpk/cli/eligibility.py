"""`tkpk eligibility`: program eligibility for one month.

From files (the contract used to check the rules):
    tkpk eligibility --registry DIR --period YYYY-MM --out DECISIONS.csv [--submissions DIR2] [--targeting T.csv]
On the warehouse (what the monthly DAG runs, for a steward re-running one month):
    tkpk eligibility --period YYYY-MM
"""

from __future__ import annotations

from pathlib import Path

from tkpk.cli import UsageError
from tkpk.cli.options import add_period
from tkpk.settings import Settings


def register(sub) -> None:
    p = sub.add_parser(
        "eligibility",
        help="hitung kelayakan program (dari berkas CSV atau dari gudang data)",
        description="Hitung kelayakan setiap program untuk satu bulan, dengan alasan, kuota dan kandidat graduasi.",
    )
    add_period(p)
    p.add_argument("--registry", help="folder berisi households.csv dan persons.csv (tanpa ini: gudang data)")
    p.add_argument("--submissions", help="folder berisi kiriman bulan itu, <jenis>.csv (mis. disdukcapil_mutasi.csv)")
    p.add_argument("--out", help="berkas keluaran DECISIONS.csv (wajib bersama --registry)")
    p.add_argument("--targeting", help="berkas keluaran ketepatan sasaran (opsional, bersama --registry)")
    p.add_argument("--programs", help="berkas aturan program (bawaan: include/config/programs.yaml)")
    p.add_argument("--database-url", default=None)
    p.set_defaults(func=run)


def _load_rules(args):
    from tkpk.config import ConfigError, load_config, load_yaml
    from tkpk.config.programs import ProgramsConfig

    settings = Settings.from_env()
    try:
        config = load_config(settings.config_dir)
        programs = load_yaml(Path(args.programs), ProgramsConfig) if args.programs else config.programs
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    return settings, config, programs


def run(args) -> int:
    period = args.period
    if args.registry:
        return _run_files(args, period)
    return _run_warehouse(args, period)


def _fmt(n: int) -> str:
    from tkpk.reports.format import angka

    return angka(n)


def _run_files(args, period) -> int:
    from tkpk.eligibility.files import evaluate_files, write_decisions
    from tkpk.registry import RegistryError
    from tkpk.reports.format import rupiah

    if not args.out:
        raise UsageError("--out wajib diisi bersama --registry.")
    registry = Path(args.registry)
    if not registry.is_dir():
        raise UsageError(f"Folder registri {registry} tidak ditemukan.")
    if args.submissions and not Path(args.submissions).is_dir():
        raise UsageError(f"Folder kiriman {args.submissions} tidak ditemukan.")
    settings, config, programs = _load_rules(args)
    try:
        result = evaluate_files(registry, period, args.submissions, programs, config.types, settings.reference_dir)
    except (RegistryError, FileNotFoundError) as exc:
        print(f"Registri DITOLAK: {exc}")
        return 2
    n = write_decisions(result, args.out)
    if args.targeting:
        result.targeting.assign(period=str(period)).to_csv(args.targeting, index=False)

    d = result.decisions
    print(f"Kelayakan {period.label()} (aturan {programs.rule_set_version}): {_fmt(len(result.state.households))} "
          f"keluarga, {_fmt(result.state.counts['persons_active'])} jiwa aktif, {_fmt(n)} baris ditulis ke {args.out}.")
    for problem in result.problems:
        print(f"  - registri: {problem}")
    for type_code, rows in result.submissions.items():
        matched = result.matched.get(type_code)
        extra = f", {_fmt(matched)} menjadi peristiwa registri" if matched is not None else ""
        print(f"  - kiriman {type_code}: {_fmt(rows)} baris{extra}")
    for program in programs.programs:
        mine = d[d["program"] == program.code]
        eligible = mine[mine["eligible"]]
        line = f"  {program.code:<22} layak {_fmt(len(eligible)):>7}"
        if eligible["benefit_rupiah"].sum():
            line += f"   {rupiah(int(eligible['benefit_rupiah'].sum()))}"
        waiting = int((mine["rank"].notna() & ~mine["eligible"]).sum())
        if waiting:
            line += f"   daftar tunggu (kuota_penuh) {_fmt(waiting)}"
        print(line)
    if len(result.targeting):
        counts = result.targeting.groupby(["program", "category"]).size()
        print("  Ketepatan sasaran (tepat / kesalahan eksklusi / kesalahan inklusi):")
        for code in dict.fromkeys(result.targeting["program"]):
            c = counts.get(code)
            print(f"  {code:<22} {_fmt(int(c.get('tepat', 0)))} / {_fmt(int(c.get('exclusion', 0)))} / "
                  f"{_fmt(int(c.get('inclusion', 0)))}")
    return 0


def _run_warehouse(args, period) -> int:
    from tkpk.eligibility.store import EligibilityError, run_period
    from tkpk.reports.format import rupiah

    settings = Settings.from_env()
    if args.database_url:
        settings = Settings.from_env(database_url=args.database_url)
    try:
        result = run_period(settings, str(period))
    except EligibilityError as exc:
        print(f"Kelayakan tidak dapat dihitung: {exc}")
        return 2
    print(f"Kelayakan {period.label()} dihitung ulang di gudang data ({_fmt(result['computed']['decisions'])} "
          "keputusan).")
    print(f"  Peristiwa registri bulan ini: {_fmt(result['events']['events'])}")
    for code, n in sorted(result["eligible"].items()):
        print(f"  {code:<22} layak {_fmt(n):>7}")
    print(f"  Kandidat graduasi PKH: {_fmt(result['graduation_candidates'])}; daftar tunggu kuota: "
          f"{_fmt(result['quota_waiting'])}")
    if result["changes_baseline"]:
        ch = result["changes"]
        print(f"  Perubahan sejak bulan lalu: {_fmt(ch.get('baru_layak', 0))} baru layak, "
              f"{_fmt(ch.get('tidak_layak_lagi', 0))} tidak layak lagi")
    else:
        print("  Perubahan sejak bulan lalu: belum ada keputusan bulan lalu untuk dibandingkan")
    for code, t in sorted(result["targeting"].items()):
        print(f"  {code:<22} tepat {_fmt(t.get('tepat', 0))}, kesalahan eksklusi {_fmt(t.get('exclusion', 0))}, "
              f"kesalahan inklusi {_fmt(t.get('inclusion', 0))} ({rupiah(t.get('rupiah_inclusion', 0))})")
    if result["programs_without_recipient_data"]:
        print("  Tanpa data penerima bulan ini: " + ", ".join(result["programs_without_recipient_data"]))
    return 0
