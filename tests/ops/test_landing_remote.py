"""Landing zones for real (issue 7 item 10): the same synthetic month read from `file://`, from S3 (a moto server on
loopback, read through s3fs exactly as MinIO is in the compose stack) and from SFTP (an asyncssh server on loopback
with password auth and a chrooted temp dir, read through sshfs, what fsspec resolves `sftp://` to).

What must hold over every store: raw listing and bytes, the registry snapshot loader, `tkpk.ingest.discover` and
`tkpk.ingest.load_submission` (accepted and rejected batches, archive of the raw files) give what `file://` gives.
Storage options have the shape `tkpk_airflow.landing_storage_options()` builds from the `tkpk_landing` connection.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import socket
import threading
from datetime import date
from pathlib import Path

import pytest

PERIOD = "2026-10"
SNAPSHOT = "2026-09-25"
# A subset that covers xlsx + csv in one batch, a legacy .xls, and a batch the checks reject.
LOADS = [("dinsos", "dinsos_kpm"), ("dinkes", "dinkes_ibu_hamil"), ("koperasi", "koperasi_pemberdayaan")]
SFTP_USER, SFTP_PASSWORD = "tkpk-landing", "sandi-uji-coba"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    from tkpk.synth import generate

    out = tmp_path_factory.mktemp("synth")
    generate(out, PERIOD, households=120, seed=20261, months=1)
    landing = out / "landing"
    assert (landing / PERIOD / "dinsos").is_dir() and (landing / "registry" / SNAPSHOT).is_dir()
    return landing


def local_files(landing: Path) -> dict[str, str]:
    return {p.relative_to(landing).as_posix(): sha256(p.read_bytes()) for p in landing.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def s3_store(synth):
    """A moto S3 server on a free loopback port with the buckets the compose stack creates; the landing uploaded."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="tkpk-landing-key",
                              aws_secret_access_key="tkpk-landing-secret", region_name="us-east-1")
        for bucket in ("tkpk-landing", "tkpk-archive"):
            client.create_bucket(Bucket=bucket)
        for path in synth.rglob("*"):
            if path.is_file():
                client.upload_file(str(path), "tkpk-landing", path.relative_to(synth).as_posix())
        options = {"key": "tkpk-landing-key", "secret": "tkpk-landing-secret",
                   "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"}}
        yield {"landing": "s3://tkpk-landing/", "archive": "s3://tkpk-archive/", "options": options}
    finally:
        server.stop()


class _SFTPServer:
    """asyncssh SSH server with SFTP only, one password user, every session chrooted to `root`."""

    def __init__(self, root: Path):
        import asyncssh

        self.root = root
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server = None
        self._connections: list = []
        self._error: BaseException | None = None
        self._host_key = asyncssh.generate_private_key("ssh-ed25519")

    def _make_server(self):
        import asyncssh

        connections = self._connections

        class PasswordOnly(asyncssh.SSHServer):
            def connection_made(self, conn):
                connections.append(conn)

            def begin_auth(self, username):
                return True

            def password_auth_supported(self):
                return True

            def validate_password(self, username, password):
                return (username, password) == (SFTP_USER, SFTP_PASSWORD)

        return PasswordOnly()

    def _run(self) -> None:
        import asyncssh

        asyncio.set_event_loop(self.loop)
        try:
            self._server = self.loop.run_until_complete(asyncssh.listen(
                "127.0.0.1", self.port, server_factory=self._make_server, server_host_keys=[self._host_key],
                sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(self.root)), allow_scp=False))
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()

    def start(self) -> _SFTPServer:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self._ready.wait(15), "SFTP server did not start"
        if self._error:
            raise self._error
        return self

    def stop(self) -> None:
        async def close():
            self._server.close()
            for conn in self._connections:  # sshfs keeps its client connections open (fsspec instance cache)
                conn.close()
                await conn.wait_closed()
            await self._server.wait_closed()

        if self._server is not None:
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@pytest.fixture(scope="module")
def sftp_store(synth, tmp_path_factory):
    root = tmp_path_factory.mktemp("sftp-root")
    shutil.copytree(synth, root / "landing")
    (root / "archive").mkdir()
    server = _SFTPServer(root).start()
    try:
        base = f"sftp://127.0.0.1:{server.port}"
        # The shape tkpk_airflow builds from an sftp connection (host and port too: sshfs URLs built by UPath lose
        # the netloc, so the options must carry it).
        options = {"host": "127.0.0.1", "port": server.port, "username": SFTP_USER, "password": SFTP_PASSWORD,
                   "known_hosts": None}
        yield {"landing": f"{base}/landing", "archive": f"{base}/archive", "options": options, "root": root}
    finally:
        server.stop()


@pytest.fixture(params=["s3", "sftp"])
def store(request):
    return request.getfixturevalue(f"{request.param}_store") | {"kind": request.param}


def test_fsspec_resolves_the_production_protocols_to_maintained_implementations():
    import importlib.metadata

    import fsspec
    import s3fs
    import sshfs

    assert fsspec.get_filesystem_class("sftp") is sshfs.SSHFileSystem
    assert fsspec.get_filesystem_class("s3") is s3fs.S3FileSystem
    year = int(importlib.metadata.version("s3fs").split(".")[0])
    assert year >= 2024, f"s3fs {importlib.metadata.version('s3fs')}: the 2020 boto3-based line is too old"


def test_raw_listing_and_bytes_match_the_local_landing(synth, store):
    import fsspec

    fs, root = fsspec.core.url_to_fs(store["landing"], **store["options"])
    root = root.rstrip("/")
    remote = {}
    for path in fs.find(root):
        remote[path[len(root) + 1:]] = sha256(fs.cat_file(path))
    assert remote == local_files(synth)


def test_sftp_refuses_a_wrong_password(sftp_store):
    import fsspec

    options = dict(sftp_store["options"], password="salah", skip_instance_cache=True)
    with pytest.raises(PermissionError):
        fs, path = fsspec.core.url_to_fs(sftp_store["landing"], **options)
        fs.ls(path)


def _settings(url: str, tmp_path: Path, landing: str, archive: str, options: dict):
    from tkpk.settings import Settings

    return Settings.from_env(database_url=url, landing_url=landing, archive_url=archive, var_dir=tmp_path,
                             reports_dir=tmp_path / "reports", outbox_dir=tmp_path / "outbox",
                             storage_options=options)


def _staged(url: str, opd: str, type_code: str) -> list[tuple]:
    from sqlalchemy import select

    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import StagedRow

    with session_scope(url) as s:
        rows = s.scalars(select(StagedRow).where(StagedRow.opd_code == opd, StagedRow.submission_type == type_code))
        return sorted((r.source_file, r.sheet or "", r.row_number, r.nik or "", r.no_kk or "", r.nama or "",
                       str(r.tanggal_lahir), r.kode_kelurahan or "", r.has_warning, repr(sorted(r.data.items())))
                      for r in rows)


def _ingest_api():
    """`tkpk.ingest.discover` and `load_submission`, the functions the DAG calls.

    Once the submodule `tkpk.ingest.discover` has been imported (every `load_submission` imports it), Python binds
    the package attribute `discover` to that module, shadowing the function of the same name (reported to the
    ingest owner); until that is renamed, reach the function through the module."""
    from tkpk import ingest

    discover = ingest.discover if callable(ingest.discover) else ingest.discover.discover
    return discover, ingest.load_submission, ingest.BatchRejected


def _run_ingest(settings, options: dict) -> tuple[list[dict], dict, dict]:
    discover, load_submission, BatchRejected = _ingest_api()  # noqa: N806 - an exception class

    found = discover(settings, PERIOD, storage_options=options)
    results = {}
    for opd, type_code in LOADS:
        try:
            result = load_submission(settings, PERIOD, opd, type_code, run_id="remote-landing-test",
                                     storage_options=options)
            results[(opd, type_code)] = {k: result[k] for k in ("status", "files", "rows_total", "rows_accepted",
                                                                "rows_quarantined", "rows_warning")}
        except BatchRejected:
            results[(opd, type_code)] = {"status": "rejected"}
    staged = {key: _staged(settings.database_url, *key) for key in LOADS}
    return found, results, staged


@pytest.fixture(scope="module")
def local_ingest(synth, tmp_path_factory):
    from tkpk.warehouse import upgrade

    tmp = tmp_path_factory.mktemp("local-ingest")
    url = f"sqlite:///{tmp / 'warehouse.db'}"
    upgrade(url)
    settings = _settings(url, tmp, synth.as_uri(), (tmp / "archive").as_uri(), {})
    return _run_ingest(settings, {})


def test_registry_snapshot_loads_over_the_remote_store(synth, store, sqlite_warehouse, tmp_path):
    from sqlalchemy import func, select

    from tkpk.registry import load_snapshot
    from tkpk.warehouse import session_scope, upgrade
    from tkpk.warehouse.models import RegistryPerson, RegistrySnapshot

    local_url = f"sqlite:///{tmp_path / 'local.db'}"
    upgrade(local_url)
    expected = load_snapshot(local_url, str(synth / "registry" / SNAPSHOT), date.fromisoformat(SNAPSHOT))
    source = f"{store['landing'].rstrip('/')}/registry/{SNAPSHOT}"
    result = load_snapshot(sqlite_warehouse, source, date.fromisoformat(SNAPSHOT), storage_options=store["options"])
    assert result["households"] == expected["households"] > 0
    assert result["persons"] == expected["persons"] > 0
    with session_scope(sqlite_warehouse) as s, session_scope(local_url) as local:
        remote_snap = s.scalar(select(RegistrySnapshot))
        local_snap = local.scalar(select(RegistrySnapshot))
        assert remote_snap.sha256 == local_snap.sha256  # the very same bytes were read
        assert remote_snap.source_uri.startswith(f"{store['kind']}://")
        assert s.scalar(select(func.count()).select_from(RegistryPerson)) == expected["persons"]


def test_discover_and_load_over_the_remote_store_match_file_landing(store, sqlite_warehouse, tmp_path, synth,
                                                                    local_ingest):
    import fsspec

    settings = _settings(sqlite_warehouse, tmp_path, store["landing"], store["archive"], store["options"])
    found, results, staged = _run_ingest(settings, store["options"])
    local_found, local_results, local_staged = local_ingest

    assert found == local_found
    received = {(f["opd_code"], f["submission_type"]) for f in found if f["state"] == "received"}
    assert set(LOADS) <= received
    assert results == local_results
    assert results[("koperasi", "koperasi_pemberdayaan")]["status"] == "rejected"
    assert results[("dinsos", "dinsos_kpm")]["status"] == "accepted"
    assert results[("dinsos", "dinsos_kpm")]["files"] >= 2
    for key in LOADS:
        assert staged[key] == local_staged[key], key
    assert staged[("dinsos", "dinsos_kpm")], "no rows staged"

    # The raw files were archived on the same store, content-addressed by their sha256.
    fs, archive_root = fsspec.core.url_to_fs(store["archive"], **store["options"])
    folder = f"{archive_root.rstrip('/')}/{PERIOD}/dinsos/dinsos_kpm"
    archived = {Path(p).name[:16]: sha256(fs.cat_file(p)) for p in fs.ls(folder, detail=False)}
    originals = {sha256(p.read_bytes()) for p in (synth / PERIOD / "dinsos").iterdir() if p.is_file()}
    assert set(archived.values()) == originals
    assert all(digest.startswith(prefix) for prefix, digest in archived.items())

    # The recorded URIs keep protocol and host (sftp://host:port/..., s3://bucket/...): a steward can tell which
    # store a file came from; fsspec's listing drops them. No credentials in them.
    _assert_recorded_uris(settings.database_url, store)


def _assert_recorded_uris(url: str, store: dict) -> None:
    from sqlalchemy import select

    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import SubmissionBatch

    landing = store["landing"].rstrip("/")
    archive = store["archive"].rstrip("/")
    with session_scope(url) as s:
        files = [f for b in s.scalars(select(SubmissionBatch)) for f in b.files]
    assert files
    for f in files:
        assert f["uri"].startswith(f"{landing}/{PERIOD}/"), f["uri"]
        assert f["uri"].endswith("/" + f["name"])
        assert f["archive_uri"].startswith(f"{archive}/{PERIOD}/"), f["archive_uri"]
        assert SFTP_PASSWORD not in f["uri"] + f["archive_uri"] and "@" not in f["uri"] + f["archive_uri"]
    if store["kind"] == "sftp":
        assert landing.startswith("sftp://127.0.0.1:")

