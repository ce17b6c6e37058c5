"""One month through the stage functions in-process, in the order and with the mapping of `dags/tkpk_monthly.py`,
without Airflow: discover -> load_submission per (OPD, type) -> prepare_linkage -> link_partition per partition ->
finalize_linkage -> derive_events -> compute_eligibility per kecamatan -> finalize_eligibility -> build_reports.

`MonthRunner` remembers which tasks finished, like a DAG run does: after an interruption, `run()` again continues
with the task that died (Airflow's retry), never redoing finished ones; `rerun()` starts a new run from the top (a
re-trigger). An interruption is a process death modelled as `Interrupted` (a BaseException, so no `except
Exception` in the stage code can swallow it) raised after the N-th SQL statement of a chosen task: committed
transactions stay, the open one is rolled back, exactly what a killed worker leaves behind.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

PERIOD = "2026-10"
SNAPSHOT = "2026-09-25"


class Interrupted(BaseException):
    """The worker died here."""


@dataclass
class Crash:
    task: str  # task key, e.g. "load:dinkes/dinkes_ibu_hamil", "link_partition:15.71.05", "finalize_linkage"
    after_statements: int  # die after this many SQL statements of the task
    fired: bool = False


@dataclass
class MonthRunner:
    settings: object
    period: str = PERIOD
    done: dict = field(default_factory=dict)  # task key -> return value (what XCom would hold)
    rejected: dict = field(default_factory=dict)  # task key -> BatchRejected message
    crashes: list = field(default_factory=list)
    log: list = field(default_factory=list)  # task keys in the order they ran (attempts included)

    def _tasks(self):
        """(key, callable) in DAG order; mapped tasks expand from the results of the tasks before them."""
        from tkpk import eligibility, ingest, linkage, reports

        s, p = self.settings, self.period
        yield "discover", lambda: ingest.discover(s, p)
        for item in self.done["discover"]:
            if item["state"] != "received":
                continue
            key = f"load:{item['opd_code']}/{item['submission_type']}"
            yield key, (lambda o=item["opd_code"], t=item["submission_type"]:
                        ingest.load_submission(s, p, o, t, run_id="bulan-uji"))
        yield "prepare_linkage", lambda: linkage.prepare_linkage(s, p)
        for part in self.done["prepare_linkage"]:
            yield f"link_partition:{part}", (lambda part=part: linkage.link_partition(s, p, part))
        yield "finalize_linkage", lambda: linkage.finalize_linkage(s, p)
        yield "derive_events", lambda: (eligibility.derive_events(s, p), eligibility.eligibility_partitions(s, p))
        for kec in self.done["derive_events"][1]:
            yield f"compute_eligibility:{kec}", (lambda kec=kec: eligibility.compute_eligibility(s, p, kecamatan=kec))
        yield "finalize_eligibility", lambda: eligibility.finalize_eligibility(s, p)
        yield "build_reports", lambda: reports.build_reports(s, p, run_id="bulan-uji")

    def run(self) -> MonthRunner:
        """Run every task not finished yet; raises Interrupted where a planned crash fires."""
        import gc

        from tkpk.ingest import BatchRejected

        # A dead worker's connections die with it; in-process, the interrupted task's cursor can linger in a
        # reference cycle (traceback -> frame -> cursor) holding SQLite's lock until collected.
        gc.collect()
        tasks = self._tasks()
        for key, fn in tasks:
            if key in self.done:
                continue
            self.log.append(key)
            crash = next((c for c in self.crashes if c.task == key and not c.fired), None)
            try:
                with _die_after(self.settings.database_url, crash):
                    value = fn()
            except BatchRejected as exc:  # a rejected file: red task without retry, the run goes on
                self.rejected[key] = exc.message
                value = exc.counts
            self.done[key] = value
        return self

    def rerun(self) -> MonthRunner:
        """A new DAG run for the same period (re-trigger): every task again."""
        self.done = {}
        return self.run()

    def xcom(self) -> str:
        return json.dumps({"done": self.done, "rejected": self.rejected}, default=str, ensure_ascii=False)


class _die_after:  # noqa: N801 - used as a context manager
    def __init__(self, url: str, crash: Crash | None):
        self.url, self.crash, self.count = url, crash, 0

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        if self.count >= self.crash.after_statements:
            self.crash.fired = True
            raise Interrupted(f"worker killed after {self.count} statements")

    def __enter__(self):
        if self.crash:
            from sqlalchemy import event

            from tkpk.warehouse import get_engine

            event.listen(get_engine(self.url), "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc):
        if self.crash:
            from sqlalchemy import event

            from tkpk.warehouse import get_engine

            event.remove(get_engine(self.url), "after_cursor_execute", self._after)
        return False


class LogCapture(logging.Handler):
    """Every log record of every logger, formatted as a task log would show it (message and traceback)."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record):
        self.lines.append(self.format(record))

    def __enter__(self):
        root = logging.getLogger()
        self._level = root.level
        root.setLevel(logging.DEBUG)
        root.addHandler(self)
        return self

    def __exit__(self, *exc):
        root = logging.getLogger()
        root.removeHandler(self)
        root.setLevel(self._level)
        return False

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def prepare(settings, synth_dir) -> None:
    """Migrated warehouse with the synthetic registry snapshot loaded."""
    from datetime import date

    from tkpk.registry import load_snapshot
    from tkpk.warehouse import upgrade

    upgrade(settings.database_url)
    for snap in sorted((synth_dir / "landing" / "registry").iterdir()):
        load_snapshot(settings.database_url, str(snap), date.fromisoformat(snap.name), actor="uji-keandalan")


def add_written_niks(landing: Path, synth_dir: Path, period: str = PERIOD) -> list[str]:
    """Put registry NIKs into the month written every way people and programs write them (spaced, dotted, dashed,
    underscored, 17 digits, glued to a name or a date) in cells and in file names: the privacy test then scans every
    output for them. Returns the NIKs used."""
    import csv

    with open(synth_dir / "registry" / "persons.csv", encoding="utf-8") as fh:
        niks = [r["nik"] for r in csv.DictReader(fh) if r["nik"]][:8]
    n = niks

    def groups(nik: str, sep: str) -> str:
        return sep.join(nik[i:i + 4] for i in range(0, 16, 4))

    folder = landing / period / "disdukcapil"
    (source,) = sorted(folder.glob("*.csv"))
    text = source.read_text(encoding="utf-8")
    kk = text.splitlines()[1].split(",")[1]
    extra = [
        [groups(n[0], " "), kk, "AMINAH", "PINDAH_DATANG", "2026-10-03"],
        [groups(n[1], "."), kk, "BUDI SANTOSO", "PINDAH_DATANG", "2026-10-04"],
        [n[2] + "7", kk, "SITI RAHMA", "PINDAH_DATANG", "2026-10-05"],
        [n[3][:15], kk, f"AHMAD {groups(n[4], '-')}", "PINDAH_DATANG", "2026-10-06"],
        [n[5][:15] + "9", kk, f"NUR{n[6]}", "PINDAH_DATANG", f"2026-10-07 {groups(n[6], ' ')}"],
        [groups(n[7], "-") + "1", f"{kk[:4]} {kk[4:8]} {kk[8:12]} {kk[12:]} 5", "IRWAN", "PINDAH_DATANG", "06-10-2026"],
    ]
    body = text.rstrip("\r\n") + "\r\n" + "".join(",".join(f'"{c}"' for c in row) + "\r\n" for row in extra)
    source.unlink()
    (folder / f"mutasi_penduduk_202610_{groups(n[0], '_')}.csv").write_text(body, encoding="utf-8")
    kop = landing / period / "koperasi"
    for f in sorted(kop.iterdir()):
        f.rename(kop / f"Peserta UMKM {groups(n[1], '.')} Okt 2026{f.suffix}")
    return niks
