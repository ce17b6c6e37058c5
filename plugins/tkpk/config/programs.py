"""Program rules (DESIGN.md section 7) as data: desil ranges, ages, components, amounts, quotas, rule-set version.

Changing an amount, a desil range, an age bound, a quota or the PKH component cap is a YAML edit, never code.
Each program names its rule `kind`; the eligibility engine implements one function per kind.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DesilRange(Strict):
    min: int = Field(1, ge=1, le=10)
    max: int = Field(10, ge=1, le=10)

    @model_validator(mode="after")
    def _order(self):
        if self.min > self.max:
            raise ValueError(f"desil min ({self.min}) lebih besar dari max ({self.max})")
        return self


class AgeRange(Strict):
    min: int | None = Field(None, ge=0, le=130)
    max: int | None = Field(None, ge=0, le=130)


class PkhComponent(Strict):
    code: str
    amount: int = Field(ge=0)
    # what makes a member count for the component
    condition: Literal["pregnant", "age", "enrolled", "disabled"]
    age: AgeRange | None = None
    jenjang: tuple[str, ...] = ()  # for condition=enrolled


class Quota(Strict):
    per: Literal["kelurahan", "kecamatan", "kota"] = "kelurahan"
    size: int = Field(ge=0)
    # ranking keys, in order: desil asc, household size desc, age desc, id_art asc
    order: tuple[Literal["desil", "household_size_desc", "age_desc", "id_art"], ...] = (
        "desil", "household_size_desc", "age_desc", "id_art",
    )


class Program(Strict):
    code: str
    name: str  # Indonesian label for reports
    unit: Literal["household", "person"]
    kind: Literal[
        "desil_only", "pkh", "household_members", "bpjs_tk", "pip", "rtlh", "graduation"
    ]
    desil: DesilRange | None = None
    age: AgeRange | None = None
    amount: int = Field(0, ge=0)  # rupiah per year (RTLH: one-off)
    amounts_by_jenjang: dict[str, int] = {}
    jenjang: tuple[str, ...] = ()
    pekerjaan_sektor: tuple[str, ...] = ()
    components: tuple[PkhComponent, ...] = ()
    max_components: int | None = Field(None, ge=1)
    quota: Quota | None = None
    rtlh_recent_years: int | None = Field(None, ge=0)  # no Perkim RTLH 'selesai' within this many years
    requires_rumah_tidak_layak: bool = False
    requires_milik_sendiri: bool = False
    # targeting: where recipient data comes from ("submission_type:filter")
    recipients_from: str | None = None


class ProgramsConfig(Strict):
    rule_set_version: str
    programs: tuple[Program, ...]

    def get(self, code: str) -> Program:
        for p in self.programs:
            if p.code == code:
                return p
        raise KeyError(code)
