"""Program rules (DESIGN.md section 7) as data: desil ranges, ages, components, amounts, quotas, rule-set version.

Changing an amount, a desil range, an age bound, a quota or the PKH component cap is a YAML edit, never code.
Each program names its rule `kind`; the eligibility engine (`tkpk.eligibility.rules`) implements one function per
family of kinds:

- household rules (`desil_only`, `rtlh`): desil range, optional housing conditions and the completed-RTLH exclusion;
- person rules (`household_members`, `bpjs_tk`, `pip`): desil of the household plus optional age, work sector,
  school level (jenjang) conditions, amounts by jenjang and a ranked quota;
- `pkh`: components per active member, one per person (the highest-paid), capped per household;
- `graduation`: households active in a program's recipient list that are no longer eligible for it.

Where rows of a submission feed a rule (recipients, PKH status, RTLH history), a `RowSource` says which rows count.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PERSON_KINDS = ("household_members", "bpjs_tk", "pip")
HOUSEHOLD_KINDS = ("desil_only", "rtlh", "pkh", "graduation")


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

    @property
    def label(self) -> str:
        """`1` or `1_2`: used in reason codes (`desil_di_luar_1_2`)."""
        return f"{self.min}" if self.min == self.max else f"{self.min}_{self.max}"


class AgeRange(Strict):
    """Age in full years at E; both bounds inclusive, either may be left out."""

    min: int | None = Field(None, ge=0, le=130)
    max: int | None = Field(None, ge=0, le=130)

    @model_validator(mode="after")
    def _order(self):
        if self.min is None and self.max is None:
            raise ValueError("rentang usia harus punya min atau max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"usia min ({self.min}) lebih besar dari max ({self.max})")
        return self

    @property
    def label(self) -> str:
        """`18_64`, `70_ke_atas`, `0_21` (used in reason codes)."""
        if self.max is None:
            return f"{self.min}_ke_atas"
        return f"{self.min or 0}_{self.max}"


class PkhComponent(Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    amount: int = Field(ge=0)
    # what makes an active member count for the component
    condition: Literal["pregnant", "age", "enrolled", "disabled"]
    age: AgeRange | None = None
    jenjang: tuple[str, ...] = ()  # for condition=enrolled

    @model_validator(mode="after")
    def _complete(self):
        if self.condition == "age" and self.age is None:
            raise ValueError(f"komponen '{self.code}' bersyarat usia tetapi 'age' tidak diisi")
        if self.condition == "enrolled" and not self.jenjang:
            raise ValueError(f"komponen '{self.code}' bersyarat sekolah tetapi 'jenjang' kosong")
        return self


class Quota(Strict):
    # quotas never cross a kecamatan, so eligibility can run as one task per kecamatan
    per: Literal["kelurahan", "kecamatan"] = "kelurahan"
    size: int = Field(ge=0)
    # ranking keys, in order: desil asc, household size (active members at E) desc, age desc, id_art asc
    order: tuple[Literal["desil", "household_size_desc", "age_desc", "id_art"], ...] = (
        "desil", "household_size_desc", "age_desc", "id_art",
    )


class RowSource(Strict):
    """Which rows of a submission type feed a rule, and how a row finds its registry unit."""

    type: str = Field(pattern=r"^[a-z][a-z0-9_]*$")  # submission type code (submission_types.yaml)
    match: Literal["no_kk", "nik", "nik_pengurus"]  # no_kk -> household; nik / nik_pengurus -> person
    where: dict[str, tuple[str, ...]] = {}  # column -> allowed values (compared case-insensitively)
    same_year_column: str | None = None  # this column must equal year(E) (e.g. tahun_anggaran)


class Program(Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str  # Indonesian label for reports
    unit: Literal["household", "person"]
    kind: Literal["desil_only", "pkh", "household_members", "bpjs_tk", "pip", "rtlh", "graduation"]
    desil: DesilRange | None = None
    age: AgeRange | None = None
    amount: int = Field(0, ge=0)  # rupiah per year (RTLH: one-off)
    amounts_by_jenjang: dict[str, int] = {}
    jenjang: tuple[str, ...] = ()
    pekerjaan_sektor: tuple[str, ...] = ()
    components: tuple[PkhComponent, ...] = ()
    max_components: int | None = Field(None, ge=1)
    quota: Quota | None = None
    requires_rumah_tidak_layak: bool = False
    requires_milik_sendiri: bool = False
    # RTLH: no completed rehabilitation (rows of `completed_from`) with tahun_anggaran >= year(E) - this many years
    rtlh_recent_years: int | None = Field(None, ge=0)
    completed_from: RowSource | None = None
    # graduation: households active in `active_from` (latest accepted batch up to P) but not eligible for this program
    graduates_from: str | None = None
    active_from: RowSource | None = None
    # targeting: who is receiving the program, from this period's accepted rows
    recipients: RowSource | None = None

    @model_validator(mode="after")
    def _fits_kind(self):
        expected_unit = "person" if self.kind in PERSON_KINDS else "household"
        if self.unit != expected_unit:
            raise ValueError(f"program '{self.code}' berjenis {self.kind} harus ber-unit '{expected_unit}'")
        if self.kind != "graduation" and self.desil is None:
            raise ValueError(f"program '{self.code}' wajib punya rentang 'desil'")
        if self.kind == "pkh":
            if not self.components or self.max_components is None:
                raise ValueError(f"program '{self.code}' (pkh) wajib punya 'components' dan 'max_components'")
            codes = [c.code for c in self.components]
            if len(set(codes)) != len(codes):
                raise ValueError(f"kode komponen ganda di program '{self.code}'")
        if self.jenjang and self.amounts_by_jenjang:
            missing = [j for j in self.jenjang if j not in self.amounts_by_jenjang]
            if missing:
                raise ValueError(f"program '{self.code}': nominal untuk jenjang {', '.join(missing)} belum diisi")
        if self.rtlh_recent_years is not None and self.completed_from is None:
            raise ValueError(f"program '{self.code}': 'rtlh_recent_years' butuh 'completed_from'")
        if self.kind == "graduation" and (self.graduates_from is None or self.active_from is None):
            raise ValueError(f"program '{self.code}' (graduation) wajib punya 'graduates_from' dan 'active_from'")
        if self.quota is not None and self.unit != "person":
            raise ValueError(f"program '{self.code}': kuota hanya untuk program per orang")
        return self


class ProgramsConfig(Strict):
    rule_set_version: str = Field(min_length=1, max_length=20)
    programs: tuple[Program, ...]

    @model_validator(mode="after")
    def _consistent(self):
        codes = [p.code for p in self.programs]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"kode program ganda: {', '.join(dupes)}")
        for p in self.programs:
            if p.kind == "graduation":
                if p.graduates_from not in codes:
                    raise ValueError(f"program '{p.code}': graduates_from '{p.graduates_from}' tidak ada")
                source = self.get(p.graduates_from)
                if source.kind != "pkh" or codes.index(source.code) > codes.index(p.code):
                    raise ValueError(
                        f"program '{p.code}': graduates_from harus program berjenis pkh yang tercantum lebih dulu"
                    )
        return self

    def get(self, code: str) -> Program:
        for p in self.programs:
            if p.code == code:
                return p
        raise KeyError(code)

    def row_sources(self) -> list[RowSource]:
        out = []
        for p in self.programs:
            out += [s for s in (p.recipients, p.completed_from, p.active_from) if s is not None]
        return out
