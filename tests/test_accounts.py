"""include/config/accounts.yaml: validated like the other config, consistent with recipients.yaml, mapped onto the
simple auth manager's roles; the passwords file of `make airflow` is made once and never overwritten."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def config_dir(tmp_path):
    out = tmp_path / "config"
    shutil.copytree(ROOT / "include" / "config", out)
    return out


def _write(config_dir: Path, text: str) -> None:
    (config_dir / "accounts.yaml").write_text(text, encoding="utf-8")


def test_shipped_accounts_map_onto_simple_auth_roles(config_dir, monkeypatch):
    monkeypatch.delenv("TKPK_APPROVAL_REQUIRED", raising=False)  # the shipped file itself, not the test default
    from tkpk.config.accounts import load_accounts

    accounts = load_accounts(config_dir)
    assert "steward:op" in accounts.simple_auth_users().split(",")
    assert "anggota:viewer" in accounts.simple_auth_users().split(",")
    assert {a.username for a in accounts.stewards} >= {"steward"}
    assert accounts.approval.required and accounts.approval.timeout_hours == 48


def test_scope_and_pii_must_agree_with_recipients(config_dir):
    from tkpk.config import ConfigError
    from tkpk.config.accounts import load_accounts

    # Kepala Dinas Kesehatan has no pii in recipients.yaml
    _write(config_dir, "accounts:\n  - {username: ss, name: S, role: steward}\n"
                       "  - {username: dinkes, name: Kadinkes, email: kepala@dinkes.jambikota.example, role: anggota,"
                       " pii: true}\n")
    with pytest.raises(ConfigError, match="recipients.yaml"):
        load_accounts(config_dir)


def test_mistakes_are_explained_in_indonesian(config_dir):
    from tkpk.config import ConfigError
    from tkpk.config.accounts import load_accounts

    _write(config_dir, "accounts:\n  - {username: ss, name: S, role: admin}\n")
    with pytest.raises(ConfigError, match="(?s)accounts.yaml.*accounts.0.role"):
        load_accounts(config_dir)
    _write(config_dir, "accounts:\n  - {username: aa, name: A, role: anggota}\n")
    with pytest.raises(ConfigError, match="steward"):
        load_accounts(config_dir)
    _write(config_dir, "accounts:\n  - {username: ss, name: S, role: steward}\n  - {username: SS, name: T, role: anggota}\n")
    with pytest.raises(ConfigError, match="dua kali"):
        load_accounts(config_dir)


def test_nik_visible_only_with_pii_inside_scope():
    from tkpk.config.accounts import Account

    lurah = Account(username="lurah", name="L", role="anggota", scope="kelurahan:15.71.01.1001", pii=True)
    assert lurah.sees_nik("15.71.01.1001") and not lurah.sees_nik("15.71.03.1003") and not lurah.sees_nik(None)
    assert Account(username="kk", name="K", role="anggota", scope="kota", pii=True).sees_nik("15.71.03.1003")
    assert not Account(username="mm", name="M", role="anggota", scope="kota").sees_nik("15.71.03.1003")


def test_demo_switches_the_approval_off(config_dir, monkeypatch):
    from tkpk.config.accounts import load_accounts

    monkeypatch.setenv("TKPK_APPROVAL_REQUIRED", "false")
    assert not load_accounts(config_dir).approval.required


def test_passwords_are_made_once(tmp_path):
    from tkpk_airflow.local import ensure_passwords

    first = ensure_passwords(tmp_path, ["steward", "anggota"])
    again = ensure_passwords(tmp_path, ["steward", "anggota", "baru"])
    assert again["steward"] == first["steward"] and again["anggota"] == first["anggota"] and again["baru"]
    assert json.loads((tmp_path / "airflow-passwords.json").read_text()) == again
    assert (tmp_path / "airflow-passwords.json").stat().st_mode & 0o077 == 0
