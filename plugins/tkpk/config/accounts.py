"""Who may use the Airflow UI and the TKPK view: `include/config/accounts.yaml`, one entry per person.

Roles are the project's own (`steward`, `anggota`); each auth manager gets them in its own terms: the simple auth
manager's fixed roles locally (`simple_auth_users()`), FAB roles in production. Scope and pii follow
recipients.yaml: a person in both files must have the same scope and pii in both, so the view unmasks exactly
what that person's e-mails unmask. The `approval` block configures the sign-off before the month's e-mails go out.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from tkpk.config.recipients import SCOPE_RE

# steward may trigger runs, clear tasks and answer the approval: Airflow's `op`; anggota only reads: `viewer`.
SIMPLE_ROLES = {"steward": "op", "anggota": "viewer"}


class Account(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(pattern=r"^[A-Za-z0-9._-]{2,64}$")
    name: str
    email: EmailStr | None = None
    role: Literal["steward", "anggota"]
    scope: str = "kota"
    pii: bool = False

    @field_validator("scope")
    @classmethod
    def _scope(cls, v: str) -> str:
        if not SCOPE_RE.match(v):
            raise ValueError(
                f"scope '{v}' tidak valid: gunakan 'kota', 'kecamatan:15.71.xx' atau 'kelurahan:15.71.xx.xxxx'")
        return v

    @property
    def is_steward(self) -> bool:
        return self.role == "steward"

    def sees_nik(self, kode_kelurahan: str | None) -> bool:
        """NIK unmasked only with pii and only inside the person's scope (as in the e-mails)."""
        if not self.pii:
            return False
        if self.scope == "kota":
            return True
        code = self.scope.split(":", 1)[1]
        return bool(kode_kelurahan) and str(kode_kelurahan).startswith(code)


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    required: bool = True
    timeout_hours: float = Field(48, gt=0)
    default: Literal["approve", "reject"] = "reject"


class AccountsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    approval: Approval = Approval()
    accounts: tuple[Account, ...]

    @model_validator(mode="after")
    def _unique(self):
        seen: set[str] = set()
        for a in self.accounts:
            if a.username.lower() in seen:
                raise ValueError(f"username '{a.username}' muncul dua kali")
            seen.add(a.username.lower())
        if not any(a.is_steward for a in self.accounts):
            raise ValueError("minimal satu akun harus ber-role steward")
        return self

    def get(self, username: str | None) -> Account | None:
        for a in self.accounts:
            if username and a.username.lower() == username.lower():
                return a
        return None

    @property
    def stewards(self) -> list[Account]:
        return [a for a in self.accounts if a.is_steward]

    def simple_auth_users(self) -> str:
        """`[core] simple_auth_manager_users`: `name:role,...` in Airflow's fixed roles."""
        return ",".join(f"{a.username}:{SIMPLE_ROLES[a.role]}" for a in self.accounts)

    def check_recipients(self, recipients, path: Path) -> None:
        from tkpk.config import ConfigError

        by_email = {str(r.email).lower(): r for r in recipients.recipients}
        for a in self.accounts:
            r = by_email.get(str(a.email).lower()) if a.email else None
            if r is not None and (r.scope != a.scope or r.pii != a.pii):
                raise ConfigError(
                    f"Konfigurasi salah di berkas {path.name}: akun '{a.username}' ({a.email}) punya scope "
                    f"{a.scope}/pii {str(a.pii).lower()}, tetapi recipients.yaml menulis scope {r.scope}/pii "
                    f"{str(r.pii).lower()}. Samakan keduanya.")


def approval_from_env(approval: Approval) -> Approval:
    """`TKPK_APPROVAL_REQUIRED=false` switches the sign-off off (what `make demo` does: it runs unattended)."""
    flag = os.environ.get("TKPK_APPROVAL_REQUIRED")
    if flag is None or not flag.strip():
        return approval
    return approval.model_copy(update={"required": flag.strip().lower() in ("1", "true", "ya", "yes", "on")})


def load_accounts(config_dir: str | Path | None = None) -> AccountsConfig:
    from tkpk.config import load_yaml
    from tkpk.config.recipients import RecipientsConfig

    if config_dir is None:
        from tkpk.settings import Settings

        config_dir = Settings.from_env().config_dir
    config_dir = Path(config_dir)
    path = config_dir / "accounts.yaml"
    accounts = load_yaml(path, AccountsConfig)
    accounts.check_recipients(load_yaml(config_dir / "recipients.yaml", RecipientsConfig), path)
    return accounts.model_copy(update={"approval": approval_from_env(accounts.approval)})

