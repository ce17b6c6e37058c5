"""`tkpk simulate`: what-if scenarios for next year's rules and budget, compared with the current rule set.

    tkpk simulate --period 2026-10 --set bpjs_tk.quota.size=60 --out DIFF.csv
    tkpk simulate --period 2026-10 --scenario kuota60 --set bpjs_tk.quota.size=60 \\
                                   --scenario desil2 --set pkh.desil.max=2 --set bpnt.desil.max=3 --out DIFF.csv
    tkpk simulate --period 2026-10 --rules usulan-2027.yaml --out DIFF.csv --json
    tkpk simulate --period 2026-10 --registry DIR --submissions DIR2 --set ... --out DIFF.csv      (offline, files)

Each `--scenario NAME` starts a scenario; the `--set`/`--rules` after it belong to it (without `--scenario`, one
scenario called `skenario`). On the warehouse the scenarios are also stored (simulation_scenario/simulation_diff);
the month's decisions and reports are never changed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tkpk.cli import UsageError
from tkpk.cli.options import add_period

DEFAULT_NAME = "skenario"


class _ScenarioAction(argparse.Action):
    """--scenario starts a scenario; --set and --rules attach to the latest one."""

    def __call__(self, parser, namespace, values, option_string=None):
        from tkpk.simulate import ScenarioSpec

        specs = getattr(namespace, "scenarios", None) or []
        if option_string == "--scenario":
            specs.append(ScenarioSpec(values, []))
        else:
            if not specs:
                specs.append(ScenarioSpec(DEFAULT_NAME, []))
            if option_string == "--set":
                specs[-1].sets.append(values)
            elif specs[-1].rules_file is not None:
                raise argparse.ArgumentError(self, f"skenario '{specs[-1].name}' sudah punya --rules")
            else:
                specs[-1].rules_file = values
        namespace.scenarios = specs


def register(sub) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulasi 'bagaimana jika': aturan program atau pagu lain, dibandingkan dengan aturan sekarang",
        description="Hitung ulang kelayakan satu bulan dengan aturan/pagu usulan (skenario) dan bandingkan dengan "
                    "aturan yang berlaku. Keputusan resmi bulan itu tidak diubah.",
    )
    add_period(p, help="periode YYYY-MM, misalnya 2026-10")
    p.add_argument("--scenario", action=_ScenarioAction, metavar="NAMA",
                   help="mulai skenario baru bernama NAMA; --set/--rules sesudahnya milik skenario ini")
    p.add_argument("--set", action=_ScenarioAction, metavar="PROGRAM.KUNCI=NILAI",
                   help="ubah satu aturan, mis. pkh.desil.max=2, bpjs_tk.quota.size=60, "
                        "pkh.components.lansia.age.min=70, pagu.bpjs_tk.per_kelurahan=12000000")
    p.add_argument("--rules", action=_ScenarioAction, metavar="ALT.yaml",
                   help="berkas aturan program pengganti (format programs.yaml)")
    p.add_argument("--out", required=True, help="berkas keluaran DIFF.csv (satu baris per keputusan yang berbeda)")
    p.add_argument("--json", action="store_true", help="cetak ringkasan sebagai JSON")
    p.add_argument("--registry", help="folder households.csv dan persons.csv (tanpa ini: gudang data)")
    p.add_argument("--submissions", help="folder kiriman bulan itu, <jenis>.csv (bersama --registry)")
    p.add_argument("--requested-by", help="e-mail peminta (dicatat bersama skenario di gudang data)")
    p.add_argument("--database-url", default=None)
    p.set_defaults(func=run, scenarios=None)


def run(args) -> int:
    from tkpk.config import ConfigError, load_config
    from tkpk.settings import Settings
    from tkpk.simulate import (
        ScenarioSpec,
        build_scenarios,
        save,
        simulate_files,
        simulate_warehouse,
        summary_json,
        write_diff,
    )

    period = args.period
    settings = Settings.from_env(database_url=args.database_url) if args.database_url else Settings.from_env()
    specs = args.scenarios or [ScenarioSpec(DEFAULT_NAME, [])]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise UsageError(f"nama skenario harus berbeda: {', '.join(names)}")
    for spec in specs:
        if spec.rules_file and not Path(spec.rules_file).is_file():
            raise UsageError(f"berkas aturan {spec.rules_file} (skenario '{spec.name}') tidak ditemukan.")
    try:
        config = load_config(settings.config_dir)
        scenarios = build_scenarios(config, specs)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None

    if args.registry:
        registry = Path(args.registry)
        if not registry.is_dir():
            raise UsageError(f"Folder registri {registry} tidak ditemukan.")
        if args.submissions and not Path(args.submissions).is_dir():
            raise UsageError(f"Folder kiriman {args.submissions} tidak ditemukan.")
        from tkpk.registry import RegistryError

        try:
            sim = simulate_files(registry, period, args.submissions, config, scenarios, settings.reference_dir)
        except (RegistryError, FileNotFoundError) as exc:
            print(f"Registri DITOLAK: {exc}")
            return 2
        ids = []
    else:
        from tkpk.eligibility.store import EligibilityError

        try:
            sim = simulate_warehouse(settings, period, scenarios, config)
        except EligibilityError as exc:
            print(f"Simulasi tidak dapat dihitung: {exc}")
            return 2
        ids = save(settings, sim, args.requested_by)
    n = write_diff(sim, args.out)
    summary = summary_json(sim)
    for entry, scenario_id in zip(summary["scenarios"], ids, strict=False):
        entry["scenario_id"] = scenario_id
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return 0
    print_summary(sim, summary, period, n, args.out)
    return 0


def print_summary(sim, summary: dict, period, n: int, out: str) -> None:
    from tkpk.reports.format import angka, persen, rupiah

    print(f"Simulasi {period.label()} terhadap aturan yang berlaku ({summary['rule_set_version']}): "
          f"{angka(n)} keputusan berbeda ditulis ke {out}.")
    for entry in summary["scenarios"]:
        ident = f" (id {entry['scenario_id']})" if entry.get("scenario_id") else ""
        changed = [r for r in sim.results if r.scenario.name == entry["scenario"]][0].scenario.describe()
        print(f"\nSkenario '{entry['scenario']}'{ident}: {changed}")
        recomputed = ", ".join(entry["programs_recomputed"]) or "tidak ada (aturan sama dengan yang berlaku)"
        print(f"  Program dihitung ulang: {recomputed}; {angka(entry['differences'])} keputusan berbeda")
        for p in entry["programs"]:
            touched = p["program"] in entry["programs_recomputed"]
            pagu = p["pagu_after"]
            if not touched and pagu == p["pagu_before"]:
                continue
            print(f"  {p['program']}: keluarga {angka(p['families_before'])} -> {angka(p['families_after'])} "
                  f"(+{angka(p['families_gained'])} / -{angka(p['families_lost'])}), jiwa "
                  f"{angka(p['persons_before'])} -> {angka(p['persons_after'])} "
                  f"(+{angka(p['persons_gained'])} / -{angka(p['persons_lost'])})")
            print(f"      rupiah setahun {rupiah(p['rupiah_before'])} -> {rupiah(p['rupiah_after'])}", end="")
            if p["waiting_before"] or p["waiting_after"]:
                print(f"; daftar tunggu kuota {angka(p['waiting_before'])} -> {angka(p['waiting_after'])}", end="")
            print()
            if p["extreme_poor_coverage_before"] is not None or p["extreme_poor_coverage_after"] is not None:
                print(f"      cakupan keluarga miskin ekstrem {persen(p['extreme_poor_coverage_before'])} -> "
                      f"{persen(p['extreme_poor_coverage_after'])}")
            if pagu["pagu"] is not None:
                left = (f"sisa {rupiah(pagu['sisa'])} (cukup)" if pagu["cukup"]
                        else f"kurang {rupiah(-pagu['sisa'])} (MELEBIHI pagu)")
                print(f"      pagu {rupiah(pagu['pagu'])}: {left}", end="")
                if pagu["kelurahan_melebihi_pagu"] is not None:
                    print(f"; kelurahan melebihi pagu per kelurahan: {angka(pagu['kelurahan_melebihi_pagu'])} "
                          f"(sebelumnya {angka(p['pagu_before']['kelurahan_melebihi_pagu'] or 0)})", end="")
                print()
