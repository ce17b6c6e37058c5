"""Runtime settings from environment variables, with defaults for the embedded (one-machine) setup.

Every path default is under the project root: `var/` for runtime state and `data/landing/` for the landing zone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

REFERENCE_FILE = "kota_jambi_kelurahan_kepmendagri2025.csv"  # Kepmendagri 300.2.2-2138/2025
PROJECT_ROOT = Path(os.environ.get("TKPK_HOME", Path(__file__).resolve().parents[2]))


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def mask_url(url: str) -> str:
    """A URL with its password replaced by `***` (database, sftp, s3 URLs): safe for logs and reprs."""
    text = str(url)
    if "://" not in text or "@" not in text:
        return text
    try:
        from sqlalchemy.engine import make_url

        return make_url(text).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a database URL: mask by hand
        scheme, rest = text.split("://", 1)
        netloc, slash, path = rest.partition("/")
        userinfo, _at, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}{slash}{path}" if ":" in userinfo else text


@dataclass(frozen=True)
class Settings:
    """Where things live. Construct with `Settings.from_env()`; tests pass explicit values.

    `repr()` masks passwords: in the URLs and every storage option (the landing's sftp password, S3 secret)."""

    database_url: str
    landing_url: str
    archive_url: str
    reports_dir: Path
    outbox_dir: Path
    config_dir: Path
    reference_dir: Path
    expectations_dir: Path
    sql_dir: Path
    templates_dir: Path
    var_dir: Path
    storage_options: dict = field(default_factory=dict)
    # Landing safety (file:// and SFTP): a file changed less than this many seconds ago may still be being copied;
    # discover waits at most `settle_max_wait` seconds for it within the run. Env: TKPK_SETTLE_SECONDS,
    # TKPK_SETTLE_MAX_WAIT (the test suite and the demo, whose files are complete when written, set 0).
    settle_seconds: float = field(default_factory=lambda: float(os.environ.get("TKPK_SETTLE_SECONDS", "120")))
    settle_max_wait: float = field(default_factory=lambda: float(os.environ.get("TKPK_SETTLE_MAX_WAIT", "900")))

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("database_url", "landing_url", "archive_url"):
                value = mask_url(value)
            elif f.name == "storage_options":
                value = {k: "***" for k in value} if value else {}
            shown.append(f"{f.name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


    @classmethod
    def from_env(cls, **overrides) -> Settings:
        var = Path(_env("TKPK_VAR_DIR", str(PROJECT_ROOT / "var")))
        values = dict(
            database_url=_env("TKPK_DATABASE_URL", f"sqlite:///{var / 'warehouse.db'}"),
            landing_url=_env("TKPK_LANDING_URL", (PROJECT_ROOT / "data" / "landing").as_uri()),
            archive_url=_env("TKPK_ARCHIVE_URL", (var / "archive").as_uri()),
            reports_dir=Path(_env("TKPK_REPORTS_DIR", str(var / "reports"))),
            outbox_dir=Path(_env("TKPK_OUTBOX_DIR", str(var / "outbox"))),
            config_dir=Path(_env("TKPK_CONFIG_DIR", str(PROJECT_ROOT / "include" / "config"))),
            reference_dir=Path(_env("TKPK_REFERENCE_DIR", str(PROJECT_ROOT / "include" / "reference"))),
            expectations_dir=Path(_env("TKPK_EXPECTATIONS_DIR", str(PROJECT_ROOT / "expectations"))),
            sql_dir=PROJECT_ROOT / "include" / "sql",
            templates_dir=PROJECT_ROOT / "include" / "templates",
            var_dir=var,
        )
        values.update(overrides)
        return cls(**values)
