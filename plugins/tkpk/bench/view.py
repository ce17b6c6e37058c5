"""How fast the TKPK view's pages answer: the queries behind each page (tkpk.status, tkpk.workspace,
tkpk.linkage.review, the report manifest), timed on a warehouse after a monthly run; median of `repeat` runs each.

The page itself adds the token check and the template (a few milliseconds); the data is what grows with the
province. Reported per page in seconds; the goal is under 1 s at province scale (issue #15).
"""

from __future__ import annotations

import statistics
import time

PAGE = 50


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return round(statistics.median(times), 3)


def time_pages(settings, period: str, repeat: int = 5) -> dict:
    from tkpk.config import load_config
    from tkpk.linkage.review import count_open, review_frame
    from tkpk.reports.build import load_manifest
    from tkpk.status import submission_matrix
    from tkpk.workspace import periods, quarantine_batches, quarantine_page, send_log

    url = settings.database_url
    config = load_config(settings.config_dir)
    batches = quarantine_batches(url, period)
    biggest = max(batches, key=lambda b: b["rows_quarantined"]) if batches else None
    open_items = count_open(url, period)

    def karantina(last: bool) -> None:
        quarantine_batches(url, period)
        if biggest:
            aliases = config.types.aliases_for(biggest["submission_type"])
            _, total = quarantine_page(url, biggest["batch_id"], offset=0, limit=PAGE, aliases=aliases)
            if last:
                quarantine_page(url, biggest["batch_id"], offset=max(total - PAGE, 0), limit=PAGE, aliases=aliases)

    def tinjauan(last: bool) -> None:
        total = count_open(url, period)
        review_frame(url, period, offset=max(total - PAGE, 0) if last else 0, limit=PAGE)

    def laporan() -> None:
        try:
            load_manifest(settings, period)
        except FileNotFoundError:
            pass
        send_log(url, period)

    return {
        "quarantined_rows_biggest_batch": biggest["rows_quarantined"] if biggest else 0,
        "open_review_items": open_items,
        "kiriman_s": _median(lambda: (periods(url), submission_matrix(url, period)), repeat),
        "karantina_first_page_s": _median(lambda: (periods(url), karantina(False)), repeat),
        "karantina_last_page_s": _median(lambda: karantina(True), repeat),
        "tinjauan_first_page_s": _median(lambda: (periods(url), tinjauan(False)), repeat),
        "tinjauan_last_page_s": _median(lambda: tinjauan(True), repeat),
        "laporan_s": _median(lambda: (periods(url), laporan()), repeat),
    }
