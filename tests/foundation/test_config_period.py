"""Config validation with steward-readable messages, and the reporting period (issue 2, items 5 and 6d)."""

from datetime import UTC, date, datetime
from pathlib import Path
from shutil import copytree

import pytest

from tkpk.config import ConfigError, load_config
from tkpk.period import Period, reporting_period

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_config_loads(config):
    assert {o.code for o in config.opds.opds} == {
        "dinsos", "disnaker", "dinkes", "disdik", "perkim", "koperasi", "pertanian", "disdukcapil"}
    assert len(config.opds.all_opds()) == 8 + 68
    assert len(config.types.types) == 10  # nine monthly types + kelurahan_verval (sub-folder verval/)
    assert config.opds.folder_types_for("kel-1571011001") == ["kelurahan_verval"]
    assert config.opds.folder_types_for("dinsos") == ["kelurahan_verval"]
    assert config.opds.folder_types_for("disnaker") == []
    assert config.programs.rule_set_version
    assert config.types.aliases_for("dinsos_kpm")["nokk"] == "no_kk"
    assert config.types.aliases_for("disdik_siswa")["tgllahir"] == "tanggal_lahir"
    kota = config.recipients.with_scope("kota")
    assert kota and all(r.email for r in kota)


def _broken(tmp_path, file, old, new):
    target = tmp_path / "config"
    copytree(ROOT / "include" / "config", target)
    path = target / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    load_config.cache_clear()
    return target


def test_wrong_type_names_file_key_and_expectation(tmp_path):
    target = _broken(tmp_path, "opds.yaml", "deadline_day: 5", "deadline_day: lima")
    with pytest.raises(ConfigError) as err:
        load_config(target)
    message = str(err.value)
    assert "opds.yaml" in message and "opds.0.deadline_day" in message and "bilangan bulat" in message


def test_unknown_key_is_reported(tmp_path):
    target = _broken(tmp_path, "recipients.yaml", "role: anggota, scope: kota}", "role: anggota, scop: kota}")
    with pytest.raises(ConfigError, match="tidak dikenal"):
        load_config(target)


def test_bad_scope_is_explained(tmp_path):
    target = _broken(tmp_path, "recipients.yaml", '"kecamatan:15.71.01"', '"kecamatan:Telanaipura"')
    with pytest.raises(ConfigError, match="scope 'kecamatan:Telanaipura' tidak valid"):
        load_config(target)


def test_opd_with_unknown_submission_type(tmp_path):
    target = _broken(tmp_path, "opds.yaml", "submissions: [disnaker_bpjstk]", "submissions: [disnaker_bpjs]")
    with pytest.raises(ConfigError, match="disnaker_bpjs"):
        load_config(target)


def test_yaml_syntax_error_gives_line(tmp_path):
    target = _broken(tmp_path, "opds.yaml", "schedule_day: 10", "schedule_day: [10")
    with pytest.raises(ConfigError, match="baris"):
        load_config(target)


def test_period_basics():
    p = Period.parse("2026-10")
    assert p.end == date(2026, 10, 31) and p.label() == "Oktober 2026" and str(p.previous()) == "2026-09"
    assert Period.parse("2024-02").end == date(2024, 2, 29)
    assert str(Period.parse("2026-01").previous()) == "2025-12"
    for bad in ("2026-13", "2026-1", "10-2026", ""):
        with pytest.raises(ValueError, match="YYYY-MM"):
            Period.parse(bad)


def test_reporting_period_is_previous_month_in_jakarta():
    # 2026-12-10 07:00 WIB = 00:00 UTC -> November
    assert str(reporting_period(datetime(2026, 12, 10, 0, 0, tzinfo=UTC))) == "2026-11"
    # 2026-11-30 18:00 UTC is already 1 December in Jakarta -> November, not October
    assert str(reporting_period(datetime(2026, 11, 30, 18, 0, tzinfo=UTC))) == "2026-11"
    assert str(reporting_period(datetime(2027, 1, 10, 0, 0, tzinfo=UTC))) == "2026-12"
    assert str(reporting_period(datetime(2026, 12, 10, tzinfo=UTC), override="2026-10")) == "2026-10"


def test_budget_loads_with_bpjs_tk_per_kelurahan(config):
    bpjs = config.budget.for_program("bpjs_tk")
    # 50 workers x Rp16.800 x 12 months, for every kelurahan unless listed otherwise; 68 kelurahan make the city pagu
    assert bpjs.for_kelurahan("1571011001") == bpjs.for_kelurahan("15.71.01.1001") == 10_080_000
    assert bpjs.tahunan == 68 * 10_080_000


def test_budget_for_unknown_program_is_explained(tmp_path):
    target = _broken(tmp_path, "budget.yaml", "  bpnt:\n", "  bpntt:\n")
    with pytest.raises(ConfigError, match="bpntt tidak ada di programs.yaml"):
        load_config(target)


def test_budget_kelurahan_exception_must_be_in_kota_jambi(tmp_path):
    target = _broken(tmp_path, "budget.yaml", "    per_kelurahan: 10080000\n",
                     "    per_kelurahan: 10080000\n    kelurahan: {\"15.72.01.1001\": 5000000}\n")
    with pytest.raises(ConfigError, match="bukan kelurahan Kota Jambi"):
        load_config(target)
