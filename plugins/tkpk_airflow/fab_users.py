"""Production accounts (docker-compose.yaml, airflow-init): every person in include/config/accounts.yaml gets a
named account in the FAB auth manager, role steward -> `Op`, anggota -> `Viewer`.

Only accounts that do not exist yet are created, each with a random first password written to
`$AIRFLOW_HOME/config/initial-passwords.json` (mode 600) for the administrator to hand over; people change it in the
UI. Existing accounts keep their password. A role that changed in accounts.yaml replaces the old one (a steward who
becomes anggota loses `Op`); roles outside these two (Admin, a city's own) are left alone. accounts.yaml is the one
list of people: an `Op`/`Viewer` account whose person is no longer listed is deactivated (never deleted, so the
audit trail keeps its name), and reactivated when the person is listed again.

Runs in-process on the FAB provider's application builder (what its `airflow users` commands use): no parsing of
CLI output, and no password on a command line. Tested against a real api-server in tests/test_tkpk_view_fab.py.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

FAB_ROLES = {"steward": "Op", "anggota": "Viewer"}


def sync_accounts(sm, accounts) -> tuple[dict[str, str], list[str]]:
    """Bring the FAB users in line with accounts.yaml through the FAB security manager `sm`. Returns the first
    passwords of the accounts it created and the lines to print (Indonesian, for the administrator)."""
    managed = {}
    for name in FAB_ROLES.values():
        managed[name] = sm.find_role(name)
        if managed[name] is None:
            raise SystemExit(f"peran {name} belum ada di Airflow: jalankan dulu `airflow db migrate`")
    created: dict[str, str] = {}
    said: list[str] = []
    listed = {a.username.lower() for a in accounts.accounts}
    for a in accounts.accounts:
        role = managed[FAB_ROLES[a.role]]
        user = sm.find_user(username=a.username)
        if user is None:
            email = str(a.email or f"{a.username}@invalid.example")
            if sm.find_user(email=email) is not None:
                raise SystemExit(f"akun {a.username} gagal dibuat: e-mail {email} sudah dipakai akun Airflow lain "
                                 "(setiap akun butuh e-mail sendiri)")
            password = secrets.token_urlsafe(12)
            first, _, last = a.name.partition(" ")
            if not sm.add_user(a.username, first, last or "-", email, role, password):
                raise SystemExit(f"akun {a.username} gagal dibuat (lihat log di atas)")
            created[a.username] = password
            said.append(f"akun {a.username} dibuat ({a.role} -> {role.name})")
            continue
        roles = [r for r in user.roles if r.name not in managed] + [role]
        changed = {r.name for r in roles} != {r.name for r in user.roles}
        if changed:
            user.roles = roles
            said.append(f"akun {a.username}: peran menjadi {a.role} ({role.name})")
        if not user.active:
            user.active = True
            changed = True
            said.append(f"akun {a.username} diaktifkan kembali")
        if changed and not sm.update_user(user):
            raise SystemExit(f"akun {a.username} gagal diperbarui (lihat log di atas)")
    for user in sm.get_all_users():
        if (user.username.lower() not in listed and user.active and user.roles
                and all(r.name in managed for r in user.roles)):
            user.active = False
            if not sm.update_user(user):
                raise SystemExit(f"akun {user.username} gagal dinonaktifkan (lihat log di atas)")
            said.append(f"akun {user.username} dinonaktifkan: tidak lagi tercantum di accounts.yaml")
    return created, said


def _write_private(path: Path, text: str) -> None:
    """Written with mode 600 from the first byte (no moment in which other users could read the passwords)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    path.chmod(0o600)


def main() -> int:
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    from tkpk.config.accounts import load_accounts

    accounts = load_accounts()
    out = Path(os.environ.get("AIRFLOW_HOME", "/opt/airflow")) / "config" / "initial-passwords.json"
    with get_application_builder() as appbuilder:
        created, said = sync_accounts(appbuilder.sm, accounts)
    for line in said:
        print(line)
    if created or not out.exists():
        known = json.loads(out.read_text()) if out.exists() and out.read_text().strip() else {}
        _write_private(out, json.dumps(known | created, indent=1) + "\n")
    print(f"{len(accounts.accounts)} akun sesuai accounts.yaml; kata sandi awal akun baru: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
