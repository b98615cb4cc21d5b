"""Result notices (issue 21, part 5): the outbox on SQLite and PostgreSQL, delivered to a real SMTP server
(aiosmtpd) and a real HTTP SMS gateway; an SMTP server that is down is tried again later, and each notice
is sent exactly once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.header import decode_header
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from dossiers.batch_reader import read_batch
from dossiers.contacts import normalise_email
from dossiers.errors import ManifestInvalid
from dossiers.intake import ingest
from dossiers.notices import (
    NoticeText,
    _claim,
    _settle,
    deliver_due,
    email_message,
    list_notices,
    purge_contacts,
    retry_notice,
)
from dossiers.result_render import render_result_pdf
from dossiers.results import issue_result_once
from dossiers.services import Services
from sohoa.settings import NoticeSettings, Settings
from storage.catalogue.models import ComponentState, EResult
from storage.catalogue.notice_models import DossierContact, Notice
from testkit.batches import make_zip, manifest
from testkit.servers import free_port
from tests.conftest import make_settings
from tests.notice_servers import SmsGatewayServer, SmtpServer
from tests.storage.factories import model_drift

CODE = "000.00.12.H26-261206-0901"
APPLICANT_ID = "001090012345"
EMAIL, PHONE = "hoa.tran@example.vn", "0912 345 678"
FROM = "khong-tra-loi@sohoa.example.vn"
LATER = timedelta(days=2)  # past any backoff the tests' settings allow


def notice_settings(smtp_port: int, sms_url: str | None = None, **more: Any) -> NoticeSettings:
    sms: dict[str, Any] = {"sms": "http", "sms_url": sms_url} if sms_url else {}
    return NoticeSettings(
        email="smtp",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_security="none",
        from_address=FROM,
        retry_base_s=60,
        retry_max_s=600,
        **sms,
        **more,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def make_services(
    request: pytest.FixtureRequest, tmp_path: Path, shared_pki_dir: Path
) -> Iterator[Callable[[NoticeSettings], Services]]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    made: list[Services] = []

    def make(notices: NoticeSettings) -> Services:
        settings: Settings = make_settings(tmp_path / "var", shared_pki_dir, database_url=url)
        services = Services(settings.model_copy(update={"notices": notices}))
        services.prepare()
        made.append(services)
        return services

    yield make
    for services in made:
        services.close()


def push(services: Services, tmp_path: Path, code: str = CODE, **contact: str) -> int:
    m = manifest([{"id": "don", "name": "Tờ khai", "files": ["a.jpg"]}], code=code) | contact
    path = tmp_path / f"{code}.zip"
    path.write_bytes(make_zip(m, {"a.jpg": b"\xff\xd8 scan"}))
    return ingest(services, read_batch(path)).dossier_id


def issue(services: Services, code: str = CODE, *, signed: bool = True) -> str:
    """An e-result of the dossier (the signing itself is the pipeline's, tested elsewhere: marked done here)."""
    pdf = render_result_pdf(["Giấy xác nhận tình trạng hôn nhân", f"Số định danh: {APPLICANT_ID}"])
    issued = issue_result_once(services, code, pdf, title="Giấy xác nhận tình trạng hôn nhân")
    if signed:
        with services.catalogue.session() as s:
            s.execute(update(EResult).where(EResult.id == issued.result.id).values(state=ComponentState.DONE))
    return issued.result.code


def notices_of(services: Services) -> list[dict[str, Any]]:
    with services.catalogue.reading() as s:
        return list_notices(s)


def test_the_applicant_is_emailed_and_texted_once_with_the_code_and_link_only(
    make_services: Callable[[NoticeSettings], Services],
    smtp_server: SmtpServer,
    sms_gateway: SmsGatewayServer,
    tmp_path: Path,
) -> None:
    token = tmp_path / "sms-token"
    token.write_text("gateway-secret\n")
    services = make_services(notice_settings(smtp_server.port, sms_gateway.url, sms_token_file=token))
    dossier_id = push(services, tmp_path, contact_email=EMAIL, contact_phone=PHONE)
    with services.catalogue.reading() as s:
        contact = s.get_one(DossierContact, dossier_id)
        assert (contact.email, contact.phone) == (EMAIL, "+84912345678")

    pdf = render_result_pdf(["Giấy xác nhận tình trạng hôn nhân"])
    issued = issue_result_once(services, CODE, pdf, title="Giấy xác nhận tình trạng hôn nhân")
    result = issued.result.code
    assert [(n["channel"], n["state"]) for n in notices_of(services)] == [("sms", "pending"), ("email", "pending")]
    assert deliver_due(services) == {"sent": 0, "retry": 0, "failed": 0}  # not signed yet: the notices wait
    assert smtp_server.mailbox.received == [] and sms_gateway.requests == []

    with services.catalogue.session() as s:
        s.execute(update(EResult).where(EResult.id == issued.result.id).values(state=ComponentState.DONE))
    assert deliver_due(services) == {"sent": 2, "retry": 0, "failed": 0}
    assert deliver_due(services, now=datetime.now(UTC) + LATER) == {"sent": 0, "retry": 0, "failed": 0}

    link = f"{services.settings.api.base_url}/tra-cuu/ket-qua/{result}"
    assert len(smtp_server.mailbox.received) == 1
    rcpt, raw = smtp_server.mailbox.received[0]
    assert rcpt == [EMAIL]
    (message,) = smtp_server.mailbox.messages()
    raw_subject = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")  # the header block is 7-bit: RFC 2047 words
    assert "=?utf-8?" in raw_subject.lower()
    decoded = "".join(
        part.decode(charset or "ascii") if isinstance(part, bytes) else part
        for part, charset in decode_header(str(message["Subject"]))
    )
    assert decoded == f"Hồ sơ {CODE} đã có kết quả"
    assert message["From"] == FROM and message["To"] == EMAIL
    body = message.get_content()
    assert result in body and link in body and "Mã kết quả" in body
    assert APPLICANT_ID not in raw.decode("utf-8", "replace") and APPLICANT_ID not in body
    assert "tình trạng hôn nhân" not in body  # nothing of the document

    assert len(sms_gateway.requests) == 1
    auth, sms = sms_gateway.requests[0]
    assert auth == "Bearer gateway-secret"
    assert sms["to"] == "+84912345678"
    assert result in sms["text"] and link in sms["text"] and APPLICANT_ID not in sms["text"]
    assert sms["text"].isascii() and len(sms["text"]) <= 160  # GSM 7-bit: one SMS
    assert sms["text"].startswith("Ho so da co ket qua")

    states = {n["channel"]: n for n in notices_of(services)}
    assert {c: (n["state"], n["attempts"]) for c, n in states.items()} == {"email": ("sent", 1), "sms": ("sent", 1)}
    assert states["email"]["recipient"] == "h***@example.vn" and states["sms"]["recipient"] == "+84******678"


def test_an_smtp_server_that_is_down_gets_the_notice_later_exactly_once(
    make_services: Callable[[NoticeSettings], Services], tmp_path: Path
) -> None:
    server = SmtpServer(free_port())  # not started: connections are refused
    services = make_services(notice_settings(server.port))
    push(services, tmp_path, contact_email=EMAIL)
    result = issue(services)

    assert deliver_due(services) == {"sent": 0, "retry": 1, "failed": 0}
    (notice,) = notices_of(services)
    assert (notice["state"], notice["attempts"]) == ("pending", 1)
    assert "ConnectionRefusedError" in notice["last_error"]
    assert deliver_due(services) == {"sent": 0, "retry": 0, "failed": 0}  # not due again before its backoff

    server.start()
    try:
        assert deliver_due(services, now=datetime.now(UTC) + LATER) == {"sent": 1, "retry": 0, "failed": 0}
        assert deliver_due(services, now=datetime.now(UTC) + 2 * LATER) == {"sent": 0, "retry": 0, "failed": 0}
        assert len(server.mailbox.received) == 1
        assert result in server.mailbox.messages()[0].get_content()
    finally:
        server.stop()
    (notice,) = notices_of(services)
    assert (notice["state"], notice["attempts"], notice["last_error"]) == ("sent", 2, None)


def test_senders_running_at_once_send_each_notice_once(
    make_services: Callable[[NoticeSettings], Services], smtp_server: SmtpServer, tmp_path: Path
) -> None:
    services = make_services(notice_settings(smtp_server.port))
    codes = [f"000.00.12.H26-261206-09{i:02d}" for i in range(10, 16)]
    for code in codes:
        push(services, tmp_path, code, contact_email=EMAIL)
        issue(services, code)
    counts: list[dict[str, int]] = []
    threads = [threading.Thread(target=lambda: counts.append(deliver_due(services))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(c["sent"] for c in counts) == len(codes)
    assert len(smtp_server.mailbox.received) == len(codes)
    assert sorted(str(m["Subject"]) for m in smtp_server.mailbox.messages()) == sorted(
        f"Hồ sơ {c} đã có kết quả" for c in codes
    )


def test_a_notice_fails_after_its_attempts_and_an_officer_retries_it(
    make_services: Callable[[NoticeSettings], Services], tmp_path: Path
) -> None:
    server = SmtpServer(free_port())
    services = make_services(notice_settings(server.port, max_attempts=2))
    push(services, tmp_path, contact_email=EMAIL)
    issue(services)
    assert deliver_due(services)["retry"] == 1
    assert deliver_due(services, now=datetime.now(UTC) + LATER)["failed"] == 1
    (notice,) = notices_of(services)
    assert (notice["state"], notice["attempts"]) == ("failed", 2)
    assert deliver_due(services, now=datetime.now(UTC) + 2 * LATER)["sent"] == 0  # failed: left alone

    server.start()
    try:
        assert retry_notice(services, notice["id"])["state"] == "pending"
        assert deliver_due(services) == {"sent": 1, "retry": 0, "failed": 0}
        assert len(server.mailbox.received) == 1
    finally:
        server.stop()


def test_the_sms_gateway_refusing_a_number_fails_it_and_an_outage_retries(
    make_services: Callable[[NoticeSettings], Services], sms_gateway: SmsGatewayServer, tmp_path: Path
) -> None:
    services = make_services(NoticeSettings(sms="http", sms_url=sms_gateway.url, retry_base_s=60))
    push(services, tmp_path, contact_phone=PHONE, contact_email=EMAIL)  # no e-mail transport: SMS only
    issue(services)
    (only,) = notices_of(services)
    assert only["channel"] == "sms"
    sms_gateway.status = 503
    assert deliver_due(services) == {"sent": 0, "retry": 1, "failed": 0}
    sms_gateway.status = 422
    assert deliver_due(services, now=datetime.now(UTC) + LATER) == {"sent": 0, "retry": 0, "failed": 1}
    (notice,) = notices_of(services)
    assert notice["state"] == "failed" and "HTTP 422" in notice["last_error"]
    assert len(sms_gateway.requests) == 2


def test_no_contact_no_notice_and_a_failed_signature_cancels_it(
    make_services: Callable[[NoticeSettings], Services], smtp_server: SmtpServer, tmp_path: Path
) -> None:
    services = make_services(notice_settings(smtp_server.port))
    push(services, tmp_path)  # no contact given
    issue(services)
    assert notices_of(services) == []
    other = "000.00.12.H26-261206-0902"
    push(services, tmp_path, other, contact_email=EMAIL)
    code = issue(services, other, signed=False)
    with services.catalogue.session() as s:
        s.execute(update(EResult).where(EResult.code == code).values(state=ComponentState.FAILED))
    assert deliver_due(services)["sent"] == 0
    (notice,) = notices_of(services)
    assert notice["state"] == "cancelled" and smtp_server.mailbox.received == []


def test_contacts_are_purged_after_the_retention_period(
    make_services: Callable[[NoticeSettings], Services], smtp_server: SmtpServer, tmp_path: Path
) -> None:
    services = make_services(notice_settings(smtp_server.port, contact_retention_days=30))
    dossier_id = push(services, tmp_path, contact_email=EMAIL, contact_phone=PHONE)
    issue(services)
    deliver_due(services)
    assert purge_contacts(services) == {"contacts_purged": 0, "recipients_masked": 0, "notices_expired": 0}
    done = purge_contacts(services, now=datetime.now(UTC) + timedelta(days=31))
    assert done == {"contacts_purged": 1, "recipients_masked": 1, "notices_expired": 0}
    with services.catalogue.reading() as s:
        assert s.get(DossierContact, dossier_id) is None
        assert s.scalars(select(Notice.recipient)).all() == ["h***@example.vn"]
        assert s.scalar(select(func.count()).select_from(Notice)) == 1


@pytest.mark.parametrize(("code", "outcome", "state"), [(450, "retry", "pending"), (550, "failed", "failed")])
def test_a_refused_recipient_is_recorded_and_logged_with_its_address_masked(
    make_services: Callable[[NoticeSettings], Services],
    smtp_server: SmtpServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    code: int,
    outcome: str,
    state: str,
) -> None:
    """The server echoes the address in its refusal (and smtplib keys the refusal by it): the notice's
    last error and the log keep the code and reason with the address masked."""
    smtp_server.mailbox.refuse_rcpt = code
    services = make_services(notice_settings(smtp_server.port))
    push(services, tmp_path, contact_email=EMAIL)
    issue(services)
    with caplog.at_level(logging.INFO, logger="dossiers.notices"):
        assert deliver_due(services)[outcome] == 1
    with services.catalogue.reading() as s:
        (notice,) = s.scalars(select(Notice)).all()
        stored = notice.last_error or ""
    assert notice.state == state
    # The service's own log lines; the test SMTP server's (aiosmtpd, logger "mail.log") may name the address.
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail."))
    assert "h***@example.vn" in ours, ours  # the failure was logged, masked
    assert EMAIL not in stored.lower() and EMAIL not in ours.lower()
    assert f"recipient refused: {code} " in stored and "h***@example.vn" in stored
    assert "Recipient address rejected" in stored
    assert stored in caplog.text
    assert smtp_server.mailbox.received == []


def test_purging_contacts_masks_the_recipient_in_the_last_error(
    make_services: Callable[[NoticeSettings], Services], smtp_server: SmtpServer, tmp_path: Path
) -> None:
    services = make_services(notice_settings(smtp_server.port, contact_retention_days=30))
    push(services, tmp_path, contact_email=EMAIL)
    issue(services)
    with services.catalogue.session() as s:  # as written before errors were masked
        s.execute(
            update(Notice).values(
                state="failed", last_error=f"SMTPRecipientsRefused: {{'{EMAIL.upper()}': (550, b'<{EMAIL}> no')}}"
            )
        )
    assert purge_contacts(services, now=datetime.now(UTC) + timedelta(days=31))["recipients_masked"] == 1
    with services.catalogue.reading() as s:
        (notice,) = s.scalars(select(Notice)).all()
    assert notice.recipient == "h***@example.vn"
    assert notice.last_error == "SMTPRecipientsRefused: {'h***@example.vn': (550, b'<h***@example.vn> no')}"


def test_a_notice_left_sending_by_a_dead_sender_is_cancelled_and_masked_at_retention(
    make_services: Callable[[NoticeSettings], Services], smtp_server: SmtpServer, tmp_path: Path
) -> None:
    services = make_services(notice_settings(smtp_server.port, contact_retention_days=30))
    push(services, tmp_path, contact_email=EMAIL)
    issue(services)
    claimed = _claim(services, datetime.now(UTC), {"email"})  # the sender dies here: never settled
    assert len(claimed) == 1
    later = datetime.now(UTC) + timedelta(days=31)
    done = purge_contacts(services, now=later)
    assert done == {"contacts_purged": 1, "recipients_masked": 1, "notices_expired": 1}
    with services.catalogue.reading() as s:
        (notice,) = s.scalars(select(Notice)).all()
    assert (notice.state, notice.recipient, notice.lease_until) == ("cancelled", "h***@example.vn", None)
    assert deliver_due(services, now=later) == {"sent": 0, "retry": 0, "failed": 0}
    assert smtp_server.mailbox.received == []


def test_a_sender_whose_lease_ended_does_not_overwrite_the_next_senders_outcome(
    make_services: Callable[[NoticeSettings], Services], smtp_server: SmtpServer, tmp_path: Path
) -> None:
    services = make_services(notice_settings(smtp_server.port))
    push(services, tmp_path, contact_email=EMAIL)
    issue(services)
    now = datetime.now(UTC)
    (first,) = _claim(services, now, {"email"})
    assert _claim(services, now, {"email"}) == []  # leased
    (second,) = _claim(services, now + timedelta(seconds=services.settings.notices.lease_s + 1), {"email"})
    assert (first.id, first.attempts, second.attempts) == (second.id, 1, 2)

    assert _settle(services, first, None) is None  # the first sender finishes late: not recorded
    with services.catalogue.reading() as s:
        (notice,) = s.scalars(select(Notice)).all()
    assert (notice.state, notice.attempts, notice.sent_at) == ("sending", 2, None)

    assert _settle(services, second, "OSError: timed out") == "retry"
    assert _settle(services, first, None) is None  # nor after the second settled
    with services.catalogue.reading() as s:
        (notice,) = s.scalars(select(Notice)).all()
    assert (notice.state, notice.attempts, notice.last_error) == ("pending", 2, "OSError: timed out")


@pytest.mark.parametrize(
    "address",
    ["hoa.tran@example.vn\r\nBcc: all@example.vn", "hoa.tran@example.vn\nX-Injected: 1", "hoa\r\n@example.vn"],
)
def test_an_address_with_a_line_break_is_refused_before_any_header(tmp_path: Path, address: str) -> None:
    path = tmp_path / "bad.zip"
    m = manifest([{"id": "a", "files": ["a.jpg"]}]) | {"contact_email": address}
    path.write_bytes(make_zip(m, {"a.jpg": b"\xff\xd8"}))
    with pytest.raises(ManifestInvalid) as refused:
        read_batch(path)
    assert "manifest.json" in refused.value.message_vi and "không hợp lệ" in refused.value.message_vi
    assert "contact_email" in refused.value.detail
    with pytest.raises(ValueError):
        normalise_email(address)
    assert normalise_email(" hoa.tran@example.vn\r\n") == "hoa.tran@example.vn"  # trimmed: nothing left over
    text = NoticeText(1, CODE, f"{CODE}-KQ1", "https://x.example.vn/tra-cuu/ket-qua/1", "Trung tâm")
    with pytest.raises(ValueError):  # and the message refuses a header value with a line break
        email_message(text, FROM, address)


def test_contact_details_in_the_manifest_are_checked(tmp_path: Path) -> None:
    for bad in ({"contact_email": "not-an-address"}, {"contact_phone": "12345"}):
        path = tmp_path / "bad.zip"
        path.write_bytes(make_zip(manifest([{"id": "a", "files": ["a.jpg"]}]) | bad, {"a.jpg": b"\xff\xd8"}))
        with pytest.raises(ManifestInvalid):
            read_batch(path)


def test_settings_refuse_an_incomplete_transport() -> None:
    with pytest.raises(ValueError, match="smtp_host"):
        NoticeSettings(email="smtp")
    with pytest.raises(ValueError, match="sms_url"):
        NoticeSettings(sms="http")
    assert NoticeSettings().email == "none" and NoticeSettings().sms == "none"  # off unless configured


@pytest.mark.parametrize("table", ["notices", "dossier_contacts"])
def test_migration_0022_matches_the_models(table: str, tmp_path: Path, pg_url: str) -> None:
    for url in (f"sqlite:///{tmp_path / 'drift.sqlite3'}", pg_url):
        assert model_drift(url, table) == []


def test_migration_0022_downgrades_and_upgrades(
    make_services: Callable[[NoticeSettings], Services], smtp_server: SmtpServer, tmp_path: Path
) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect

    from storage.catalogue.db import alembic_config

    services = make_services(notice_settings(smtp_server.port))
    push(services, tmp_path, contact_email=EMAIL)
    issue(services)
    cfg = alembic_config(services.settings.db_url)
    services.catalogue.dispose()
    before = ScriptDirectory.from_config(cfg).get_revision("0022").down_revision
    assert isinstance(before, str)
    command.downgrade(cfg, before)
    assert not {"notices", "dossier_contacts"} & set(inspect(services.catalogue.engine).get_table_names())
    command.upgrade(cfg, "head")
    assert {"notices", "dossier_contacts"} <= set(inspect(services.catalogue.engine).get_table_names())
