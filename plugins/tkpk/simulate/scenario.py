"""A scenario: the current rule set (or a whole alternative `programs.yaml`) plus `--set` overrides.

    pkh.desil.max=2                        a path into the program's entry of programs.yaml
    pkh.components.lansia.age.min=70       a PKH component is addressed by its code, as a program is
    bpjs_tk.quota.size=60                  (a missing block such as `quota` is created, then validated)
    pagu.bpjs_tk.per_kelurahan=12000000    budgets under `pagu.` (include/config/budget.yaml)
    pagu.bpjs_tk.kelurahan.15.71.01.1001=8000000

A value is read as YAML (`2` is a number, `[SD, SMP]` a list, `null` clears a key) and the whole rule set is then
validated by the same pydantic models as the files themselves, so a wrong value gets the same Indonesian message as
a wrong line in programs.yaml, naming the override path instead of a list index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from tkpk.config import ConfigError, _explain, load_yaml
from tkpk.config.budget import BudgetConfig
from tkpk.config.programs import ProgramsConfig

SET_FORMAT = "PROGRAM.KUNCI=NILAI (misalnya pkh.desil.max=2 atau pagu.bpjs_tk.per_kelurahan=12000000)"


@dataclass(frozen=True)
class Override:
    path: str  # e.g. pkh.components.lansia.age.min
    value: object  # parsed YAML value
    text: str  # as given on the command line

    @property
    def is_budget(self) -> bool:
        return self.path.startswith("pagu.")


@dataclass
class Scenario:
    """A named rule set and budget for one what-if question."""

    name: str
    programs: ProgramsConfig
    budget: BudgetConfig
    overrides: list[Override] = field(default_factory=list)
    rules_file: str | None = None
    touched: list[str] = field(default_factory=list)  # program codes whose rules differ from the baseline

    def describe(self) -> str:
        parts = ([f"--rules {self.rules_file}"] if self.rules_file else []) + [o.text for o in self.overrides]
        return ", ".join(parts) or "tanpa perubahan"


def parse_set(text: str) -> Override:
    """`pkh.desil.max=2` -> Override; a malformed line raises ConfigError (Indonesian)."""
    if "=" not in text:
        raise ConfigError(f"--set '{text}' tidak valid: harus berbentuk {SET_FORMAT}.")
    path, raw = (part.strip() for part in text.split("=", 1))
    if not re.fullmatch(r"[a-z][a-z0-9_]*(\.[A-Za-z0-9_]+)+", path):
        raise ConfigError(f"--set '{text}' tidak valid: jalur '{path}' harus berbentuk {SET_FORMAT}.")
    try:
        value = yaml.safe_load(raw) if raw else None
    except yaml.YAMLError:
        value = raw
    return Override(path, value, f"{path}={raw}")


def _set_path(node: dict, keys: list[str], value, where: str, override: Override) -> None:
    """Set node[keys...] = value; components (a list of entries with a `code`) are walked by code."""
    key, rest = keys[0], keys[1:]
    if not rest:
        if value is None:
            node.pop(key, None)
        else:
            node[key] = value
        return
    child = node.get(key)
    if isinstance(child, list):
        codes = [c.get("code") for c in child if isinstance(c, dict)]
        if rest[0] not in codes:
            raise ConfigError(f"--set {override.text} tidak valid: '{where}.{key}' tidak punya entri berkode "
                              f"'{rest[0]}' (yang ada: {', '.join(str(c) for c in codes)}).")
        entry = child[codes.index(rest[0])]
        if len(rest) == 1:
            raise ConfigError(f"--set {override.text} tidak valid: sebutkan kunci di dalam '{where}.{key}.{rest[0]}' "
                              f"(misalnya {where}.{key}.{rest[0]}.amount=...).")
        _set_path(entry, rest[1:], value, f"{where}.{key}.{rest[0]}", override)
        return
    if child is None:
        child = node[key] = {}
    if not isinstance(child, dict):
        raise ConfigError(f"--set {override.text} tidak valid: '{where}.{key}' bernilai {child!r}, bukan pemetaan "
                          f"yang punya kunci '{rest[0]}'.")
    _set_path(child, rest, value, f"{where}.{key}", override)


def _readable(message: str, raw_programs: list[dict]) -> str:
    """`kunci 'programs.1.components.6.age.min'` -> `kunci 'pkh.components.lansia.age.min'`."""
    def repl(m: re.Match) -> str:
        i = int(m.group(1))
        code = raw_programs[i].get("code", str(i)) if i < len(raw_programs) else str(i)
        rest = m.group(2) or ""
        comp = re.match(r"\.components\.(\d+)(.*)", rest)
        if comp:
            comps = raw_programs[i].get("components") or []
            j = int(comp.group(1))
            label = comps[j].get("code", str(j)) if j < len(comps) and isinstance(comps[j], dict) else str(j)
            rest = f".components.{label}{comp.group(2)}"
        return f"'{code}{rest}'"

    return re.sub(r"'programs\.(\d+)((?:\.[^'.]+)*)'", repl, message)


def build_scenario(name: str, base_programs: ProgramsConfig, base_budget: BudgetConfig,
                   sets: list[str] = (), rules_file: str | Path | None = None) -> Scenario:
    """Apply `--rules` then every `--set`, validate with the config models; ConfigError (Indonesian) on any mistake."""
    programs = load_yaml(Path(rules_file), ProgramsConfig) if rules_file else base_programs
    overrides = [parse_set(text) for text in sets]
    raw = programs.model_dump(mode="json", exclude_unset=False)
    budget_raw = base_budget.model_dump(mode="json")
    codes = [p["code"] for p in raw["programs"]]
    for o in overrides:
        keys = o.path.split(".")
        if o.is_budget:
            if len(keys) < 3:
                raise ConfigError(f"--set {o.text} tidak valid: sebutkan program dan kunci pagu, misalnya "
                                  "pagu.bpjs_tk.per_kelurahan=12000000.")
            program, field_keys = keys[1], keys[2:]
            if program not in codes:
                raise ConfigError(f"--set {o.text} tidak valid: program '{program}' tidak ada di programs.yaml "
                                  f"(yang ada: {', '.join(codes)}).")
            entry = budget_raw["pagu"].setdefault(program, {})
            if field_keys[0] == "kelurahan" and len(field_keys) > 1:
                # kelurahan codes contain dots: everything after `kelurahan.` is the code
                entry.setdefault("kelurahan", {})[".".join(field_keys[1:])] = o.value
            else:
                _set_path(entry, field_keys, o.value, f"pagu.{program}", o)
            continue
        program = keys[0]
        if program not in codes:
            raise ConfigError(f"--set {o.text} tidak valid: program '{program}' tidak ada di programs.yaml "
                              f"(yang ada: {', '.join(codes)}).")
        if keys[1] == "code":
            raise ConfigError(f"--set {o.text} tidak valid: kode program tidak dapat diubah dalam skenario.")
        _set_path(raw["programs"][codes.index(program)], keys[1:], o.value, program, o)
    try:
        new_programs = ProgramsConfig.model_validate(raw)
    except ValidationError as exc:
        shown = ", ".join(o.text for o in overrides if not o.is_budget) or str(rules_file)
        message = _readable(_explain(exc, Path("programs.yaml")), raw["programs"])
        raise ConfigError(f"Skenario '{name}' ({shown}) tidak valid.\n{message}") from None
    try:
        new_budget = BudgetConfig.model_validate(budget_raw)
    except ValidationError as exc:
        message = _explain(exc, Path("budget.yaml"))  # its keys already read pagu.<program>.<field>
        raise ConfigError(f"Skenario '{name}' tidak valid.\n{message}") from None
    new_budget.check_programs(new_programs, Path("budget.yaml"))
    return Scenario(name, new_programs, new_budget, overrides, str(rules_file) if rules_file else None,
                    touched_programs(base_programs, new_programs))


def touched_programs(base: ProgramsConfig, new: ProgramsConfig) -> list[str]:
    """Programs whose rules differ (added, removed or changed), plus the graduation programs that derive from them."""
    before = {p.code: p for p in base.programs}
    after = {p.code: p for p in new.programs}
    touched = {c for c in set(before) | set(after) if before.get(c) != after.get(c)}
    for p in new.programs:
        if p.kind == "graduation" and p.graduates_from in touched:
            touched.add(p.code)
    order = [p.code for p in new.programs] + [c for c in before if c not in after]
    return [c for c in order if c in touched]
