"""Who receives which report: name, e-mail, role, scope (kota | kecamatan:15.71.xx | kelurahan:15.71.xx.xxxx | opd:CODE),
and whether they may see personal data (`pii: true`: by-name lists in attachments)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, field_validator

SCOPE_RE = re.compile(r"^(kota|kecamatan:15\.71\.\d{2}|kelurahan:15\.71\.\d{2}\.\d{4})$")


class Recipient(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    email: EmailStr
    role: Literal["anggota", "camat", "lurah", "steward", "opd"] = "anggota"
    scope: str = "kota"
    pii: bool = False

    @field_validator("scope")
    @classmethod
    def _scope(cls, v: str) -> str:
        if not SCOPE_RE.match(v):
            raise ValueError(
                f"scope '{v}' tidak valid: gunakan 'kota', 'kecamatan:15.71.xx' atau 'kelurahan:15.71.xx.xxxx'"
            )
        return v

    @property
    def scope_kind(self) -> str:
        return self.scope.split(":", 1)[0]

    @property
    def scope_code(self) -> str | None:
        return self.scope.split(":", 1)[1] if ":" in self.scope else None


class RecipientsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sender: EmailStr = "tkpk@jambikota.example"
    sender_name: str = "TKPK Kota Jambi"
    recipients: tuple[Recipient, ...]

    def with_scope(self, kind: str) -> list[Recipient]:
        return [r for r in self.recipients if r.scope_kind == kind]
