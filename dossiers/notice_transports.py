"""How notices leave the service: e-mail over SMTP (or ``.eml`` files), SMS through a gateway (or a log file).

``notices.email``: ``smtp`` sends with :mod:`smtplib` (STARTTLS, implicit TLS or none, optional login),
``file`` writes each message to ``<outbox>/<Message-ID>.eml`` (development: open it in a mail client),
``none`` sends no e-mail. ``notices.sms``: ``http`` posts ``{"to": "+84…", "text": "…"}`` as JSON to
``sms_url`` with ``Authorization: Bearer <token>`` (a 2xx answer is accepted; 4xx other than 408/429
is a permanent refusal, anything else is retried), ``file`` appends ``<number>\t<text>`` lines to
``<outbox>/sms.log``, ``none`` sends none. Other gateways implement :class:`SmsGateway`.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import httpx

from dossiers.contacts import mask_email, redact
from sohoa.settings import NoticeSettings, Settings


class PermanentFailure(Exception):
    """The recipient or the message was refused for good: retrying cannot help."""


class RecipientDeferred(OSError):
    """The SMTP server refused the recipient for now (4xx): tried again later."""


REASON_CHARS = 120


def _reason(reply: bytes | str, addresses: Iterable[str]) -> str:
    """The first line of an SMTP reply, short, each of ``addresses`` in it masked."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    text = text.splitlines()[0] if text else ""
    for address in addresses:
        text = redact(text, address, mask_email(address))
    return text[:REASON_CHARS]


class EmailTransport(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` to its To address; raise on failure (PermanentFailure: do not retry)."""


class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Send ``text`` to ``phone`` (E.164); raise on failure (PermanentFailure: do not retry)."""


def _secret(path: Path | None) -> str | None:
    return path.read_text(encoding="utf-8").strip() if path is not None else None


class SmtpTransport:
    """One SMTP session per message (notices are few; a long-lived session would go stale)."""

    def __init__(self, settings: NoticeSettings):
        if not settings.smtp_host:
            raise ValueError("notices.smtp_host is not set")
        self.host, self.port, self.security = settings.smtp_host, settings.smtp_port, settings.smtp_security
        self.username, self.password = settings.smtp_username, _secret(settings.smtp_password_file)
        self.timeout = settings.smtp_timeout_s

    def send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.username and self.password is not None:
                smtp.login(self.username, self.password)
            try:
                smtp.send_message(message)
            except smtplib.SMTPRecipientsRefused as exc:
                # exc.recipients is keyed by the address and servers echo it in their reply: neither goes
                # further than this (the error is stored on the notice and logged), only codes and reasons.
                refusals = "; ".join(
                    f"{code} {_reason(reply, exc.recipients)}" for code, reply in exc.recipients.values()
                )
                if all(500 <= code < 600 for code, _reply in exc.recipients.values()):
                    raise PermanentFailure(f"recipient refused: {refusals}") from None
                raise RecipientDeferred(f"recipient refused: {refusals}") from None


class FileEmailTransport:
    """Development: each message written as ``<outbox>/<Message-ID>.eml``."""

    def __init__(self, folder: Path):
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = str(message["Message-ID"] or "message").strip("<>").split("@", 1)[0]
        path = self.folder / f"{name}.eml"
        tmp = path.with_suffix(".eml.tmp")
        tmp.write_bytes(message.as_bytes())
        tmp.replace(path)


class HttpSmsGateway:
    """A generic HTTP JSON SMS gateway: ``POST url {"to", "text"}`` with a bearer token."""

    def __init__(self, url: str, token: str | None, timeout_s: float = 10.0):
        self.url, self.token, self.timeout = url, token, timeout_s

    def send(self, phone: str, text: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            answer = httpx.post(self.url, json={"to": phone, "text": text}, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise OSError(f"SMS gateway unreachable: {type(exc).__name__}") from exc
        if answer.is_success:
            return
        if 400 <= answer.status_code < 500 and answer.status_code not in (408, 429):
            raise PermanentFailure(f"SMS gateway refused the message: HTTP {answer.status_code}")
        raise OSError(f"SMS gateway answered HTTP {answer.status_code}")


class FileSmsGateway:
    """Development: each SMS appended to ``<outbox>/sms.log`` as ``<number>\\t<text>``."""

    def __init__(self, path: Path):
        self.path = path

    def send(self, phone: str, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as log:
            log.write(f"{phone}\t{text}\n")


def email_transport(settings: Settings) -> EmailTransport | None:
    notices = settings.notices
    if notices.email == "smtp":
        return SmtpTransport(notices)
    if notices.email == "file":
        return FileEmailTransport(settings.outbox_dir)
    return None


def sms_gateway(settings: Settings) -> SmsGateway | None:
    notices = settings.notices
    if notices.sms == "http" and notices.sms_url:
        return HttpSmsGateway(notices.sms_url, _secret(notices.sms_token_file), notices.sms_timeout_s)
    if notices.sms == "file":
        return FileSmsGateway(settings.outbox_dir / "sms.log")
    return None
