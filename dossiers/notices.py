"""Result notices: the applicant is told by e-mail and/or SMS that an e-result of their dossier is ready.

**Outbox.** ``queue_notices`` adds one ``notices`` row per channel the applicant gave a contact for
(``dossier_contacts``, from the batch manifest's ``contact_email``/``contact_phone``) and the service
has a transport for, in the transaction that records the e-result (``dossiers.results``): the result
and its notices are committed together or not at all, and the unique (result, channel) index allows
no second notice.

**Delivery.** ``deliver_due`` (run by ``workers.maintenance`` every ``notices.poll_interval_s``, and by
``sohoa notices send``) takes due notices whose result is signed (a notice waits while its result is
being signed; it is cancelled when the signing failed). Each is claimed by a conditional UPDATE that
moves it to ``sending`` with a lease, so two senders never take the same notice; it is sent outside
any transaction and then marked ``sent``: the settling UPDATE also matches the claim's ``attempts`` (each
claim increments it), so a sender whose send outlasted its lease, the notice meanwhile claimed again,
records nothing (it logs that). A failure (SMTP server down, gateway error) puts it back to
``pending`` with the error and a next attempt after a doubling backoff (``retry_base_s`` up to
``retry_max_s``); after ``max_attempts`` it is ``failed`` until an officer retries it
(``sohoa notices retry ID``). A sender that died while sending leaves its notice ``sending`` until the
lease ends, then it is taken again. So each notice is sent once, except when a process dies between
the server's acceptance and the commit that follows, or a send outlasts its lease: that notice is sent
again (e-mails keep the same Message-ID, so a mail client shows one).

**Content.** Vietnamese, the dossier and result codes and the portal's link to the result
(``{api.public_base_url}/tra-cuu/ket-qua/{code}``), never the số định danh, the applicant's name nor
anything of the document. SMS text is sent without diacritics (``dossiers.contacts.unaccented``): a
message with any Vietnamese letter is encoded UCS-2 and holds 70 characters, where GSM 7-bit holds 160.

**Retention.** ``purge_contacts`` (maintenance) deletes contact details ``notices.contact_retention_days``
after intake, masks the recipients of notices settled that long ago, and cancels notices still
unsent by then (pending, or left ``sending`` by a dead sender whose lease is over). The log and
``last_error`` name the recipient masked only: an error keeps the exception's type and the server's code
and short reason, the address it echoes masked (:func:`failure_text`); the purge masks older errors too.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from dossiers.contacts import mask_email, mask_phone, redact, unaccented
from dossiers.notice_transports import EmailTransport, PermanentFailure, SmsGateway, email_transport, sms_gateway
from dossiers.services import Services
from sohoa.errors import NotFound
from sohoa.settings import NoticeSettings
from storage.catalogue.db import rows_changed
from storage.catalogue.models import ComponentState, Dossier, EResult, utcnow
from storage.catalogue.notice_models import DossierContact, Notice, NoticeChannel, NoticeState
from storage.warehouse import audit

log = logging.getLogger(__name__)

BATCH = 50
ERROR_CHARS = 500


def enabled_channels(settings: NoticeSettings) -> set[str]:
    channels = set()
    if settings.email != "none":
        channels.add(NoticeChannel.EMAIL.value)
    if settings.sms != "none":
        channels.add(NoticeChannel.SMS.value)
    return channels


def queue_notices(s: Session, settings: NoticeSettings, dossier_id: int, eresult_id: int) -> int:
    """Queue the notices of a new e-result in the caller's transaction; how many were queued."""
    channels = enabled_channels(settings)
    if not channels:
        return 0
    contact = s.get(DossierContact, dossier_id)
    if contact is None:
        return 0
    wanted = {NoticeChannel.EMAIL.value: contact.email, NoticeChannel.SMS.value: contact.phone}
    queued = 0
    for channel, recipient in wanted.items():
        if recipient and channel in channels:
            s.add(Notice(dossier_id=dossier_id, eresult_id=eresult_id, channel=channel, recipient=recipient))
            queued += 1
    return queued


def mask_recipient(channel: str, recipient: str) -> str:
    if "*" in recipient:
        return recipient  # masked already (retention)
    return mask_email(recipient) if channel == NoticeChannel.EMAIL else mask_phone(recipient)


def masked_error(channel: str, recipient: str, error: str) -> str:
    """``error`` with the recipient in it (an SMTP server's reply echoes the address) masked."""
    if "*" in recipient:
        return error
    return redact(error, recipient, mask_recipient(channel, recipient))


def failure_text(exc: BaseException, channel: str, recipient: str) -> str:
    """What is stored on the notice (``last_error``) and logged of a failed attempt: the exception's type
    and its message (transports give codes and short reasons) with the recipient masked, shortened."""
    return masked_error(channel, recipient, f"{type(exc).__name__}: {exc}")[:ERROR_CHARS]


# -- the messages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeText:
    """What a notice says: codes and link only."""

    notice_id: int
    dossier_code: str
    result_code: str
    link: str
    centre: str

    def subject(self) -> str:
        return f"Hồ sơ {self.dossier_code} đã có kết quả"

    def email_body(self) -> str:
        return (
            "Kính gửi Ông/Bà,\n\n"
            f"Hồ sơ {self.dossier_code} của Ông/Bà đã có kết quả điện tử.\n"
            f"Mã kết quả: {self.result_code}\n"
            f"Tra cứu và tải kết quả tại: {self.link}\n\n"
            "Khi tra cứu, Cổng sẽ hỏi thông tin để xác nhận Ông/Bà là người nộp hồ sơ.\n\n"
            f"{self.centre}\n"
            "Thư này được gửi tự động; vui lòng không trả lời thư.\n"
        )

    def sms(self) -> str:
        # The result code names the dossier (<mã hồ sơ>-KQ<n>): the text stays within one 160-character SMS.
        return unaccented(f"Hồ sơ đã có kết quả {self.result_code}. Tra cứu: {self.link}")


def email_message(text: NoticeText, from_address: str, to: str) -> EmailMessage:
    """The notice as an e-mail: UTF-8 plain text, the subject RFC 2047-encoded, a Message-ID of its own
    (stable per notice: a repeat after a crash is recognisably the same message)."""
    msg = EmailMessage()
    msg["Subject"] = text.subject()
    msg["From"] = from_address
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = from_address.rsplit("@", 1)[-1]
    msg["Message-ID"] = f"<notice-{text.notice_id}.{make_msgid_safe(text.result_code)}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text.email_body(), charset="utf-8")
    return msg


def make_msgid_safe(code: str) -> str:
    return "".join(ch if ch.isalnum() or ch in ".-" else "-" for ch in code)


# -- delivery -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    id: int
    channel: str
    recipient: str
    attempts: int
    text: NoticeText


def _due(now: datetime) -> Any:
    return or_(
        (Notice.state == NoticeState.PENDING) & (Notice.next_attempt_at <= now),
        (Notice.state == NoticeState.SENDING) & (Notice.lease_until < now),
    )


def _cancel_failed_results(s: Session) -> int:
    """Notices of results whose signing failed: nothing to tell."""
    failed = select(EResult.id).where(EResult.state == ComponentState.FAILED)
    done = s.execute(
        update(Notice)
        .where(Notice.state == NoticeState.PENDING, Notice.eresult_id.in_(failed))
        .values(state=NoticeState.CANCELLED, last_error="RESULT_FAILED: the result could not be signed")
        .execution_options(synchronize_session=False)
    )
    return rows_changed(done)


def _claim(services: Services, now: datetime, channels: set[str]) -> list[_Claimed]:
    settings = services.settings
    lease = now + timedelta(seconds=settings.notices.lease_s)
    base = settings.api.base_url
    taken: list[tuple[Notice, str, str, int | None]] = []
    with services.catalogue.session() as s:
        _cancel_failed_results(s)
        rows = s.execute(
            select(Notice, EResult.code, Dossier.code, Dossier.centre_id)
            .join(EResult, EResult.id == Notice.eresult_id)
            .join(Dossier, Dossier.id == Notice.dossier_id)
            .where(_due(now), EResult.state == ComponentState.DONE, Notice.channel.in_(channels or {""}))
            .order_by(Notice.next_attempt_at, Notice.id)
            .limit(BATCH)
        ).all()
        for notice, result_code, dossier_code, centre_id in rows:
            took = s.execute(
                update(Notice)
                .where(Notice.id == notice.id, Notice.state == notice.state, _due(now))
                .values(state=NoticeState.SENDING, lease_until=lease, attempts=Notice.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            if rows_changed(took) == 1:  # else another sender took it
                taken.append((notice, result_code, dossier_code, centre_id))
    claimed = []
    for notice, result_code, dossier_code, centre_id in taken:  # the centre's name, read after the claim commits
        link = f"{base}/tra-cuu/ket-qua/{result_code}"
        text = NoticeText(notice.id, dossier_code, result_code, link, centre_name(services, centre_id))
        claimed.append(_Claimed(notice.id, notice.channel, notice.recipient, notice.attempts + 1, text))
    return claimed


def centre_name(services: Services, centre_id: int | None) -> str:
    from dossiers.signer_keys import centre_details

    return centre_details(services, centre_id).name


def backoff(settings: NoticeSettings, attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: retry_base_s doubled each time, at most retry_max_s."""
    return timedelta(seconds=min(settings.retry_base_s * 2 ** max(attempts - 1, 0), settings.retry_max_s))


def _settle(services: Services, row: _Claimed, error: str | None, permanent: bool = False) -> str | None:
    """Record the attempt's outcome (``sent``, ``retry``, ``failed``); None when the notice is no longer
    this sender's: its lease ended and another sender claimed it again (``attempts``, incremented by each
    claim, is the fencing token), so that sender's outcome is the one recorded."""
    settings = services.settings.notices
    now = utcnow()
    if error is None:
        values: dict[str, Any] = {"state": NoticeState.SENT, "sent_at": now, "lease_until": None, "last_error": None}
        outcome = "sent"
    elif permanent or row.attempts >= settings.max_attempts:
        values = {"state": NoticeState.FAILED, "lease_until": None, "last_error": error[:ERROR_CHARS]}
        outcome = "failed"
    else:
        values = {
            "state": NoticeState.PENDING,
            "lease_until": None,
            "last_error": error[:ERROR_CHARS],
            "next_attempt_at": now + backoff(settings, row.attempts),
        }
        outcome = "retry"
    with services.catalogue.session(durable=True) as s:
        done = s.execute(
            update(Notice)
            .where(Notice.id == row.id, Notice.state == NoticeState.SENDING, Notice.attempts == row.attempts)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(done) == 1:
            return outcome
    log.warning(
        "notice %s: attempt %d outlasted its lease and the notice was claimed again; its outcome (%s) is not recorded",
        row.id,
        row.attempts,
        outcome,
    )
    return None


@dataclass
class Transports:
    """How notices leave: built from the settings, or given by a test."""

    email: EmailTransport | None
    sms: SmsGateway | None
    from_address: str

    @classmethod
    def from_services(cls, services: Services) -> Transports:
        settings = services.settings
        return cls(
            email_transport(settings),
            sms_gateway(settings),
            settings.notices.from_address or "khong-tra-loi@localhost",
        )

    def channels(self) -> set[str]:
        return {c for c, t in ((NoticeChannel.EMAIL.value, self.email), (NoticeChannel.SMS.value, self.sms)) if t}


def deliver_due(
    services: Services, transports: Transports | None = None, now: datetime | None = None
) -> dict[str, int]:
    """Send the notices that are due; counts by outcome (``sent``, ``retry``, ``failed``)."""
    transports = transports or Transports.from_services(services)
    channels = transports.channels()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if not channels:
        return counts
    for row in _claim(services, now or utcnow(), channels):
        error, permanent = None, False
        try:
            if row.channel == NoticeChannel.EMAIL and transports.email is not None:
                transports.email.send(email_message(row.text, transports.from_address, row.recipient))
            elif row.channel == NoticeChannel.SMS and transports.sms is not None:
                transports.sms.send(row.recipient, row.text.sms())
        except PermanentFailure as exc:
            error, permanent = failure_text(exc, row.channel, row.recipient), True
        except (OSError, smtplib.SMTPException, RuntimeError, ValueError) as exc:
            error = failure_text(exc, row.channel, row.recipient)
        outcome = _settle(services, row, error, permanent)
        if outcome is None:
            continue  # another sender has it now
        counts[outcome] += 1
        shown = mask_recipient(row.channel, row.recipient)
        if error is None:
            log.info("notice %s of result %s sent by %s to %s", row.id, row.text.result_code, row.channel, shown)
        else:
            log.warning(
                "notice %s by %s to %s not sent (%s, attempt %d): %s",
                row.id,
                row.channel,
                shown,
                outcome,
                row.attempts,
                error,
            )
    return counts


# -- officers and operators -----------------------------------------------------------------------


def notice_view(notice: Notice, result_code: str, dossier_code: str) -> dict[str, Any]:
    return {
        "id": notice.id,
        "dossier_code": dossier_code,
        "result_code": result_code,
        "channel": notice.channel,
        "recipient": mask_recipient(notice.channel, notice.recipient),
        "state": notice.state,
        "attempts": notice.attempts,
        "last_error": notice.last_error,
        "next_attempt_at": notice.next_attempt_at.isoformat() if notice.state == NoticeState.PENDING else None,
        "created_at": notice.created_at.isoformat(),
        "sent_at": notice.sent_at.isoformat() if notice.sent_at else None,
    }


def list_notices(
    s: Session,
    *,
    dossier_code: str | None = None,
    state: str | None = None,
    centre_id: int | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Notices, newest first; ``centre_id``: only that centre's dossiers'. Recipients masked."""
    query = (
        select(Notice, EResult.code, Dossier.code)
        .join(EResult, EResult.id == Notice.eresult_id)
        .join(Dossier, Dossier.id == Notice.dossier_id)
        .order_by(Notice.id.desc())
        .limit(limit)
    )
    if dossier_code is not None:
        query = query.where(Dossier.code == dossier_code)
    if state is not None:
        query = query.where(Notice.state == state)
    if centre_id is not None:
        query = query.where(Dossier.centre_id == centre_id)
    return [notice_view(n, rc, dc) for n, rc, dc in s.execute(query).all()]


def retry_notice(
    services: Services, notice_id: int, centre_id: int | None = None, actor: str = "operator"
) -> dict[str, Any]:
    """Send a failed or cancelled notice again (or a pending one now): attempts start over (audited).
    NotFound for an unknown notice (or another centre's); a sent one is left as it is."""
    with services.catalogue.session() as s:
        row = s.execute(
            select(Notice, EResult.code, Dossier.code, Dossier.centre_id)
            .join(EResult, EResult.id == Notice.eresult_id)
            .join(Dossier, Dossier.id == Notice.dossier_id)
            .where(Notice.id == notice_id)
        ).first()
        if row is None or (centre_id is not None and row[3] != centre_id):
            raise NotFound(f"notice {notice_id}")
        notice = row[0]
        if (
            notice.state in (NoticeState.FAILED, NoticeState.CANCELLED, NoticeState.PENDING)
            and "*" not in notice.recipient
        ):
            was = notice.state
            notice.state = NoticeState.PENDING
            notice.attempts = 0
            notice.next_attempt_at = utcnow()
            notice.last_error = None
            detail = {"result": row[1], "channel": notice.channel, "was": str(was)}
            audit.append(
                s, actor=actor, action="notice_retry", subject=f"notice:{notice_id}", outcome="ok", detail=detail
            )
        s.flush()
        return notice_view(notice, row[1], row[2])


def purge_contacts(services: Services, now: datetime | None = None) -> dict[str, int]:
    """Apply the retention period (module doc): contacts deleted, settled notices' recipients (and the
    recipient in their last error) masked, notices unsent by then cancelled: pending ones and those left
    ``sending`` by a sender that died (lease over)."""
    settings = services.settings.notices
    now = now or utcnow()
    cutoff = now - timedelta(days=settings.contact_retention_days)
    done = {"contacts_purged": 0, "recipients_masked": 0, "notices_expired": 0}
    with services.catalogue.session() as s:
        unsent = or_(
            Notice.state == NoticeState.PENDING, (Notice.state == NoticeState.SENDING) & (Notice.lease_until < now)
        )
        expired = s.execute(
            update(Notice)
            .where(unsent, Notice.created_at < cutoff)
            .values(state=NoticeState.CANCELLED, lease_until=None, last_error="EXPIRED: contact retention period over")
            .execution_options(synchronize_session=False)
        )
        done["notices_expired"] = rows_changed(expired)
        settled = (NoticeState.SENT, NoticeState.FAILED, NoticeState.CANCELLED)
        stale = s.scalars(
            select(Notice).where(Notice.state.in_(settled), Notice.created_at < cutoff, ~Notice.recipient.contains("*"))
        ).all()
        for notice in stale:
            if notice.last_error:  # written before errors were masked, or by a server echoing it otherwise
                notice.last_error = masked_error(notice.channel, notice.recipient, notice.last_error)
            notice.recipient = mask_recipient(notice.channel, notice.recipient)
        done["recipients_masked"] = len(stale)
        gone = s.execute(delete(DossierContact).where(DossierContact.created_at < cutoff))
        done["contacts_purged"] = rows_changed(gone)
    return done


def contact_of(s: Session, dossier_id: int) -> dict[str, str | None] | None:
    """The dossier's contact details, masked (for its officers' page)."""
    contact = s.get(DossierContact, dossier_id)
    if contact is None:
        return None
    return {
        "email": mask_email(contact.email) if contact.email else None,
        "phone": mask_phone(contact.phone) if contact.phone else None,
    }


def count_by_state(s: Session) -> dict[str, int]:
    return {state: int(n) for state, n in s.execute(select(Notice.state, func.count()).group_by(Notice.state)).all()}
