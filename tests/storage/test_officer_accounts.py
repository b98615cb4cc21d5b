"""Officer accounts in the catalogue: argon2 passwords, sealed TOTP secrets used once, lockout, sessions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from dossiers.services import Services
from storage.accounts import admin, passwords, totp
from storage.accounts.sessions import Stage
from storage.accounts.signin import Accounts, Outcome, Policy
from storage.catalogue.models import Officer, OfficerRole, OfficerSession
from storage.catalogue.officers import create_centre
from storage.catalogue.warehouse_models import AuditEntry
from storage.errors import AccountError, SecretFileInvalid

POLICY = Policy(
    max_failed=3,
    lockout=timedelta(minutes=15),
    require_totp=True,
    pending_ttl=timedelta(minutes=10),
    session_ttl=timedelta(hours=12),
    idle_timeout=timedelta(minutes=30),
    totp_issuer="Sohoa",
)
PASSWORD = "mat-khau-rat-dai-2026"


def accounts(services: Services, tmp_path: Path, policy: Policy = POLICY) -> Accounts:
    return Accounts(services.catalogue, totp.TotpBox.from_file(tmp_path / "totp-key"), policy)


def add(services: Services, username: str = "lan.nt") -> int:
    create_centre(services.catalogue, "BD", "UBND phường Ba Đình")
    officer_id, made = admin.add_officer(
        services.catalogue, username, "Nguyễn Thị Lan", OfficerRole.RECEIVING, "BD", password=PASSWORD
    )
    assert made is None
    return officer_id


def test_password_hash_is_argon2id_and_verifies() -> None:
    stored = passwords.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert passwords.verify_password(stored, PASSWORD)
    assert not passwords.verify_password(stored, PASSWORD + "x")
    assert not passwords.verify_password(None, PASSWORD)
    assert not passwords.verify_password("not a hash", PASSWORD)
    assert passwords.password_problem("ngan") and passwords.password_problem("aaaaaaaaaaaa")
    assert passwords.password_problem(PASSWORD) is None


def test_totp_secret_is_sealed_per_officer_and_key(tmp_path: Path) -> None:
    box = totp.TotpBox.from_file(tmp_path / "key")
    secret = totp.new_secret()
    sealed = box.seal(7, secret)
    assert secret not in sealed and box.open(7, sealed) == secret
    with pytest.raises(SecretFileInvalid):
        box.open(8, sealed)  # moved to another account
    with pytest.raises(SecretFileInvalid):
        totp.TotpBox.from_file(tmp_path / "other-key").open(7, sealed)


def test_totp_codes_match_their_step_within_the_window() -> None:
    secret = totp.new_secret()
    now = 1_800_000_000.0
    step = totp.current_step(now)
    assert totp.matching_step(secret, totp.code_at(secret, step), now=now) == step
    assert totp.matching_step(secret, totp.code_at(secret, step - 1), now=now) == step - 1
    assert totp.matching_step(secret, totp.code_at(secret, step - 3), now=now) is None
    assert totp.matching_step(secret, "abcdef", now=now) is None


def test_sign_in_enrol_code_once_and_lockout(db_services: Services, tmp_path: Path) -> None:
    acc = accounts(db_services, tmp_path)
    officer_id = add(db_services)
    first = acc.check_password("lan.nt", PASSWORD)
    assert first.outcome == Outcome.OK and first.next_stage == Stage.ENROL
    secret, uri = acc.enrolment_secret(officer_id)
    assert uri.startswith("otpauth://totp/") and "Sohoa" in uri
    assert acc.enrolment_secret(officer_id)[0] == secret  # a reload shows the same secret until confirmed
    wrong = next(c for c in ("000000", "111111", "222222") if totp.matching_step(secret, c) is None)
    assert not acc.confirm_enrolment(officer_id, wrong)
    code = totp.code_at(secret, totp.current_step())
    assert acc.confirm_enrolment(officer_id, code)
    assert acc.check_password("lan.nt", PASSWORD).next_stage == Stage.TOTP
    assert acc.check_code(officer_id, code).outcome == Outcome.REPLAYED  # used at enrolment
    assert acc.check_code(officer_id, totp.code_at(secret, totp.current_step() + 1)).outcome == Outcome.OK

    assert acc.check_password("lan.nt", "sai").outcome == Outcome.WRONG
    assert acc.check_password("lan.nt", "sai").outcome == Outcome.WRONG
    locked = acc.check_password("lan.nt", "sai")
    assert locked.outcome == Outcome.LOCKED and locked.locked_until is not None
    assert acc.check_password("lan.nt", PASSWORD).outcome == Outcome.LOCKED  # even the right one, until it ends
    admin.unlock(db_services.catalogue, "lan.nt")
    assert acc.check_password("lan.nt", PASSWORD).outcome == Outcome.OK
    assert acc.check_password("khong.co", PASSWORD).outcome == Outcome.WRONG

    with db_services.catalogue.reading() as s:
        officer = s.scalars(select(Officer).where(Officer.id == officer_id)).one()
        assert officer.totp_secret and secret not in officer.totp_secret
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    actions = [(e.actor, e.action, e.outcome) for e in entries]
    assert ("officer:lan.nt", "officer.totp_enrol", "ok") in actions
    assert ("officer:lan.nt", "officer.lockout", "locked") in actions
    assert ("unknown", "officer.sign_in", "wrong_password") in actions
    text = repr([(e.detail, e.subject) for e in entries])
    assert PASSWORD not in text and secret not in text and "sai" not in text


def test_sessions_rotate_expire_and_end(db_services: Services, tmp_path: Path) -> None:
    acc = accounts(db_services, tmp_path)
    officer_id = add(db_services)
    pending = acc.open_session(officer_id, Stage.TOTP, "password")
    info = acc.find_session(pending.token)
    assert info is not None and info.stage == Stage.TOTP
    active = acc.open_session(officer_id, Stage.ACTIVE, "password", replacing=info.id)
    assert acc.find_session(pending.token) is None and active.token != pending.token
    live = acc.find_session(active.token)
    assert live is not None and live.stage == Stage.ACTIVE and live.csrf_token == active.csrf_token
    with db_services.catalogue.reading() as s:
        stored = s.scalars(select(OfficerSession.token_hash)).all()
    assert active.token not in stored
    acc.close_session(live.id, officer_id)
    assert acc.find_session(active.token) is None

    idle = acc.open_session(officer_id, Stage.ACTIVE, "password")
    with db_services.catalogue.session() as s:
        row = s.scalars(select(OfficerSession).where(OfficerSession.revoked_at.is_(None))).one()
        row.last_seen_at = row.last_seen_at - timedelta(minutes=31)
    assert acc.find_session(idle.token) is None
    old = acc.open_session(officer_id, Stage.ACTIVE, "password")
    with db_services.catalogue.session() as s:
        row = s.scalars(select(OfficerSession).order_by(OfficerSession.id.desc())).first()
        assert row is not None
        row.expires_at = row.created_at
    assert acc.find_session(old.token) is None


def test_admin_refuses_unknown_centre_and_taken_name(db_services: Services) -> None:
    with pytest.raises(AccountError):
        admin.add_officer(db_services.catalogue, "a", "A", OfficerRole.ADMIN, "NOPE")
    create_centre(db_services.catalogue, "BD", "UBND phường Ba Đình")
    _, made = admin.add_officer(db_services.catalogue, "a", "A", OfficerRole.ADMIN, "BD")
    assert made and len(made) >= 12
    with pytest.raises(AccountError):
        admin.add_officer(db_services.catalogue, "a", "A", OfficerRole.ADMIN, "BD")
    assert [o["username"] for o in admin.list_officers(db_services.catalogue)] == ["a"]


def test_ended_sessions_are_purged_by_maintenance(db_services: Services, tmp_path: Path) -> None:
    from workers.maintenance import run_once

    acc = accounts(db_services, tmp_path)
    officer_id = add(db_services)
    live = acc.open_session(officer_id, Stage.ACTIVE, "password")
    ended = acc.open_session(officer_id, Stage.ACTIVE, "password")
    with db_services.catalogue.session() as s:
        row = s.scalars(select(OfficerSession).order_by(OfficerSession.id.desc())).first()
        assert row is not None
        row.expires_at = row.created_at - timedelta(days=2)
    assert acc.find_session(ended.token) is None
    assert run_once(db_services, retimestamp=False)["ended_sessions"] == 1
    assert "ended_sessions" not in run_once(db_services, retimestamp=False)
    assert acc.find_session(live.token) is not None
