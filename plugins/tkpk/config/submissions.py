"""OPDs (who sends what, by when, to whom feedback goes) and submission types (columns, aliases, checks).

Adding a submission type is a YAML entry in `submission_types.yaml` plus its suite in `expectations/`: no code.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

ColumnKind = Literal["nik", "kk", "text", "name", "date", "enum", "int", "amount", "kelurahan", "sex", "yn", "rtrw"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(Strict):
    name: str
    email: EmailStr


class Column(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: ColumnKind = "text"
    required: bool = True
    aliases: tuple[str, ...] = ()
    values: tuple[str, ...] = ()  # allowed values for kind=enum (compared case-insensitively)
    default: str | int | None = None
    min: float | None = None  # numeric range (int/amount)
    max: float | None = None
    # date range relative to E (the last day of the period): days after E allowed (0 = on or before E)
    max_days_after_end: int = 0
    min_year: int | None = None  # for int columns like tahun_anggaran: lower bound
    max_years_after_end: int | None = None  # for int year columns: year(E) + n

    @model_validator(mode="after")
    def _enum_has_values(self):
        if self.kind == "enum" and not self.values:
            raise ValueError(f"kolom '{self.name}' berjenis enum tetapi daftar 'values' kosong")
        return self


class PhotoRules(Strict):
    """Photo evidence checks of a type that carries photos (kelurahan_verval; `tkpk.verval`)."""

    tolerance_m: float = Field(250, ge=0)  # GPS point this far outside the household's kelurahan polygon is fine
    max_days: int = Field(14, ge=0)  # EXIF DateTimeOriginal at most this many days from tanggal_kunjungan
    reuse_max_distance: int = Field(6, ge=0, le=32)  # perceptual hashes (64 bits) this close are the same picture
    max_megapixels: float = Field(64, gt=0)  # larger pictures are refused without decoding (decompression bomb)
    max_photo_mb: float = Field(30, gt=0)  # larger files are refused before they are read
    required_photo: str = "foto_rumah"  # the row is `lengkap` when this photo has no finding
    other_photos: str | None = "foto_lain"  # several names separated by ';'


class SubmissionType(Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str  # Indonesian, shown to OPDs
    unit: Literal["person", "household"]
    group_by: str | None = None  # e.g. no_kk for kelurahan_usulan (persons grouped into households)
    columns: tuple[Column, ...]
    reject_error_share: float = Field(0.5, ge=0, le=1)  # more than this share of rows in error rejects the file
    age_range: tuple[int, int] | None = None  # plausible ages (warning outside)
    nik_optional_when: tuple[str, ...] = ()  # missing NIK only a warning when these are all present
    sheet_hints: tuple[str, ...] = ()  # sheet names to prefer when a workbook has several
    require_one_of: tuple[str, ...] = ()  # optional columns of which each row must fill at least one (nik, no_kk)
    # Types sent in a sub-folder of the sender's folder (`{landing}/{YYYY-MM}/{opd}/{folder}/`): every file in it
    # belongs to the type (sheets, photos, a zip of photos), and the type never takes files from the folder above.
    folder: str | None = Field(None, pattern=r"^[a-z][a-z0-9_-]*$")
    photos: PhotoRules | None = None

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


class FileLimits(Strict):
    """Safety limits applied to every submitted file before and while it is parsed."""

    max_file_mb: float = Field(256, gt=0)  # larger files are rejected before parsing
    max_uncompressed_mb: float = Field(1024, gt=0)  # XLSX/ODS: total size of the unpacked zip members
    max_compression_ratio: float = Field(250, gt=1)  # XLSX/ODS: a member that unpacks to more than this ratio
    max_rows: int = Field(1_500_000, gt=0)  # rows of one sheet (its used area) or one CSV
    max_cells: int = Field(20_000_000, gt=0)  # rows x columns of one sheet's used area (memory: ~50 bytes a cell)
    max_cell_chars: int = Field(4_000, gt=0)  # a longer cell is an error on its row (value not stored whole)


class SubmissionTypesConfig(Strict):
    common_aliases: dict[str, tuple[str, ...]] = {}
    file_limits: FileLimits = FileLimits()
    types: tuple[SubmissionType, ...]

    @model_validator(mode="after")
    def _unique(self):
        codes = [t.code for t in self.types]
        dupes = {c for c in codes if codes.count(c) > 1}
        if dupes:
            raise ValueError(f"kode jenis kiriman ganda: {', '.join(sorted(dupes))}")
        return self

    def get(self, code: str) -> SubmissionType:
        for t in self.types:
            if t.code == code:
                return t
        known = ", ".join(t.code for t in self.types)
        raise KeyError(f"Jenis kiriman '{code}' tidak dikenal. Jenis yang tersedia: {known}.")

    def aliases_for(self, type_code: str) -> dict[str, str]:
        """Map of normalised header text -> canonical column name for one type."""
        out: dict[str, str] = {}
        for col in self.get(type_code).columns:
            for alias in (col.name, *self.common_aliases.get(col.name, ()), *col.aliases):
                out[header_key(alias)] = col.name
        return out


def header_key(text: str) -> str:
    """How headers are compared: case-, space- and punctuation-insensitive ('No. NIK' == 'no nik' == 'NO_NIK')."""
    return re.sub(r"[^a-z0-9]+", "", str(text).lower())


class Opd(Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9\-]*$")
    name: str
    required: bool = True
    deadline_day: int = Field(5, ge=1, le=28)
    submissions: tuple[str, ...]
    contacts: tuple[Contact, ...] = ()


class KelurahanOpds(Strict):
    """Every kelurahan may send proposals from its own folder `kel-<10-digit code>`; none is required.

    Who gets a kelurahan's feedback e-mail: its own `contacts` (keyed by kelurahan code, `15.71.01.1001`), else the
    operator of its kecamatan (`kecamatan_contacts`, keyed by kecamatan code, `15.71.01`)."""

    enabled: bool = True
    submissions: tuple[str, ...] = ("kelurahan_usulan",)
    required: bool = False
    deadline_day: int = Field(5, ge=1, le=28)
    contacts: dict[str, tuple[Contact, ...]] = {}
    kecamatan_contacts: dict[str, tuple[Contact, ...]] = {}

    def contacts_for(self, kode_kelurahan: str) -> tuple[Contact, ...]:
        own = self.contacts.get(kode_kelurahan)
        if own:
            return own
        return self.kecamatan_contacts.get(kode_kelurahan.rsplit(".", 1)[0], ())


class FolderSubmission(Strict):
    """A type that configured OPDs and/or every kelurahan may send in its sub-folder, whenever they have one (never
    required, never reminded, never in the submission scorecard)."""

    type: str
    opds: tuple[str, ...] = ()
    kelurahan: bool = True


class OpdsConfig(Strict):
    schedule_day: int = Field(10, ge=1, le=28)  # day of month the monthly run starts (07:00 WIB)
    finish_by_hour: int = Field(17, ge=8, le=23)  # stewards are alerted if the run is not finished by then (WIB)
    reminder_days_before: int = Field(3, ge=0, le=20)
    stewards: tuple[Contact, ...] = ()
    opds: tuple[Opd, ...]
    kelurahan: KelurahanOpds = KelurahanOpds()
    folder_submissions: tuple[FolderSubmission, ...] = ()

    def folder_types_for(self, opd_code: str) -> list[str]:
        """The sub-folder types (`folder_submissions`) an OPD may send, e.g. kelurahan_verval."""
        return [f.type for f in self.folder_submissions
                if opd_code in f.opds or (f.kelurahan and opd_code.startswith("kel-"))]

    @field_validator("opds")
    @classmethod
    def _unique(cls, v):
        codes = [o.code for o in v]
        dupes = {c for c in codes if codes.count(c) > 1}
        if dupes:
            raise ValueError(f"kode OPD ganda: {', '.join(sorted(dupes))}")
        return v

    def check_types(self, types: SubmissionTypesConfig, path: Path) -> None:
        from tkpk.config import ConfigError

        known = {t.code for t in types.types}
        for fs in self.folder_submissions:
            if fs.type not in known or not types.get(fs.type).folder:
                raise ConfigError(
                    f"Konfigurasi salah di berkas {path.name}: folder_submissions memakai jenis '{fs.type}' yang "
                    "tidak ada di submission_types.yaml atau tidak punya 'folder'.")
        for opd in self.opds:
            for sub in opd.submissions:
                if sub not in known:
                    raise ConfigError(
                        f"Konfigurasi salah di berkas {path.name}: OPD '{opd.code}' mengirim jenis '{sub}' "
                        f"yang tidak ada di submission_types.yaml (yang ada: {', '.join(sorted(known))})."
                    )

    def all_opds(self, kelurahan_codes: list[str] | None = None) -> list[Opd]:
        """Configured OPDs plus one per kelurahan (`kel-1571011001`) when kelurahan submissions are enabled."""
        out = list(self.opds)
        if self.kelurahan.enabled:
            if kelurahan_codes is None:
                from tkpk.normalize.kelurahan import KelurahanIndex

                kelurahan_codes = [k.kode_kelurahan for k in KelurahanIndex.load().rows]
            for code in kelurahan_codes:
                digits = code.replace(".", "")
                out.append(
                    Opd(
                        code=f"kel-{digits}",
                        name=f"Kelurahan {_kelurahan_name(code)}",
                        required=self.kelurahan.required,
                        deadline_day=self.kelurahan.deadline_day,
                        submissions=self.kelurahan.submissions,
                        contacts=self.kelurahan.contacts_for(code),
                    )
                )
        return out

    def get(self, code: str) -> Opd:
        for opd in self.all_opds():
            if opd.code == code:
                return opd
        raise KeyError(f"OPD '{code}' tidak ada di konfigurasi opds.yaml.")


def _kelurahan_name(code: str) -> str:
    from tkpk.normalize.kelurahan import KelurahanIndex

    found = KelurahanIndex.load().by_code.get(code)
    return found.kelurahan if found else code
