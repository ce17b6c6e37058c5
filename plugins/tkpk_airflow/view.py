"""The TKPK view at /tkpk/ inside Airflow's api-server (registered by plugins/tkpk_plugin.py): the steward's pages.

Kiriman (the submission matrix of a period, with "Muat ulang" per OPD), Karantina (quarantined rows, paged, and the
OPD's feedback XLSX), Tinjauan (the linkage review queue with cocok / tidak cocok / lewati), Laporan (the rendered
reports and the send log). Every figure comes from the domain package (tkpk.status, tkpk.linkage.review,
tkpk.reports); this module only reads the request, checks who asks, and renders HTML.

Airflow does not protect a plugin's FastAPI app: every request here resolves the Airflow session token (the `_token`
cookie the UI sets at login, or an `Authorization: Bearer` header) through the auth manager, then looks the user up
in include/config/accounts.yaml for the role (steward | anggota), scope and pii. A request without a valid token is
refused (401), a user who is not in accounts.yaml too (403), and an anggota may not act (403). A steward acts only
while the auth manager also lets that user trigger tkpk_monthly (simple auth manager `op`, FAB `Op` or any role with
that permission): when accounts.yaml and Airflow's roles disagree (e.g. a directory group mapped to `Viewer`), the
lesser right wins and the person reads only. "Muat ulang" triggers tkpk_monthly through Airflow's REST API with the
user's own token, so the run carries the user's name. Tested under both auth managers (tests/test_tkpk_view.py,
tests/test_tkpk_view_fab.py).

All links are relative (the view may sit behind a proxy) and the page loads nothing from outside.
"""

from __future__ import annotations

import logging
import math
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

log = logging.getLogger(__name__)
PAGE_SIZE = 50
COOKIE = "_token"  # airflow.api_fastapi.auth.managers.base_auth_manager.COOKIE_NAME_JWT_TOKEN
TEMPLATES = Path(__file__).parent / "templates"
PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
CODE_RE = re.compile(r"^[a-z0-9_.-]{1,64}$")
DAG_ID = "tkpk_monthly"

app = FastAPI(title="TKPK Kota Jambi", docs_url=None, redoc_url=None, openapi_url=None)


@dataclass(frozen=True)
class Viewer:
    account: object  # tkpk.config.accounts.Account
    token: str

    @property
    def username(self) -> str:
        return self.account.username

    @property
    def is_steward(self) -> bool:
        return self.account.is_steward


def _settings():
    from tkpk.settings import Settings

    return Settings.from_env()


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.cookies.get(COOKIE) or None


async def viewer(request: Request) -> Viewer:
    """The logged-in person, or 401/403. Used by every route."""
    from airflow.api_fastapi.app import get_auth_manager

    from tkpk.config.accounts import load_accounts

    token = _token(request)
    if not token:
        raise HTTPException(401, "Silakan masuk (login) ke Airflow terlebih dahulu.")
    auth_manager = get_auth_manager()
    try:
        user = await auth_manager.get_user_from_token(token)
    except Exception:  # noqa: BLE001 - expired, forged, deactivated or unreadable: all the same to the visitor
        raise HTTPException(401, "Sesi Airflow tidak berlaku lagi. Silakan masuk (login) kembali.") from None
    account = load_accounts(_settings().config_dir).get(user.get_name())
    if account is None:
        raise HTTPException(403, f"Akun '{user.get_name()}' tidak terdaftar di accounts.yaml.")
    if account.is_steward and not _airflow_lets_act(auth_manager, user):
        log.warning("Akun %s: steward di accounts.yaml, tetapi peran Airflow-nya tidak boleh memicu %s; hanya baca",
                    account.username, DAG_ID)
        account = account.model_copy(update={"role": "anggota"})
    return Viewer(account, token)


def _airflow_lets_act(auth_manager, user) -> bool:
    """Whether Airflow's own roles let the user trigger tkpk_monthly: what Muat ulang does, and the right that a
    steward's other actions (review decisions) stand for. Asked the auth manager, so any role naming works."""
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    try:
        return bool(auth_manager.is_authorized_dag(method="POST", access_entity=DagAccessEntity.RUN,
                                                   details=DagDetails(id=DAG_ID), user=user))
    except Exception:  # noqa: BLE001 - an auth manager that cannot answer grants nothing
        log.exception("Peran Airflow untuk akun %s tidak dapat diperiksa; hanya baca", user.get_name())
        return False


Who = Annotated[Viewer, Depends(viewer)]


async def steward(who: Who) -> Viewer:
    if not who.is_steward:
        raise HTTPException(403, "Hanya steward yang boleh melakukan tindakan ini.")
    return who


Steward = Annotated[Viewer, Depends(steward)]


def _env():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from tkpk.reports.format import angka, persen

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters["angka"] = angka
    env.filters["persen"] = persen
    return env


_ENV = None


def render(name: str, who: Viewer | None, status_code: int = 200, **context) -> HTMLResponse:
    global _ENV
    if _ENV is None:
        _ENV = _env()
    html = _ENV.get_template(name).render(who=who, **context)
    return HTMLResponse(html, status_code=status_code)


@app.exception_handler(HTTPException)
async def _refused(request: Request, exc: HTTPException):
    # relative to the page's folder: /tkpk/kiriman -> ../auth/login, /tkpk/kiriman/muat-ulang -> ../../auth/login
    login = "../" * max(request.url.path.rstrip("/").count("/") - 1, 1) + "auth/login"
    return render("error.html", None, status_code=exc.status_code, message=exc.detail, login=login,
                  show_login=exc.status_code == 401)


def _period_or_latest(database_url: str, period: str | None) -> tuple[str | None, list[str]]:
    from tkpk.workspace import periods

    known = periods(database_url)
    if period and PERIOD_RE.match(period):
        return period, known
    return (known[0] if known else None), known


def _page(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def _mask(value, visible: bool) -> str:
    from tkpk.normalize.nik import mask, mask_text

    if value is None:
        return ""
    text = str(value)
    return text if visible else mask_text(mask(text))


# --- Kiriman ---------------------------------------------------------------------------------------------------------


@app.get("/")
async def home() -> Response:
    return RedirectResponse("kiriman", status_code=303)


@app.get("/kiriman", response_class=HTMLResponse)
def kiriman(request: Request, who: Who, period: str | None = None, pesan: str | None = None):
    from tkpk.status import submission_matrix

    s = _settings()
    period, periods = _period_or_latest(s.database_url, period)
    matrix = submission_matrix(s.database_url, period) if period else {"submissions": [], "runs": [], "audit": []}
    rows = [r for r in matrix["submissions"] if not (r["state"] == "missing" and not r["required"])]
    for r in rows:
        r["accepted_share"] = (r["rows_accepted"] / r["rows_total"]) if r["rows_total"] else None
        r["log_url"] = (f"../dags/tkpk_monthly/runs/{r['run_id']}/tasks/load_submission"
                        if r.get("run_id") else None)
    return render("kiriman.html", who, page="kiriman", period=period, periods=periods, rows=rows,
                  audit=matrix["audit"][-20:], message=pesan)


@app.post("/kiriman/muat-ulang")
async def muat_ulang(request: Request, who: Steward, period: str = Form(...), opd: str = Form(...)) -> Response:
    """Trigger tkpk_monthly for one period and OPD through Airflow's REST API, as the logged-in steward."""
    import httpx
    from airflow.configuration import conf

    if not PERIOD_RE.match(period) or not CODE_RE.match(opd):
        raise HTTPException(400, "Periode atau kode OPD tidak valid.")
    base = (conf.get("api", "base_url", fallback="") or str(request.base_url)).rstrip("/")
    async with httpx.AsyncClient(timeout=30) as client:
        resp = await client.post(f"{base}/api/v2/dags/tkpk_monthly/dagRuns",
                                 headers={"Authorization": f"Bearer {who.token}"},
                                 json={"logical_date": None, "conf": {"period": period, "opd": opd},
                                       "note": f"Muat ulang {opd} {period} dari tampilan TKPK oleh {who.username}"})
    if resp.status_code >= 300:
        log.warning("Muat ulang %s %s oleh %s ditolak Airflow: %s", opd, period, who.username, resp.status_code)
        message = f"Airflow menolak permintaan muat ulang ({resp.status_code})."
    else:
        message = f"Muat ulang {opd} periode {period} dimulai (run {resp.json().get('dag_run_id')})."
    return RedirectResponse("../kiriman?" + urlencode({"period": period, "pesan": message}), status_code=303)


# --- Karantina -------------------------------------------------------------------------------------------------------


def _report_entry(settings, period: str, key: str) -> dict | None:
    from tkpk.reports.build import load_manifest

    try:
        manifest = load_manifest(settings, period)
    except FileNotFoundError:
        return None
    return next((e for e in manifest.get("reports", []) if e.get("report") == key), None)


@app.get("/karantina", response_class=HTMLResponse)
def karantina(who: Who, period: str | None = None, batch: int | None = None, halaman: str | None = None):
    from tkpk.workspace import quarantine_batches, quarantine_page

    s = _settings()
    period, periods = _period_or_latest(s.database_url, period)
    batches = quarantine_batches(s.database_url, period) if period else []
    chosen = next((b for b in batches if b["batch_id"] == batch), batches[0] if batches else None)
    rows, total, page = [], 0, _page(halaman)
    feedback = None
    if chosen:
        rows, total = quarantine_page(s.database_url, chosen["batch_id"], offset=(page - 1) * PAGE_SIZE,
                                      limit=PAGE_SIZE)
        for r in rows:
            r["value"] = _mask(r["value"], False)
            r["message"] = _mask(r["message"], False)
        entry = _report_entry(s, period, f"opd:{chosen['opd_code']}")
        if entry and entry.get("attachments"):
            feedback = f"laporan/berkas/{period}/{entry['dir']}/{entry['attachments'][0]['file']}"
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return render("karantina.html", who, page="karantina", period=period, periods=periods, batches=batches,
                  chosen=chosen, rows=rows, total=total, page_no=min(page, pages), pages=pages, feedback=feedback)


# --- Tinjauan --------------------------------------------------------------------------------------------------------


@app.get("/tinjauan", response_class=HTMLResponse)
def tinjauan(who: Who, period: str | None = None, halaman: str | None = None, pesan: str | None = None):
    from tkpk.linkage.review import count_open, review_frame

    s = _settings()
    period, periods = _period_or_latest(s.database_url, period)
    page = _page(halaman)
    total = count_open(s.database_url, period) if period else 0
    items = []
    if total:
        frame = review_frame(s.database_url, period, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        for rec in frame.to_dict("records"):
            for side in ("row", "reg"):
                visible = who.account.sees_nik(rec.get(f"{side}_kode_kelurahan"))
                for key in ("nik", "no_kk"):
                    rec[f"{side}_{key}"] = _mask(rec.get(f"{side}_{key}"), visible)
            items.append({k: ("" if v is None or (isinstance(v, float) and v != v) else v) for k, v in rec.items()})
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return render("tinjauan.html", who, page="tinjauan", period=period, periods=periods, items=items, total=total,
                  page_no=min(page, pages), pages=pages, message=pesan)


@app.post("/tinjauan/putuskan")
def putuskan(who: Steward, period: str = Form(...), review_id: int = Form(...), keputusan: str = Form(...),
             halaman: str = Form("1")) -> Response:
    from tkpk.linkage.review import decide_item

    labels = {"match": "cocok", "non_match": "tidak cocok", "skip": "dilewati"}
    try:
        decision = decide_item(_settings().database_url, review_id, keputusan, actor=who.username)
        message = f"Item {review_id}: {labels[decision]} (dicatat atas nama {who.username})."
    except (ValueError, LookupError) as exc:
        message = str(exc)
    query = urlencode({"period": period, "halaman": _page(halaman), "pesan": message})
    return RedirectResponse(f"../tinjauan?{query}", status_code=303)


# --- Laporan ---------------------------------------------------------------------------------------------------------


@app.get("/laporan", response_class=HTMLResponse)
def laporan(who: Who, period: str | None = None):
    from tkpk.reports.build import load_manifest
    from tkpk.workspace import send_log

    s = _settings()
    period, periods = _period_or_latest(s.database_url, period)
    reports, sends = [], []
    if period:
        try:
            reports = load_manifest(s, period).get("reports", [])
        except FileNotFoundError:
            reports = []
        sends = send_log(s.database_url, period)
    return render("laporan.html", who, page="laporan", period=period, periods=periods, reports=reports,
                  sends=sends)


@app.get("/laporan/berkas/{period}/{folder}/{name}")
def berkas(period: str, folder: str, name: str, who: Who) -> Response:
    """A file of a rendered report (the archive HTML, its charts, the non-personal XLSX)."""
    s = _settings()
    if not PERIOD_RE.match(period) or "/" in folder or "/" in name or name.startswith(".") or folder.startswith("."):
        raise HTTPException(404, "Berkas tidak ditemukan.")
    if not (name == "laporan.html" or name.endswith((".png", ".xlsx"))):
        raise HTTPException(404, "Berkas tidak ditemukan.")
    root = (Path(s.reports_dir) / period).resolve()
    path = (root / folder / name).resolve()
    if root not in path.parents or not path.is_file():
        raise HTTPException(404, "Berkas tidak ditemukan.")
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media, filename=None if name.endswith((".html", ".png")) else name)
