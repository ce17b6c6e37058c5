"""Benchmark (not a test): build and send the monthly reports on a city-sized warehouse.

    .venv/bin/python -m bench.reports [--households 170000] [--database-url URL]

Fills a fresh warehouse with two months of synthetic decisions and targeting rows for all 68 kelurahan (bulk inserts,
shaped like the stages' output), then times `build_reports` (SQL figures, charts, HTML, XLSX) and `send_reports`
(to a local aiosmtpd sink, by-name lists included), and prints peak memory.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))


def fill(url: str, households: int, seed: int = 7) -> dict:
    from sqlalchemy import insert

    from tkpk.normalize.kelurahan import KelurahanIndex
    from tkpk.warehouse import get_engine
    from tkpk.warehouse.models import (
        EligibilityChange,
        EligibilityDecision,
        RegistryHousehold,
        RegistryPerson,
        RegistrySnapshot,
        TargetingResult,
    )

    rnd = random.Random(seed)
    kel = [(k.kode_kelurahan, k.kode_kecamatan) for k in KelurahanIndex.load(ROOT / "include" / "reference").rows]
    engine = get_engine(url)
    counts = {"households": households, "persons": 0, "decisions": 0, "targeting": 0}
    with engine.begin() as conn:
        snap_id = conn.execute(insert(RegistrySnapshot).values(
            snapshot_date=date(2026, 6, 30), source_uri="bench", sha256="0" * 64, households=households, persons=0,
            loaded_at=datetime.now(UTC))).inserted_primary_key[0]
        hh_rows, p_rows = [], []
        for i in range(households):
            code, kec = kel[i % len(kel)]
            desil = rnd.choice([1, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10])
            hid = f"H{i:07d}"
            kk = f"1571{kec[-2:]}0101{i % 100:02d}{i % 10000:04d}"
            hh_rows.append(dict(snapshot_id=snap_id, id_keluarga=hid, no_kk=kk, kode_kelurahan=code,
                                kode_kecamatan=kec, desil=desil, rumah_tidak_layak=False, sumber_air_layak=True,
                                jamban_sendiri=True))
            for j in range(rnd.choice([2, 3, 4, 4, 5])):
                p_rows.append(dict(snapshot_id=snap_id, id_art=f"{hid}-{j}", id_keluarga=hid,
                                   nik=f"1571{kec[-2:]}0101{80 + j:02d}{(i * 5 + j) % 10000:04d}", no_kk=kk,
                                   nama=f"Warga {i} {j}", kode_kelurahan=code,
                                   hubungan_keluarga="kepala_keluarga" if j == 0 else "anak",
                                   disabilitas_berat=False, hamil=False))
        conn.execute(insert(RegistryHousehold), hh_rows)
        for k in range(0, len(p_rows), 50_000):
            conn.execute(insert(RegistryPerson), p_rows[k:k + 50_000])
        counts["persons"] = len(p_rows)
        for period in ("2026-09", "2026-10"):
            dec, tgt = [], []
            for h in hh_rows:
                base = dict(period=period, id_keluarga=h["id_keluarga"], kode_kelurahan=h["kode_kelurahan"],
                            kode_kecamatan=h["kode_kecamatan"], rule_set_version="bench", snapshot_id=snap_id,
                            reasons=f"desil_{h['desil']}", id_art="")
                flip = period == "2026-10" and rnd.random() < 0.01
                d = h["desil"] + (1 if flip else 0)
                dec.append(dict(base, program="miskin_ekstrem", eligible=d == 1, benefit_rupiah=0))
                if d <= 4:
                    dec.append(dict(base, program="bpnt", eligible=True, benefit_rupiah=2_400_000))
                receiving = (d <= 4 and rnd.random() < 0.8) or (d > 4 and rnd.random() < 0.05)
                if d <= 4 or receiving:
                    cat = "tepat" if d <= 4 and receiving else "exclusion" if d <= 4 else "inclusion"
                    tgt.append(dict(period=period, program="bpnt", id_keluarga=h["id_keluarga"],
                                    kode_kelurahan=h["kode_kelurahan"], kode_kecamatan=h["kode_kecamatan"],
                                    eligible=d <= 4, receiving=receiving, category=cat, rupiah=2_400_000))
            for k in range(0, len(dec), 50_000):
                conn.execute(insert(EligibilityDecision), dec[k:k + 50_000])
            for k in range(0, len(tgt), 50_000):
                conn.execute(insert(TargetingResult), tgt[k:k + 50_000])
            counts["decisions"] += len(dec)
            counts["targeting"] += len(tgt)
        changes = [dict(period="2026-10", program="miskin_ekstrem", id_keluarga=h["id_keluarga"], id_art="",
                        kode_kelurahan=h["kode_kelurahan"], kode_kecamatan=h["kode_kecamatan"],
                        change="tidak_layak_lagi", reasons_before="desil_1", reasons_after="desil_2")
                   for h in hh_rows[: households // 100]]
        conn.execute(insert(EligibilityChange), changes)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=170_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    from tkpk.notify import SmtpSettings
    from tkpk.notify.mailsink import MailSink
    from tkpk.notify.send import send_reports
    from tkpk.reports import build_reports
    from tkpk.settings import Settings
    from tkpk.warehouse import upgrade

    work = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    url = args.database_url or f"sqlite:///{work / 'warehouse.db'}"
    upgrade(url)
    t = time.perf_counter()
    counts = fill(url, args.households)
    print(f"fill: {time.perf_counter() - t:.1f} s {counts}")
    settings = Settings.from_env(database_url=url, reports_dir=work / "reports", outbox_dir=work / "outbox")
    t = time.perf_counter()
    built = build_reports(settings, "2026-10")
    print(f"build_reports: {time.perf_counter() - t:.1f} s, {len(built)} reports")
    with MailSink(settings.outbox_dir) as sink:
        smtp = SmtpSettings(port=sink.port)
        t = time.perf_counter()
        sent = send_reports(settings, "2026-10", smtp)
        print(f"send_reports: {time.perf_counter() - t:.1f} s, {sent['sent']} messages")
        t = time.perf_counter()
        again = send_reports(settings, "2026-10", smtp)
        print(f"send_reports (unchanged re-run): {time.perf_counter() - t:.2f} s, {again['skipped']} skipped")
    size = sum(p.stat().st_size for p in settings.outbox_dir.glob("*.eml"))
    print(f"outbox: {size / 1e6:.1f} MB; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
