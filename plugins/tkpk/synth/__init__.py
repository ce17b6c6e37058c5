"""Synthetic Kota Jambi (`tkpk synth`): a registry snapshot and months of messy OPD submissions, with the truth.

Used by the tests, the benchmarks and `make demo`; never by the monthly run itself. The steps, in order:
`population` (households and persons, NIK/KK, desil), `life` (births, deaths, moves, school between months),
`submissions` (what each OPD reports), `files` (mess, layout, XLSX/XLS/CSV writers, truth), orchestrated by
`synthesize.generate`. Deterministic for a seed: the same arguments give the same bytes.
"""

from __future__ import annotations

from pathlib import Path


def generate(out_dir: Path | str, period: str, households: int, seed: int, months: int = 1, mess: float = 1.0,
             **kwargs) -> dict:
    """Write the synthetic city under `out_dir`; returns counts (no personal data). See `tkpk.synth.synthesize.generate`."""
    from tkpk.synth.synthesize import generate as _generate

    return _generate(out_dir, period, households, seed, months, mess, **kwargs)


__all__ = ["generate"]
