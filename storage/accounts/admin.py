"""Account administration (``sohoa officers …``): create, list, disable, unlock, reset TOTP, set a password.

Each change is audited with ``actor`` (``operator`` from the host's CLI, ``officer:<username>`` for a
centre's administrator) as actor and the officer as subject. ``centre_code``, where given, limits a change
to that centre's officers: another centre's answers as if there were none (no IDOR).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.accounts import passwords, sessions
from storage.catalogue.db import Catalogue
from storage.catalogue.models import Centre, Officer, OfficerRole, utcnow
from storage.catalogue.officers import create_officer
from storage.errors import AccountError
from storage.warehouse import audit

USERNAME_DIGITS_VI = (
    "Tên đăng nhập không được chỉ gồm chữ số (dễ nhầm với mã khóa API trong nhật ký truy cập); "
    "hãy thêm ít nhất một chữ cái."
)


def _audit(s: Any, username: str, action: str, actor: str = "operator", **detail: Any) -> None:
    audit.append(s, actor=actor, action=action, subject=f"officer:{username}", outcome="ok", detail=detail)


def add_officer(
    catalogue: Catalogue,
    username: str,
    full_name: str,
    role: OfficerRole,
    centre_code: str,
    *,
    title: str = "",
    password: str | None = None,
    actor: str = "operator",
) -> tuple[int, str | None]:
    """A new local account; its id and the initial password when one was made up (None when given).

    A username of digits only is refused: an officer-role API key is audited as ``officer:<key id>``,
    and an officer named like a key would be taken for it (and the key for the officer).
    """
    if username.isdigit():
        raise AccountError(
            f"username {username!r} is all digits (it would read as an API key's id in the audit log)",
            message_vi=USERNAME_DIGITS_VI,
        )
    with catalogue.reading() as s:
        centre_id = s.scalar(select(Centre.id).where(Centre.code == centre_code))
        taken = s.scalar(select(Officer.id).where(Officer.username == username))
    if centre_id is None:
        raise AccountError(f"no centre with code {centre_code!r} (create it first: sohoa centres add)")
    if taken is not None:
        raise AccountError(f"an officer named {username!r} already exists")
    made = None
    if password is None:
        password = made = passwords.new_password()
    elif problem := passwords.password_problem(password):
        raise AccountError(problem)
    officer_id = create_officer(catalogue, username, full_name, role, centre_id, title=title)
    with catalogue.session(durable=True) as s:
        s.get_one(Officer, officer_id).password_hash = passwords.hash_password(password)
        _audit(s, username, "officer.create", actor, role=str(role), centre=centre_code)
    return officer_id, made


def list_officers(catalogue: Catalogue, centre_code: str | None = None) -> list[dict[str, Any]]:
    """Every officer, or those of one centre."""
    with catalogue.reading() as s:
        query = select(Officer, Centre.code).join(Centre).order_by(Officer.id)
        if centre_code is not None:
            query = query.where(Centre.code == centre_code)
        rows = s.execute(query).all()
        now = utcnow()
        return [
            {
                "id": o.id,
                "username": o.username,
                "full_name": o.full_name,
                "title": o.title,
                "role": o.role,
                "centre": code,
                "password": o.password_hash is not None,
                "totp": o.totp_confirmed_at is not None,
                "oidc": o.oidc_subject is not None,
                "locked": o.locked_until is not None and o.locked_until > now,
                "disabled": o.disabled_at is not None,
            }
            for o, code in rows
        ]


def _change(
    catalogue: Catalogue,
    username: str,
    action: str,
    *,
    actor: str = "operator",
    centre_code: str | None = None,
    **values: Any,
) -> int:
    with catalogue.session(durable=True) as s:
        query = select(Officer).where(Officer.username == username)
        if centre_code is not None:
            query = query.where(
                Officer.centre_id == select(Centre.id).where(Centre.code == centre_code).scalar_subquery()
            )
        officer = s.scalar(query.with_for_update())
        if officer is None:
            raise AccountError(f"no officer named {username!r}" + (f" in centre {centre_code}" if centre_code else ""))
        for name, value in values.items():
            setattr(officer, name, value)
        if action != "officer.unlock":
            sessions.revoke_all(s, officer.id)
        _audit(s, username, action, actor)
        return officer.id


def disable(catalogue: Catalogue, username: str, *, actor: str = "operator", centre_code: str | None = None) -> None:
    """The account can no longer sign in; its sessions end (its personal API keys stop working too)."""
    _change(catalogue, username, "officer.disable", actor=actor, centre_code=centre_code, disabled_at=utcnow())


def unlock(catalogue: Catalogue, username: str, *, actor: str = "operator", centre_code: str | None = None) -> None:
    _change(
        catalogue, username, "officer.unlock", actor=actor, centre_code=centre_code, locked_until=None, failed_logins=0
    )


def reset_totp(catalogue: Catalogue, username: str, *, actor: str = "operator", centre_code: str | None = None) -> None:
    """The officer sets up TOTP again at their next sign-in (a lost phone); their sessions end."""
    _change(
        catalogue,
        username,
        "officer.totp_reset",
        actor=actor,
        centre_code=centre_code,
        totp_secret=None,
        totp_confirmed_at=None,
        totp_last_step=None,
    )


def reset_password(
    catalogue: Catalogue,
    username: str,
    *,
    actor: str = "operator",
    centre_code: str | None = None,
    password: str | None = None,
) -> str | None:
    """A forgotten password replaced: ``password``, or a made-up one returned (None when one was given).
    The officer's sessions end and any lockout is lifted; their TOTP stays, so the new password alone
    does not sign in."""
    made = None
    if password is None:
        password = made = passwords.new_password()
    elif problem := passwords.password_problem(password):
        raise AccountError(problem)
    _change(
        catalogue,
        username,
        "officer.password_reset",
        actor=actor,
        centre_code=centre_code,
        password_hash=passwords.hash_password(password),
        locked_until=None,
        failed_logins=0,
    )
    return made


def officer_id_of(catalogue: Catalogue, username: str) -> int:
    with catalogue.reading() as s:
        officer_id = s.scalar(select(Officer.id).where(Officer.username == username))
    if officer_id is None:
        raise AccountError(f"no officer named {username!r}")
    return officer_id
