"""Budgets (pagu) as data: `include/config/budget.yaml` (DESIGN.md section 7).

A budget edit is not a rule change: it does not raise `rule_set_version` and never changes an eligibility decision.
Reports compare each program's yearly pagu with its realisation (a yearly run-rate: recipients in this month's OPD
data x the rule's yearly benefit, "perkiraan setahun") and show what is left; BPJS TK also has a pagu per kelurahan.
What-if planning (`tkpk simulate`) reaches these values as `pagu.<program>.<field>`.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from tkpk.config.programs import Strict


class ProgramBudget(Strict):
    # yearly pagu for the whole city, rupiah; None = no city pagu set for this program (the report says so)
    tahunan: int | None = Field(None, ge=0)
    # BPJS TK: one pagu per kelurahan (default for every kelurahan), with explicit exceptions by kelurahan code
    per_kelurahan: int | None = Field(None, ge=0)
    kelurahan: dict[str, int] = {}
    sumber: str | None = None  # funding source, shown in the report (e.g. "APBD Kota", "Bantuan Keuangan Provinsi")

    @model_validator(mode="after")
    def _codes(self):
        from tkpk.normalize.kelurahan import KelurahanIndex

        index = KelurahanIndex.load()
        for code, amount in self.kelurahan.items():
            if index.code(code) is None:
                raise ValueError(f"kode kelurahan '{code}' bukan kelurahan Kota Jambi")
            if amount < 0:
                raise ValueError(f"pagu kelurahan {code} tidak boleh negatif")
        return self

    def for_kelurahan(self, kode_kelurahan: str) -> int | None:
        """The pagu of one kelurahan: its explicit entry, else the default `per_kelurahan`."""
        from tkpk.normalize.kelurahan import KelurahanIndex

        index = KelurahanIndex.load()
        wanted = index.code(kode_kelurahan)
        for code, amount in self.kelurahan.items():
            if index.code(code) == wanted:
                return amount
        return self.per_kelurahan


class BudgetConfig(Strict):
    tahun_anggaran: int = Field(ge=2000, le=2100)
    pagu: dict[str, ProgramBudget]

    def for_program(self, code: str) -> ProgramBudget | None:
        return self.pagu.get(code)

    def check_programs(self, programs, path) -> None:
        """Every budgeted program must exist in programs.yaml (a typo would silently drop a budget line)."""
        from tkpk.config import ConfigError

        known = {p.code for p in programs.programs}
        unknown = sorted(set(self.pagu) - known)
        if unknown:
            raise ConfigError(
                f"Konfigurasi salah di berkas {path.name}: program {', '.join(unknown)} tidak ada di programs.yaml "
                f"(yang ada: {', '.join(sorted(known))})"
            )
