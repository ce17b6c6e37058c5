"""Registers the TKPK view (/tkpk/: Kiriman, Karantina, Tinjauan, Laporan) in Airflow's api-server and its entry in
the navigation (Airflow 3.1+ plugin interface: `fastapi_apps` + `external_views`). The code is in
plugins/tkpk_airflow/view.py; it checks the Airflow session and the role on every request."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin


def _fastapi_apps() -> list[dict]:
    from tkpk_airflow.view import app

    return [{"app": app, "url_prefix": "/tkpk", "name": "TKPK Kota Jambi"}]


class TkpkPlugin(AirflowPlugin):
    name = "tkpk"
    fastapi_apps = _fastapi_apps()
    external_views = [
        {"name": "TKPK Kota Jambi", "href": "/tkpk/", "destination": "nav", "url_route": "tkpk",
         "category": "browse"},
    ]
