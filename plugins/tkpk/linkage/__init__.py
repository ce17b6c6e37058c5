"""Linkage: match every submitted person and household to the base registry (DTKS/DTSEN), find the same person
within the month and across OPDs, queue the uncertain for stewards, explain each match (DESIGN.md section 6).

Step 3 of the monthly run, between loading the OPD files and eligibility. The DAG calls, per period:

    prepare_linkage(settings, period) -> list[str]      global exact-NIK pass; kecamatan partitions
    link_partition(settings, period, partition) -> dict  probabilistic pass for one kecamatan (mapped task)
    finalize_linkage(settings, period) -> dict           decisions, clusters, review queue, households

and `link_period` runs all three. `tkpk link --registry ... --submission ... --out ...` runs the same engine on
plain files (`tkpk.linkage.files`). Modules: `prepare` (normalised columns), `compare` (field levels), `model`
(Fellegi-Sunter weights in `model/person_v*.json`), `engine` (blocking, scoring, decisions, clusters),
`households`, `monthly` (the warehouse), `review` (the steward's XLSX round trip), `train`, `evaluate` and `bench`.

Imports here are lazy: the DAG file imports this package at parse time.
"""

from __future__ import annotations


def prepare_linkage(settings, period: str) -> list[str]:
    from tkpk.linkage.monthly import prepare_linkage as run

    return run(settings, period)


def link_partition(settings, period: str, partition: str) -> dict:
    from tkpk.linkage.monthly import link_partition as run

    return run(settings, period, partition)


def finalize_linkage(settings, period: str) -> dict:
    from tkpk.linkage.monthly import finalize_linkage as run

    return run(settings, period)


def link_period(settings, period: str) -> dict:
    from tkpk.linkage.monthly import link_period as run

    return run(settings, period)


__all__ = ["finalize_linkage", "link_partition", "link_period", "prepare_linkage"]
