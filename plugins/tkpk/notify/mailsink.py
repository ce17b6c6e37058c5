"""A local SMTP server that saves every message it receives as an `.eml` file: the embedded default's mail
server (`make demo`, `tkpk mailsink`) and the real SMTP server of the tests.

Built on aiosmtpd. `Controller(port=0)` is broken in aiosmtpd 1.4.6 (aio-libs/aiosmtpd#276), so a free port is
picked first. Each file is the message as received, with `Return-Path` and `Delivered-To` prepended as a delivery
agent would, written atomically (a reader never sees half a message).

For fault-injection tests the handler can refuse given recipients (550) and answer the first N messages with a
temporary failure (451).
"""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class OutboxHandler:
    """aiosmtpd handler: save to `outbox`; optionally refuse some recipients or fail the first messages."""

    def __init__(self, outbox: Path, *, refuse: set[str] | None = None, fail_first: int = 0):
        self.outbox = Path(outbox)
        self.outbox.mkdir(parents=True, exist_ok=True)
        self.refuse = {a.lower() for a in (refuse or set())}
        self.fail_first = fail_first
        self.saved: list[Path] = []
        self.temporary_failures = 0
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd API
        if address.lower() in self.refuse:
            return "550 5.1.1 Alamat penerima tidak dikenal"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        with self._lock:
            if self.fail_first > 0:
                self.fail_first -= 1
                self.temporary_failures += 1
                return "451 4.3.0 Server sibuk, coba lagi nanti"
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        for rcpt in envelope.rcpt_tos:
            head = f"Return-Path: <{envelope.mail_from}>\r\nDelivered-To: {rcpt}\r\n".encode()
            stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
            final = self.outbox / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
            tmp = final.with_suffix(".tmp")
            tmp.write_bytes(head + content)
            tmp.replace(final)
            with self._lock:
                self.saved.append(final)
        return "250 2.0.0 Pesan diterima"


class MailSink:
    """Context manager: `with MailSink(outbox) as sink: ... sink.port ...`."""

    def __init__(self, outbox_dir: str | Path, host: str = "127.0.0.1", port: int | None = None, *,
                 refuse: set[str] | None = None, fail_first: int = 0, data_size_limit: int = 33554432):
        self.outbox_dir = Path(outbox_dir)
        self.data_size_limit = data_size_limit  # advertised as SIZE in EHLO, larger messages refused with 552
        self.host = host
        self.port = port
        self.handler = OutboxHandler(self.outbox_dir, refuse=refuse, fail_first=fail_first)
        self._controller = None

    @property
    def messages(self) -> list[Path]:
        return list(self.handler.saved)

    def start(self) -> MailSink:
        from aiosmtpd.controller import Controller

        last_error: Exception | None = None
        for _ in range(5):
            port = self.port or free_port(self.host)
            controller = Controller(self.handler, hostname=self.host, port=port, ready_timeout=10,
                                    data_size_limit=self.data_size_limit)
            try:
                controller.start()
            except (OSError, RuntimeError) as exc:  # the free port was taken in between: pick another
                last_error = exc
                if self.port:
                    raise
                continue
            self._controller, self.port = controller, port
            log.info("Server SMTP lokal di %s:%d, e-mail disimpan ke %s", self.host, port, self.outbox_dir)
            return self
        raise RuntimeError(f"Server SMTP lokal tidak dapat dijalankan: {last_error}")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
