"""The reporting period: the calendar month a run reports on.

A scheduled run on day 10 reports on the previous calendar month, computed in Asia/Jakarta time: Airflow's template
dates are UTC (apache/airflow#23400), and 00:30 WIB on the 1st is still the previous day in UTC.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

JAKARTA = ZoneInfo("Asia/Jakarta")
PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
PERIOD_PATTERN = r"^$|^\d{4}-(0[1-9]|1[0-2])$"

BULAN = [
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
]


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        m = PERIOD_RE.match(str(text).strip())
        if not m:
            raise ValueError(f"Periode '{text}' tidak valid: gunakan format YYYY-MM, misalnya 2026-10.")
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        """E: the last day of the period month, the reference date of every rule."""
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def previous(self) -> Period:
        return Period(self.year - 1, 12) if self.month == 1 else Period(self.year, self.month - 1)

    def next(self) -> Period:
        return Period(self.year + 1, 1) if self.month == 12 else Period(self.year, self.month + 1)

    def label(self) -> str:
        """Indonesian label, e.g. 'Oktober 2026'."""
        return f"{BULAN[self.month - 1]} {self.year}"


def reporting_period(logical_date: datetime | date | None = None, *, override: str | None = None) -> Period:
    """The period a run reports on: `override` when given, else the month before `logical_date` in Jakarta time."""
    if override:
        return Period.parse(override)
    if logical_date is None:
        logical_date = datetime.now(tz=JAKARTA)
    if isinstance(logical_date, datetime):
        if logical_date.tzinfo is None:
            raise ValueError("logical_date must be timezone-aware")
        local = logical_date.astimezone(JAKARTA).date()
    else:
        local = logical_date
    return Period(local.year, local.month).previous()
