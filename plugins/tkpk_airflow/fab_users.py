"""Production accounts (docker-compose.yaml, airflow-init): every person in include/config/accounts.yaml gets a
named account in the FAB auth manager, role steward -> `Op`, anggota -> `Viewer`.

Only accounts that do not exist yet are created, each with a random first password written to
`$AIRFLOW_HOME/config/initial-passwords.json` (mode 600) for the administrator to hand over; people change it in the
UI. Existing accounts keep their password; a role that changed in accounts.yaml is applied. Runs the `airflow users`
commands of the FAB provider as subprocesses.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

FAB_ROLES = {"steward": "Op", "anggota": "Viewer"}


def _airflow(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["airflow", *args], capture_output=True, text=True)


def main() -> int:
    from tkpk.config.accounts import load_accounts

    accounts = load_accounts()
    listed = _airflow("users", "list", "--output", "json")
    if listed.returncode != 0:
        print(listed.stderr[-2000:], file=sys.stderr)
        return 1
    existing = {u["username"]: u for u in json.loads(listed.stdout or "[]")}
    out = Path(os.environ.get("AIRFLOW_HOME", "/opt/airflow")) / "config" / "initial-passwords.json"
    created = json.loads(out.read_text()) if out.exists() else {}
    for a in accounts.accounts:
        role = FAB_ROLES[a.role]
        if a.username in existing:
            if role not in str(existing[a.username].get("roles", "")):
                _airflow("users", "add-role", "--username", a.username, "--role", role)
            continue
        password = secrets.token_urlsafe(12)
        first, _, last = a.name.partition(" ")
        done = _airflow("users", "create", "--username", a.username, "--role", role, "--firstname", first,
                        "--lastname", last or "-", "--email", str(a.email or f"{a.username}@invalid.example"),
                        "--password", password)
        if done.returncode != 0:
            print(f"akun {a.username} gagal dibuat: {done.stderr[-500:]}", file=sys.stderr)
            return 1
        created[a.username] = password
        print(f"akun {a.username} dibuat ({a.role} -> {role})")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(created, indent=1) + "\n")
    out.chmod(0o600)
    print(f"Kata sandi awal akun baru: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
