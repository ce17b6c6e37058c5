"""SMTP delivery with the settings of the Airflow connection `smtp_default`, without importing Airflow.

The DAG turns the connection into `SmtpSettings.from_connection(conn)` (same meaning of the extras as the SMTP
provider: `disable_ssl`, `disable_tls`, `timeout`, `from_email`); the CLI uses `SmtpSettings.from_env()`.
`SmtpClient` keeps one connection for a whole send step and classifies failures:

- transient (connection refused or dropped, timeouts, 4xx replies): retried with exponential backoff, reconnecting;
  after the last attempt `SendFailed` is raised so the Airflow task fails and its retry continues where it stopped;
- refused (5xx to RCPT or DATA): `RecipientRefused` for that recipient only; the caller logs it and goes on;
- fatal (authentication, sender refused, TLS not offered): `SendFailed` at once, retrying cannot help.
The password never appears in a repr, a log line or an exception.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


def _flag(value) -> bool:
    """Connection extras arrive as booleans from JSON and as text from the UI or URIs ('true', 'False', '1')."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y", "on")
    return bool(value)


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    use_ssl: bool = False
    starttls: bool = False
    timeout: float = 30.0
    sender: str | None = None
    retries: int = 3  # extra attempts after the first, for transient failures
    backoff: float = 2.0  # seconds before the first retry, doubled each time
    # Largest message we send; the server's advertised SIZE (EHLO) lowers it further. 25 MB is what most
    # government and public mail services accept.
    max_message_mb: float = 25.0
    # Opens a connected, logged-in smtplib client. The DAGs pass the SMTP provider's SmtpHook here, so every field
    # of the connection form (SSL/STARTTLS, ssl_context, auth_type incl. OAuth2, timeout) is honoured; without it
    # (CLI, tests) `_connect` below opens one from the fields above.
    connect: object = field(default=None, repr=False, compare=False)

    @classmethod
    def from_connection(cls, conn, *, sender: str | None = None, retries: int = 3, backoff: float = 2.0) -> SmtpSettings:
        """From an Airflow Connection (duck-typed: host, port, login, password, extra_dejson), with the SMTP
        provider's defaults: SSL unless `disable_ssl`, else STARTTLS unless `disable_tls`."""
        extra = dict(getattr(conn, "extra_dejson", None) or {})
        use_ssl = not _flag(extra.get("disable_ssl", False))
        starttls = not use_ssl and not _flag(extra.get("disable_tls", False))
        return cls(
            host=conn.host or "127.0.0.1",
            port=int(conn.port or (465 if use_ssl else 587 if starttls else 25)),
            username=conn.login or None,
            password=conn.password or None,
            use_ssl=use_ssl,
            starttls=starttls,
            timeout=float(extra.get("timeout", 30)),
            sender=sender or extra.get("from_email") or None,
            retries=int(extra.get("retry_limit", retries)) if "retry_limit" in extra else retries,
            backoff=backoff,
            max_message_mb=float(extra.get("max_message_mb", 25.0)),
        )

    @classmethod
    def from_env(cls) -> SmtpSettings:
        """TKPK_SMTP_HOST, _PORT, _USER, _PASSWORD, _SSL, _STARTTLS, _SENDER (CLI and local runs)."""
        env = os.environ.get
        use_ssl = _flag(env("TKPK_SMTP_SSL", "false"))
        return cls(
            host=env("TKPK_SMTP_HOST", "127.0.0.1"),
            port=int(env("TKPK_SMTP_PORT", "465" if use_ssl else "25")),
            username=env("TKPK_SMTP_USER") or None,
            password=env("TKPK_SMTP_PASSWORD") or None,
            use_ssl=use_ssl,
            starttls=_flag(env("TKPK_SMTP_STARTTLS", "false")),
            timeout=float(env("TKPK_SMTP_TIMEOUT", "30")),
            sender=env("TKPK_SMTP_SENDER") or None,
            max_message_mb=float(env("TKPK_SMTP_MAX_MESSAGE_MB", "25")),
        )


class RecipientRefused(Exception):
    """The server refused this recipient or this message for good (5xx)."""

    def __init__(self, code: int, reason: str):
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


class SendFailed(RuntimeError):
    """Delivery is impossible now (server unreachable after retries) or misconfigured; message in Indonesian."""


def _reply(exc) -> tuple[int, str]:
    code = getattr(exc, "smtp_code", None)
    text = getattr(exc, "smtp_error", b"")
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        code, text = next(iter(exc.recipients.values()))
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return int(code or 0), str(text or exc)


def classify(exc: BaseException) -> str:
    """transient | refused | fatal."""
    if isinstance(exc, smtplib.SMTPAuthenticationError | smtplib.SMTPNotSupportedError | ssl.SSLError):
        return "fatal"
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return "transient"
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPHeloError):
        return "transient" if 400 <= _reply(exc)[0] < 500 else "fatal"
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError | smtplib.SMTPResponseException):
        return "transient" if 400 <= _reply(exc)[0] < 500 else "refused"
    if isinstance(exc, OSError):  # connection refused, reset, timeout, DNS
        return "transient"
    return "fatal"


class SmtpClient:
    """One SMTP connection for many messages, opened on first use; use as a context manager."""

    def __init__(self, settings: SmtpSettings, *, sleep=time.sleep):
        self.settings = settings
        self._conn: smtplib.SMTP | None = None
        self._sleep = sleep
        self.attempts = 0  # deliveries tried, retries included (for tests and logs)

    def __enter__(self) -> SmtpClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.connect is not None:
            return s.connect()
        context = ssl.create_default_context()
        if s.use_ssl:
            conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if s.starttls:
                conn.starttls(context=context)
        if s.username:
            conn.login(s.username, s.password or "")
        return conn

    def max_message_bytes(self) -> int:
        """The largest message this server takes: the smaller of the configured limit and the SIZE it advertises
        in its EHLO reply (RFC 1870; 0 or absent means no announced limit). Opens the connection if needed."""
        limit = int(self.settings.max_message_mb * 1024 * 1024)
        try:
            if self._conn is None:
                self._conn = self._connect()
            self._conn.ehlo_or_helo_if_needed()
            announced = int((self._conn.esmtp_features.get("size") or "0").split()[0] or 0)
        except (smtplib.SMTPException, OSError, ValueError):
            self.close()  # deliver() reconnects and reports a real failure in Indonesian
            return limit
        return min(limit, announced) if announced > 0 else limit

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                try:
                    self._conn.close()
                except OSError:
                    pass
            self._conn = None

    def deliver(self, data: bytes, sender: str, recipient: str) -> None:
        """Send one message to one recipient, retrying transient failures with backoff."""
        s = self.settings
        for attempt in range(s.retries + 1):
            self.attempts += 1
            try:
                if self._conn is None:
                    self._conn = self._connect()
                self._conn.sendmail(sender, [recipient], data)
                return
            except Exception as exc:  # noqa: BLE001 - classified below, nothing swallowed
                kind = classify(exc)
                code, reason = _reply(exc)
                if kind == "refused":
                    raise RecipientRefused(code, reason) from None
                self.close()
                if kind == "fatal":
                    raise SendFailed(
                        f"Pengiriman e-mail lewat {s.host}:{s.port} gagal dan tidak akan berhasil dengan dicoba "
                        f"ulang ({type(exc).__name__}: {code or ''} {reason}). Periksa koneksi smtp_default."
                    ) from None
                if attempt == s.retries:
                    raise SendFailed(
                        f"Server SMTP {s.host}:{s.port} tidak dapat dihubungi setelah {s.retries + 1} percobaan "
                        f"({type(exc).__name__}: {code or ''} {reason}). E-mail yang sudah terkirim tercatat; "
                        "menjalankan ulang tugas ini hanya mengirim sisanya."
                    ) from None
                wait = s.backoff * (2 ** attempt)
                log.warning("SMTP sementara gagal (%s %s), percobaan %d dari %d; menunggu %.1f dtk",
                            type(exc).__name__, code or "", attempt + 1, s.retries + 1, wait)
                self._sleep(wait)
