"""Signing officers in: password with lockout, TOTP (enrolment and codes, each used once), sessions, OIDC.

Every sign-in, failure, lockout, sign-out, TOTP enrolment or reset and password change is audited
with the officer as actor (``officer:<username>``; ``unknown`` for a username no account has).
Nothing secret is ever put in the audit trail: no password, TOTP secret or code, no session token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sohoa.settings import OfficerAuthSettings
from storage.accounts import passwords, sessions, totp
from storage.accounts.sessions import NewSession, Stage
from storage.catalogue.db import Catalogue
from storage.catalogue.models import Centre, Officer, utcnow
from storage.warehouse import audit


@dataclass(frozen=True)
class Policy:
    max_failed: int
    lockout: timedelta
    require_totp: bool
    pending_ttl: timedelta
    session_ttl: timedelta
    idle_timeout: timedelta
    totp_issuer: str

    @classmethod
    def from_settings(cls, s: OfficerAuthSettings) -> Policy:
        return cls(
            max_failed=s.max_failed_logins,
            lockout=timedelta(minutes=s.lockout_minutes),
            require_totp=s.require_totp,
            pending_ttl=timedelta(seconds=s.pending_ttl_s),
            session_ttl=timedelta(seconds=s.session_ttl_s),
            idle_timeout=timedelta(seconds=s.idle_timeout_s),
            totp_issuer=s.totp_issuer,
        )


class Outcome(StrEnum):
    OK = "ok"
    WRONG = "wrong"  # unknown username, wrong password, disabled account: one answer for all
    LOCKED = "locked"
    WRONG_CODE = "wrong_code"
    REPLAYED = "replayed_code"
    NOT_ENROLLED = "not_enrolled"


@dataclass(frozen=True)
class Check:
    outcome: Outcome
    officer_id: int | None = None
    next_stage: Stage | None = None  # after a password: what the session needs before it is active
    locked_until: datetime | None = None


def actor_of(username: str) -> str:
    return f"officer:{username}"


def _audit(s: Session, who: str | None, action: str, outcome: str, **detail: Any) -> None:
    actor = actor_of(who) if who else "unknown"
    audit.append(s, actor=actor, action=action, subject=actor, outcome=outcome, detail=detail)


class Accounts:
    """Officer sign-in against the catalogue, TOTP secrets sealed by ``box``."""

    def __init__(self, catalogue: Catalogue, box: totp.TotpBox, policy: Policy):
        self.catalogue, self.box, self.policy = catalogue, box, policy

    # -- password ---------------------------------------------------------------------------------

    def check_password(self, username: str, password: str, *, client: str = "") -> Check:
        """The first step. Failures count towards lockout; a locked account is refused unchecked."""
        username = username.strip()[:100]
        with self.catalogue.reading() as s:
            row = s.execute(
                select(Officer.id, Officer.password_hash)
                .join(Centre, Centre.id == Officer.centre_id)
                .where(Officer.username == username, Officer.disabled_at.is_(None), Centre.disabled_at.is_(None))
            ).first()
        stored = row.password_hash if row else None
        matches = passwords.verify_password(stored, password)  # outside the transaction: it takes ~50 ms
        now = utcnow()
        with self.catalogue.session(durable=True) as s:
            if row is None:
                _audit(s, None, "officer.sign_in", "wrong_password", username=username, client=client)
                return Check(Outcome.WRONG)
            officer = s.scalars(select(Officer).where(Officer.id == row.id).with_for_update()).one()
            if officer.locked_until is not None and officer.locked_until > now:
                _audit(s, username, "officer.sign_in", "locked", client=client)
                return Check(Outcome.LOCKED, officer.id, locked_until=officer.locked_until)
            if not matches:
                return self._failed(s, officer, "wrong_password", client, now)
            if stored and passwords.needs_rehash(stored):
                officer.password_hash = passwords.hash_password(password)
            if officer.totp_confirmed_at is not None:
                stage = Stage.TOTP
            elif self.policy.require_totp:
                stage = Stage.ENROL
            else:
                stage = Stage.ACTIVE
                officer.failed_logins = 0
            return Check(Outcome.OK, officer.id, next_stage=stage)

    def _failed(self, s: Session, officer: Officer, outcome: str, client: str, now: datetime) -> Check:
        officer.failed_logins += 1
        _audit(s, officer.username, "officer.sign_in", outcome, failures=officer.failed_logins, client=client)
        if officer.failed_logins >= self.policy.max_failed:
            officer.locked_until = now + self.policy.lockout
            officer.failed_logins = 0
            sessions.revoke_all(s, officer.id)  # pending sessions of the guesser end too
            _audit(s, officer.username, "officer.lockout", "locked", until=officer.locked_until.isoformat())
            return Check(Outcome.LOCKED, officer.id, locked_until=officer.locked_until)
        kind = Outcome.WRONG if outcome == "wrong_password" else Outcome(outcome)
        return Check(kind, officer.id)

    # -- TOTP -------------------------------------------------------------------------------------

    def check_code(self, officer_id: int, code: str, *, client: str = "") -> Check:
        """The second step: a code of the officer's confirmed secret, never one accepted before."""
        now = utcnow()
        with self.catalogue.session(durable=True) as s:
            officer = s.scalars(select(Officer).where(Officer.id == officer_id).with_for_update()).one()
            if officer.locked_until is not None and officer.locked_until > now:
                _audit(s, officer.username, "officer.sign_in", "locked", client=client)
                return Check(Outcome.LOCKED, officer.id, locked_until=officer.locked_until)
            if officer.totp_confirmed_at is None or officer.totp_secret is None:
                return Check(Outcome.NOT_ENROLLED, officer.id)
            step = totp.matching_step(self.box.open(officer.id, officer.totp_secret), code)
            if step is None:
                return self._failed(s, officer, "wrong_code", client, now)
            if officer.totp_last_step is not None and step <= officer.totp_last_step:
                return self._failed(s, officer, "replayed_code", client, now)
            officer.totp_last_step = step
            officer.failed_logins = 0
            return Check(Outcome.OK, officer.id)

    def enrolment_secret(self, officer_id: int) -> tuple[str, str]:
        """The secret being set up (made and sealed on first call) and its ``otpauth://`` URI."""
        with self.catalogue.session(durable=True) as s:
            officer = s.scalars(select(Officer).where(Officer.id == officer_id).with_for_update()).one()
            if officer.totp_secret is None or officer.totp_confirmed_at is not None:
                secret = totp.new_secret()
                officer.totp_secret = self.box.seal(officer.id, secret)
                officer.totp_confirmed_at = None
                officer.totp_last_step = None
            else:
                secret = self.box.open(officer.id, officer.totp_secret)
            return secret, totp.provisioning_uri(secret, officer.username, self.policy.totp_issuer)

    def confirm_enrolment(self, officer_id: int, code: str) -> bool:
        """The officer typed a code of the new secret: it counts from now on (the code is used up)."""
        with self.catalogue.session(durable=True) as s:
            officer = s.scalars(select(Officer).where(Officer.id == officer_id).with_for_update()).one()
            if officer.totp_secret is None or officer.totp_confirmed_at is not None:
                return False
            step = totp.matching_step(self.box.open(officer.id, officer.totp_secret), code)
            if step is None:
                _audit(s, officer.username, "officer.totp_enrol", "wrong_code")
                return False
            officer.totp_confirmed_at = utcnow()
            officer.totp_last_step = step
            officer.failed_logins = 0
            _audit(s, officer.username, "officer.totp_enrol", "ok")
            return True

    def totp_enabled(self, officer_id: int) -> bool:
        with self.catalogue.reading() as s:
            return s.scalar(select(Officer.totp_confirmed_at).where(Officer.id == officer_id)) is not None

    # -- sessions ---------------------------------------------------------------------------------

    def open_session(
        self, officer_id: int, stage: Stage, method: str, *, replacing: int | None = None, client: str = ""
    ) -> NewSession:
        """A new session (the token rotates at every step of a sign-in: ``replacing`` is revoked)."""
        ttl = self.policy.session_ttl if stage == Stage.ACTIVE else self.policy.pending_ttl
        with self.catalogue.session(durable=True) as s:
            if replacing is not None:
                sessions.revoke(s, replacing)
            new = sessions.create(s, officer_id, stage, method, ttl)
            if stage == Stage.ACTIVE:
                username = s.scalar(select(Officer.username).where(Officer.id == officer_id))
                _audit(s, username, "officer.sign_in", "ok", method=method, client=client)
            return new

    def find_session(self, token: str) -> sessions.SessionInfo | None:
        return sessions.find(self.catalogue, token, self.policy.idle_timeout)

    def close_session(self, session_id: int, officer_id: int) -> None:
        with self.catalogue.session(durable=True) as s:
            sessions.revoke(s, session_id)
            username = s.scalar(select(Officer.username).where(Officer.id == officer_id))
            _audit(s, username, "officer.sign_out", "ok")

    # -- password change --------------------------------------------------------------------------

    def change_password(self, officer_id: int, current: str, new: str, *, keep_session: int | None) -> str | None:
        """Change one's own password; the Vietnamese reason when refused. Other sessions end."""
        with self.catalogue.reading() as s:
            stored = s.scalar(select(Officer.password_hash).where(Officer.id == officer_id))
        if not passwords.verify_password(stored, current):
            with self.catalogue.session(durable=True) as s:
                officer = s.get_one(Officer, officer_id)
                _audit(s, officer.username, "officer.password_change", "wrong_password")
            return "Mật khẩu hiện tại không đúng."
        problem = passwords.password_problem(new)
        if problem is None and new == current:
            problem = "Mật khẩu mới phải khác mật khẩu hiện tại."
        if problem:
            return problem
        with self.catalogue.session(durable=True) as s:
            officer = s.get_one(Officer, officer_id)
            officer.password_hash = passwords.hash_password(new)
            _revoke_others(s, officer_id, keep_session)
            _audit(s, officer.username, "officer.password_change", "ok")
        return None

    # -- OpenID Connect ---------------------------------------------------------------------------

    def officer_for_oidc(
        self, issuer: str, subject: str, username: str | None, *, centre: str | None, provider: str
    ) -> int | None:
        """The officer this identity signs in: linked before by (issuer, subject), else the account an
        administrator created with the claimed username and no identity yet (linked now). None: no account,
        a disabled one, or one of another centre than the provider (or its centre claim) allows."""
        with self.catalogue.session(durable=True) as s:
            query = (
                select(Officer, Centre.code)
                .join(Centre, Centre.id == Officer.centre_id)
                .where(Officer.disabled_at.is_(None), Centre.disabled_at.is_(None))
            )
            row = s.execute(query.where(Officer.oidc_issuer == issuer, Officer.oidc_subject == subject)).first()
            linked = row is not None
            if row is None and username:
                row = s.execute(query.where(Officer.username == username, Officer.oidc_subject.is_(None))).first()
            if row is None or (centre is not None and row[1] != centre):
                _audit(s, None, "officer.sign_in", "unknown_identity", provider=provider, username=username or "")
                return None
            officer: Officer = row[0]
            if not linked:
                officer.oidc_issuer, officer.oidc_subject = issuer, subject
                _audit(s, officer.username, "officer.oidc_link", "ok", provider=provider)
            return officer.id


def _revoke_others(s: Session, officer_id: int, keep_session: int | None) -> None:
    from storage.catalogue.models import OfficerSession

    query = update(OfficerSession).where(OfficerSession.officer_id == officer_id, OfficerSession.revoked_at.is_(None))
    if keep_session is not None:
        query = query.where(OfficerSession.id != keep_session)
    s.execute(query.values(revoked_at=utcnow()))
