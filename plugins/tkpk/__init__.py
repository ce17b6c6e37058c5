"""TKPK Kota Jambi data pipeline: the domain package.

One subpackage per stage of the monthly run (DESIGN.md section 4): ingest -> quality -> linkage -> eligibility ->
reports -> notify, around the warehouse and config. Nothing in this package imports Airflow; only `dags/` and
`plugins/tkpk_plugin.py` do.
"""

__version__ = "0.1.0"
