"""A what-if request from the `tkpk_simulate` trigger form: one program, its common overrides as typed fields, free
`--set` lines, and the requester's e-mail. The DAG calls `validate_request` (cheap, fails fast on a wrong value) and
then `run_request` (compute, store under the run's id, e-mail the comparison report).
"""

from __future__ import annotations

import logging
import re

from tkpk.config import ConfigError, load_config

log = logging.getLogger(__name__)

# form field -> override path (PROGRAM is the program chosen in the form)
COMMON_FIELDS = {
    "desil_min": "PROGRAM.desil.min",
    "desil_max": "PROGRAM.desil.max",
    "usia_min": "PROGRAM.age.min",
    "usia_max": "PROGRAM.age.max",
    "kuota_per_wilayah": "PROGRAM.quota.size",
    "nominal_setahun": "PROGRAM.amount",
    "pagu_tahunan": "pagu.PROGRAM.tahunan",
    "pagu_per_kelurahan": "pagu.PROGRAM.per_kelurahan",
}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def program_codes(config_dir=None) -> list[str]:
    """Program codes of programs.yaml for the trigger form's dropdown (plain YAML: cheap enough for DAG parsing)."""
    from pathlib import Path

    import yaml

    if config_dir is None:
        from tkpk.settings import Settings

        config_dir = Settings.from_env().config_dir
    data = yaml.safe_load((Path(config_dir) / "programs.yaml").read_text(encoding="utf-8")) or {}
    return [p["code"] for p in data.get("programs", []) if isinstance(p, dict) and "code" in p]


def request_sets(program: str | None, common: dict, lines) -> list[str]:
    """The --set lines of a request: the filled common fields for `program`, then the free lines."""
    sets = []
    filled = {k: v for k, v in (common or {}).items() if k in COMMON_FIELDS and v not in (None, "")}
    if filled and not program:
        raise ConfigError("Pilih program untuk mengisi " + ", ".join(sorted(filled)) + ".")
    for key, value in filled.items():
        sets.append(f"{COMMON_FIELDS[key].replace('PROGRAM', program)}={value}")
    if isinstance(lines, str):
        lines = lines.splitlines()
    sets += [line.strip() for line in (lines or []) if line and line.strip() and not line.strip().startswith("#")]
    return sets


def validate_request(settings, period: str, program: str | None, common: dict, lines, requester: str,
                     name: str | None = None) -> dict:
    """Check the request without computing anything; ConfigError (Indonesian) names the wrong field or line."""
    from tkpk.period import Period
    from tkpk.simulate import ScenarioSpec, build_scenarios

    try:
        Period.parse(period)
    except ValueError as exc:
        raise ConfigError(f"Periode '{period}' tidak valid: {exc}") from None
    if not requester or not EMAIL_RE.match(requester.strip()):
        raise ConfigError(f"Alamat e-mail peminta '{requester}' tidak valid.")
    sets = request_sets(program, common, lines)
    if not sets:
        raise ConfigError("Tidak ada perubahan aturan: isi salah satu kolom perubahan atau baris --set.")
    config = load_config(settings.config_dir)
    name = name or (program or "skenario")
    build_scenarios(config, [ScenarioSpec(name, sets)])
    return {"period": period, "name": name, "sets": sets, "requester": requester.strip()}


def run_request(settings, smtp, request: dict, request_id: str | None = None) -> dict:
    """Simulate, store (replacing an earlier attempt of the same run), e-mail the requester; counts only."""
    from tkpk.simulate import ScenarioSpec, build_scenarios, save, simulate_warehouse
    from tkpk.simulate.report import send_comparison

    config = load_config(settings.config_dir)
    scenarios = build_scenarios(config, [ScenarioSpec(request["name"], request["sets"])])
    sim = simulate_warehouse(settings, request["period"], scenarios, config)
    ids = save(settings, sim, request["requester"], request_id)
    sent = send_comparison(settings, smtp, sim, request["requester"], ids, config)
    result = {"scenario_ids": ids, "differences": sum(len(r.diff) for r in sim.results),
              "programs_recomputed": [c for r in sim.results for c in r.scenario.touched], **sent}
    log.info("Simulasi %s: %s", request["period"], result)
    return result
