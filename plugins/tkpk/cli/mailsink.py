"""`tkpk mailsink --port N --outbox DIR`: a local SMTP server that saves every e-mail as .eml (embedded default,
`make demo`). `--port 0` picks a free port; `--port-file` writes the chosen port for scripts. Stops on Ctrl+C or
SIGTERM."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

from tkpk.settings import Settings


def register(sub) -> None:
    p = sub.add_parser("mailsink", help="server SMTP lokal yang menyimpan setiap e-mail sebagai .eml")
    p.add_argument("--port", type=int, default=0, help="port SMTP (0 = pilih port yang bebas)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--outbox", default=None, help="folder .eml (bawaan: var/outbox)")
    p.add_argument("--port-file", default=None, help="tulis nomor port ke berkas ini setelah server siap")
    p.set_defaults(func=run)


def run(args) -> int:
    from tkpk.notify.mailsink import MailSink

    outbox = Path(args.outbox) if args.outbox else Settings.from_env().outbox_dir
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with MailSink(outbox, host=args.host, port=args.port or None) as sink:
        if args.port_file:
            Path(args.port_file).write_text(f"{sink.port}\n")
        print(f"Server SMTP lokal mendengarkan di {args.host}:{sink.port}; e-mail disimpan ke {outbox}. "
              "Tekan Ctrl+C untuk berhenti.", flush=True)
        stop.wait()
        print(f"Berhenti. {len(sink.messages)} e-mail diterima.", flush=True)
    return 0
