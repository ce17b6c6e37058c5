"""Rules are configuration: amounts, desil ranges, age bounds, quotas and the PKH cap change with a YAML edit, never
code; a wrong rules file is refused with a message a steward understands."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tkpk.config import ConfigError, load_yaml
from tkpk.config.programs import ProgramsConfig

from .helpers import eligible, run_cli

PROGRAMS_YAML = Path(__file__).resolve().parents[2] / "include" / "config" / "programs.yaml"


def edited(tmp_path: Path, edit) -> Path:
    raw = yaml.safe_load(PROGRAMS_YAML.read_text(encoding="utf-8"))
    edit({p["code"]: p for p in raw["programs"]}, raw)
    path = tmp_path / "programs.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_default_rules_match_design(config):
    p = config.programs
    assert p.rule_set_version == "2026.2"
    assert next(c for c in p.get("pkh").components if c.code == "lansia").age.min == 60
    assert (p.get("pkh").desil.min, p.get("pkh").desil.max, p.get("pkh").max_components) == (1, 4, 4)
    assert {c.code: c.amount for c in p.get("pkh").components} == {
        "ibu_hamil": 3_000_000, "anak_usia_dini": 3_000_000, "anak_sd": 900_000, "anak_smp": 1_500_000,
        "anak_sma": 2_000_000, "disabilitas_berat": 2_400_000, "lansia": 2_400_000}
    assert (p.get("bpnt").desil.max, p.get("bpnt").amount) == (4, 2_400_000)
    assert (p.get("pbi_jk").desil.max, p.get("pbi_jk").amount) == (5, 504_000)
    bpjs = p.get("bpjs_tk")
    assert (bpjs.desil.max, bpjs.age.min, bpjs.age.max, bpjs.quota.size, bpjs.amount) == (4, 18, 64, 50, 201_600)
    assert p.get("pip").amounts_by_jenjang == {"SD": 450_000, "SMP": 750_000, "SMA": 1_800_000, "SMK": 1_800_000}
    assert (p.get("rtlh").desil.max, p.get("rtlh").rtlh_recent_years, p.get("rtlh").amount) == (3, 9, 20_000_000)


def test_changing_amount_cap_quota_age_and_desil_needs_no_code(tmp_path, builder):
    builder.household("H", 2)
    builder.person("A", "H", "2022-01-01")  # anak_usia_dini
    builder.person("B", "H", "2023-01-01")  # anak_usia_dini
    builder.person("C", "H", "1950-01-01")  # lansia
    builder.household("W", 1)
    for i, born in enumerate(("1990-01-01", "1980-01-01", "1970-01-01", "2000-01-01")):
        builder.person(f"W{i}", "W", born, sektor="informal")
    builder.household("D6", 6)
    builder.person("D6a", "D6", "1990-01-01")
    base = run_cli(tmp_path / "a", builder)
    assert base[("pkh", "H", "")]["benefit_rupiah_per_year"] == "8400000"
    assert all(eligible(base, "bpjs_tk", "W", f"W{i}") for i in range(4))
    assert not eligible(base, "pbi_jk", "D6", "D6a")

    def edit(p, raw):
        raw["rule_set_version"] = "2027.1"
        p["pkh"]["max_components"] = 2
        p["pkh"]["components"][1]["amount"] = 3_500_000  # anak_usia_dini
        p["bpjs_tk"]["quota"]["size"] = 2
        p["bpjs_tk"]["age"]["max"] = 50
        p["pbi_jk"]["desil"]["max"] = 6

    rules = edited(tmp_path, edit)
    t = run_cli(tmp_path / "b", builder, "2026-10", "--programs", str(rules))
    assert t[("pkh", "H", "")]["benefit_rupiah_per_year"] == "7000000"
    assert "batas_komponen_2" in t[("pkh", "H", "")]["reasons"]
    # ages 36, 46, 56, 26: 56 is over the new bound; of the other three the youngest is third of two places
    assert [t[("bpjs_tk", "W", f"W{i}")]["rank"] for i in range(4)] == ["2", "1", "", "3"]
    assert eligible(t, "bpjs_tk", "W", "W0") and eligible(t, "bpjs_tk", "W", "W1")
    assert t[("bpjs_tk", "W", "W3")]["reasons"] == "kuota_penuh" and not eligible(t, "bpjs_tk", "W", "W3")
    assert t[("bpjs_tk", "W", "W2")]["reasons"] == "usia_di_luar_18_50"
    assert eligible(t, "pbi_jk", "D6", "D6a")


@pytest.mark.parametrize("edit, message", [
    (lambda p, raw: p["pkh"]["desil"].update(min=3, max=2), "desil min (3) lebih besar dari max (2)"),
    (lambda p, raw: p["bpnt"].update(amount=-5), "terlalu kecil"),
    (lambda p, raw: p["pkh"].update(max_componets=4), "kunci ini tidak dikenal"),
    (lambda p, raw: p["pkh"]["components"].append(dict(p["pkh"]["components"][0])), "kode komponen ganda"),
    (lambda p, raw: p["bpjs_tk"]["quota"].update(per="kota"), "nilainya harus salah satu dari"),
    (lambda p, raw: p["pip"]["amounts_by_jenjang"].pop("SMK"), "nominal untuk jenjang SMK belum diisi"),
    (lambda p, raw: p["kandidat_graduasi_pkh"].update(graduates_from="pkhx"), "graduates_from 'pkhx' tidak ada"),
    (lambda p, raw: raw["programs"].append(dict(raw["programs"][0])), "kode program ganda: miskin_ekstrem"),
])
def test_wrong_rules_are_refused_in_indonesian(tmp_path, edit, message):
    path = edited(tmp_path, edit)
    with pytest.raises(ConfigError) as exc:
        load_yaml(path, ProgramsConfig)
    assert message in str(exc.value)
    assert "programs.yaml" in str(exc.value)


def test_cli_reports_a_wrong_rules_file(tmp_path, builder, capsys):
    from tkpk.cli import main

    builder.household("H", 1)
    builder.person("A", "H")
    registry, _ = builder.write(tmp_path)
    path = edited(tmp_path, lambda p, raw: p["bpnt"].update(amount="banyak"))
    code = main(["eligibility", "--registry", str(registry), "--period", "2026-10", "--out",
                 str(tmp_path / "o.csv"), "--programs", str(path)])
    assert code == 1
    assert "harus berupa bilangan bulat" in capsys.readouterr().err
