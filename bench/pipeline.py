"""One step of the monthly run, as the `tkpk_monthly` DAG calls it, in its own process: the bench harness uses it to
measure the pipeline step by step (wall, CPU, peak memory per step) without Airflow, with linkage and eligibility
partitioned by kecamatan exactly as the DAG maps them (prepare_linkage -> link_partition per kecamatan ->
finalize_linkage; derive_events -> compute_eligibility per kecamatan -> finalize_eligibility).

`python -m bench.pipeline STEP --period 2026-10 [--run-id R] [--partition K] [--registry DIR --snapshot-date D]`
Settings come from the TKPK_* environment (the harness points them at a scratch var dir and database). Prints one JSON
object (counts and timings only, never personal data) on its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, datetime
from pathlib import Path

STEPS = ["setup", "start", "ingest", "prepare_linkage", "link_partition", "finalize_linkage", "derive_events",
         "compute_eligibility", "finalize_eligibility", "build_reports", "send_reports", "view_pages"]


def run_step(step: str, period: str, run_id: str, partition: str | None = None, registry: str | None = None,
             snapshot_date: str | None = None) -> dict:
    from tkpk.settings import Settings

    settings = Settings.from_env()
    if step == "setup":
        from tkpk.registry import load_snapshot
        from tkpk.warehouse import upgrade

        t = time.perf_counter()
        upgrade(settings.database_url)
        migrate_s = time.perf_counter() - t
        result = load_snapshot(settings.database_url, registry, date.fromisoformat(snapshot_date), actor="bench")
        return {"migrate_s": round(migrate_s, 2), **{k: v for k, v in result.items() if isinstance(v, (int, float))}}
    if step == "start":
        from tkpk.pipeline import start_run

        return start_run(settings, run_id=run_id, dag_id="tkpk_monthly", logical_date=datetime.now(), period=period,
                         opd=None)
    if step == "ingest":
        from tkpk.ingest import BatchRejected, discover, load_submission

        files, rows, rejected = [], 0, 0
        for f in discover(settings, period):
            if f["state"] != "received":
                continue
            t = time.perf_counter()
            try:
                result = load_submission(settings, period, f["opd_code"], f["submission_type"], run_id=run_id)
                n = int(result.get("rows_total") or result.get("rows") or 0)
            except BatchRejected:
                rejected += 1
                n = 0
            rows += n
            files.append({"file": f"{f['opd_code']}/{f['submission_type']}", "s": round(time.perf_counter() - t, 2),
                          "rows": n})
        return {"files": len(files), "rows": rows, "rejected": rejected,
                "slowest": sorted(files, key=lambda x: -x["s"])[:3]}
    if step == "prepare_linkage":
        from tkpk.linkage import prepare_linkage

        return {"partitions": prepare_linkage(settings, period)}
    if step == "link_partition":
        from tkpk.linkage import link_partition

        return link_partition(settings, period, partition)
    if step == "finalize_linkage":
        from tkpk.linkage import finalize_linkage

        return finalize_linkage(settings, period)
    if step == "derive_events":
        from tkpk.eligibility import derive_events, eligibility_partitions

        result = derive_events(settings, period)
        return {"result": result, "partitions": eligibility_partitions(settings, period)}
    if step == "compute_eligibility":
        from tkpk.eligibility import compute_eligibility

        return compute_eligibility(settings, period, kecamatan=partition)
    if step == "finalize_eligibility":
        from tkpk.eligibility import finalize_eligibility

        return finalize_eligibility(settings, period)
    if step == "build_reports":
        from tkpk.reports import build_reports

        return {"reports": len(build_reports(settings, period, run_id=run_id))}
    if step == "send_reports":
        from tkpk.notify import SmtpSettings, send_reports
        from tkpk.notify.mailsink import MailSink

        with MailSink(settings.outbox_dir) as sink:
            result = send_reports(settings, period, SmtpSettings(port=sink.port), run_id=run_id)
        return result
    if step == "view_pages":
        from bench.view import time_pages

        return time_pages(settings, period)
    raise ValueError(step)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.pipeline")
    parser.add_argument("step", choices=STEPS)
    parser.add_argument("--period", default="2026-10")
    parser.add_argument("--run-id", default="bench")
    parser.add_argument("--partition", default=None)
    parser.add_argument("--registry", default=None)
    parser.add_argument("--snapshot-date", default=None)
    args = parser.parse_args(argv)
    call = (args.step, args.period, args.run_id, args.partition, args.registry, args.snapshot_date)
    profile_dir = os.environ.get("TKPK_BENCH_PROFILE_DIR")
    if profile_dir and args.step in os.environ.get("TKPK_BENCH_PROFILE", "").split(","):
        # cProfile of this step: the top entries by cumulative and by own time, for BENCHMARKS.md
        import cProfile
        import io
        import pstats

        prof = cProfile.Profile()
        result = prof.runcall(run_step, *call)
        buf = io.StringIO()
        stats = pstats.Stats(prof, stream=buf).strip_dirs()
        stats.sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(25)
        name = args.step + (f"-{args.partition}" if args.partition else "")
        Path(profile_dir, f"profile-{name}.txt").write_text(buf.getvalue())
        prof.dump_stats(str(Path(profile_dir, f"profile-{name}.prof")))  # for pstats / snakeviz
    else:
        result = run_step(*call)
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
