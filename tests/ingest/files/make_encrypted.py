"""Write the two password-protected fixtures with LibreOffice (run once; the outputs are committed):
`pertanian_bibit_terkunci.xls` (BIFF8 with a FILEPASS record) and `perkim_rumah_terkunci.ods` (manifest with
`manifest:encryption-data`), both saved with the password `rahasia` from `pertanian_bibit.xls` / `perkim_rumah.ods`.

Needs LibreOffice and its Python bridge (Debian: `apt-get install --no-install-recommends libreoffice-calc-nogui
python3-uno`) and runs under the system Python, which has `uno`:

    /usr/bin/python3 tests/ingest/files/make_encrypted.py
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PASSWORD = "rahasia"
JOBS = [("pertanian_bibit.xls", "pertanian_bibit_terkunci.xls", "MS Excel 97"),
        ("perkim_rumah.ods", "perkim_rumah_terkunci.ods", "calc8")]
PORT = 2082


def _prop(name: str, value):
    from com.sun.star.beans import PropertyValue

    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def main() -> None:
    import uno

    profile = Path(tempfile.mkdtemp(prefix="lo-profile-"))
    office = subprocess.Popen(["soffice", "--headless", "--invisible", "--norestore",
                               f"-env:UserInstallation={profile.as_uri()}",
                               f"--accept=socket,host=127.0.0.1,port={PORT};urp;"])
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(120):
        try:
            ctx = resolver.resolve(f"uno:socket,host=127.0.0.1,port={PORT};urp;StarOffice.ComponentContext")
            break
        except Exception:  # noqa: BLE001 - LibreOffice is still starting
            time.sleep(0.5)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    try:
        for source, target, filter_name in JOBS:
            doc = desktop.loadComponentFromURL((HERE / source).as_uri(), "_blank", 0, (_prop("Hidden", True),))
            doc.storeToURL((HERE / target).as_uri(), (_prop("FilterName", filter_name), _prop("Password", PASSWORD)))
            doc.close(True)
            print(f"{target} ditulis")
    finally:
        desktop.terminate()
        office.wait(30)


if __name__ == "__main__":
    main()
