"""Configuration as data: YAML under `include/config/`, validated on load by pydantic models.

A mistake is reported as a `ConfigError` naming the file, the key and what was expected, in Indonesian, so a
steward who edits a YAML file can fix it without reading Python.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

_PHRASES = {
    "missing": "wajib diisi",
    "extra_forbidden": "kunci ini tidak dikenal (salah ketik?)",
    "int_parsing": "harus berupa bilangan bulat",
    "int_type": "harus berupa bilangan bulat",
    "float_parsing": "harus berupa angka",
    "bool_parsing": "harus true atau false",
    "bool_type": "harus true atau false",
    "string_type": "harus berupa teks",
    "list_type": "harus berupa daftar (list)",
    "dict_type": "harus berupa pemetaan (kunci: nilai)",
    "literal_error": "nilainya harus salah satu dari",
    "enum": "nilainya harus salah satu dari",
    "greater_than_equal": "terlalu kecil",
    "less_than_equal": "terlalu besar",
    "string_pattern_mismatch": "formatnya salah",
    "value_error": "tidak valid",
}


class ConfigError(ValueError):
    """A configuration file is wrong; the message is for a steward, in Indonesian."""


def _explain(exc: ValidationError, path: Path) -> str:
    lines = [f"Konfigurasi salah di berkas {path.name}:"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(akar berkas)"
        phrase = _PHRASES.get(err["type"], err["msg"])
        ctx = err.get("ctx") or {}
        if err["type"] in ("literal_error", "enum") and "expected" in ctx:
            phrase = f"{phrase} {ctx['expected']}"
        elif err["type"] == "value_error":
            phrase = str(ctx.get("error", err["msg"]))
        elif err["type"] in ("greater_than_equal", "less_than_equal"):
            bound = ctx.get("ge", ctx.get("le"))
            phrase = f"{phrase}: batasnya {bound}"
        value = err.get("input")
        shown = "" if err["type"] == "missing" or isinstance(value, (dict, list)) else f" (nilai sekarang: {value!r})"
        lines.append(f"  - kunci '{key}': {phrase}{shown}")
    return "\n".join(lines)


# libyaml's loader when PyYAML was built with it (ten times faster; the same safe subset of YAML).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path, model: type[T]) -> T:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except FileNotFoundError as exc:
        raise ConfigError(f"Berkas konfigurasi {path} tidak ditemukan.") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" baris {mark.line + 1}, kolom {mark.column + 1}" if mark else ""
        raise ConfigError(f"Berkas {path.name} bukan YAML yang valid{where}: {getattr(exc, 'problem', exc)}") from exc
    try:
        return model.model_validate(raw or {})
    except ValidationError as exc:
        raise ConfigError(_explain(exc, path)) from None


@dataclass(frozen=True)
class Config:
    """Everything under include/config/, loaded and cross-checked."""

    opds: object  # OpdsConfig
    types: object  # SubmissionTypesConfig
    programs: object  # ProgramsConfig
    recipients: object  # RecipientsConfig
    budget: object  # BudgetConfig
    version: str  # sha256 of the YAML files, recorded with each run


def config_version(config_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(config_dir.glob("*.yaml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@lru_cache(maxsize=8)
def load_config(config_dir: str | Path | None = None) -> Config:
    from tkpk.config.budget import BudgetConfig
    from tkpk.config.programs import ProgramsConfig
    from tkpk.config.recipients import RecipientsConfig
    from tkpk.config.submissions import OpdsConfig, SubmissionTypesConfig

    if config_dir is None:
        from tkpk.settings import Settings

        config_dir = Settings.from_env().config_dir
    config_dir = Path(config_dir)
    types = load_yaml(config_dir / "submission_types.yaml", SubmissionTypesConfig)
    opds = load_yaml(config_dir / "opds.yaml", OpdsConfig)
    opds.check_types(types, config_dir / "opds.yaml")
    programs = load_yaml(config_dir / "programs.yaml", ProgramsConfig)
    recipients = load_yaml(config_dir / "recipients.yaml", RecipientsConfig)
    budget = load_yaml(config_dir / "budget.yaml", BudgetConfig)
    budget.check_programs(programs, config_dir / "budget.yaml")
    return Config(opds, types, programs, recipients, budget, config_version(config_dir))
