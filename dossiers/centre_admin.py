"""A centre's administrator at work: their centre's details and signing policy, and their centre's officers.

What ``/can-bo/quan-tri`` and ``/api/v1/centre/officers`` (and ``PATCH /api/v1/centres/{code}``) call.
An administrator manages their own centre only: another centre's officer answers as if there were none
(OFFICER_NOT_FOUND), another centre's details CENTRE_FORBIDDEN. Every change is audited with the
administrator (``officer.actor``) as actor: the account changes by ``storage.accounts.admin`` (subject
``officer:<username>``), the centre's by ``centre_update`` (subject ``centre:<code>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dossiers.centres import CHOOSABLE_POLICIES, get_centre, update_centre
from dossiers.errors import (
    CentreForbidden,
    CentrePolicyInvalid,
    OfficerExists,
    OfficerNotInCentre,
    OfficerOwnPassword,
    OfficerSelfAction,
)
from dossiers.services import Services
from storage.accounts import admin
from storage.catalogue.models import OfficerRole
from storage.catalogue.officers import OfficerPrincipal
from storage.errors import AccountError
from storage.warehouse import audit

CENTRE_PURPOSE = "quản trị trung tâm"


def audit_centre(services: Services, officer: OfficerPrincipal, action: str, code: str, detail: dict[str, Any]) -> None:
    audit.record(
        services.catalogue,
        actor=officer.actor,
        action=action,
        subject=f"centre:{code}",
        purpose=CENTRE_PURPOSE,
        outcome="ok",
        detail=detail,
    )


def change_own_centre(
    services: Services, officer: OfficerPrincipal, code: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Change the administrator's own centre (``dossiers.centres.EDITABLE`` fields); audited ``centre_update``.

    CENTRE_NOT_FOUND for an unknown code, CENTRE_FORBIDDEN for another centre's, CENTRE_POLICY_INVALID for a
    policy an administrator may not choose (``auto_all`` is the settings' own).
    """
    get_centre(services, code)  # 404 for an unknown code
    if code != officer.centre_code:
        raise CentreForbidden(f"{officer.username} is not an administrator of {code}")
    if "signing_policy" in changes and changes["signing_policy"] not in CHOOSABLE_POLICIES:
        raise CentrePolicyInvalid(str(changes["signing_policy"]))
    view = update_centre(services, code, dict(changes))
    audit_centre(services, officer, "centre_update", code, changes)
    return view


def own_centre(services: Services, officer: OfficerPrincipal) -> dict[str, Any]:
    return get_centre(services, officer.centre_code)


def centre_officers(services: Services, officer: OfficerPrincipal) -> list[dict[str, Any]]:
    """The administrator's centre's officers (accounts only: no secret)."""
    return admin.list_officers(services.catalogue, centre_code=officer.centre_code)


@dataclass(frozen=True)
class NewOfficer:
    id: int
    username: str
    initial_password: str  # shown once, to be handed to the officer; only its hash is kept


def add_centre_officer(
    services: Services, officer: OfficerPrincipal, username: str, full_name: str, role: OfficerRole, title: str = ""
) -> NewOfficer:
    """A new officer of the administrator's centre, with a made-up initial password (TOTP set up at first sign-in)."""
    try:
        admin.officer_id_of(services.catalogue, username)
    except AccountError:
        pass
    else:
        raise OfficerExists(username)
    try:
        new_id, password = admin.add_officer(
            services.catalogue, username, full_name, role, officer.centre_code, title=title, actor=officer.actor
        )
    except AccountError as exc:
        if "already exists" in exc.detail:
            raise OfficerExists(username) from None
        raise
    assert password is not None  # none was given: one was made up
    return NewOfficer(new_id, username, password)


def _scoped(action: Any, services: Services, officer: OfficerPrincipal, username: str) -> None:
    try:
        action(services.catalogue, username, actor=officer.actor, centre_code=officer.centre_code)
    except AccountError:
        raise OfficerNotInCentre(username) from None


def disable_centre_officer(services: Services, officer: OfficerPrincipal, username: str) -> None:
    """The officer can no longer sign in; their sessions and personal keys stop working."""
    if username == officer.username:
        raise OfficerSelfAction(username)
    _scoped(admin.disable, services, officer, username)


def unlock_centre_officer(services: Services, officer: OfficerPrincipal, username: str) -> None:
    """Clear a lock after too many failed sign-ins."""
    _scoped(admin.unlock, services, officer, username)


def reset_centre_officer_password(services: Services, officer: OfficerPrincipal, username: str) -> str:
    """A made-up password for an officer who forgot theirs (shown once, to be handed over in person).
    Not one's own: that is changed with the current password, so a borrowed session cannot take the account."""
    if username == officer.username:
        raise OfficerOwnPassword(username)
    try:
        made = admin.reset_password(services.catalogue, username, actor=officer.actor, centre_code=officer.centre_code)
    except AccountError:
        raise OfficerNotInCentre(username) from None
    assert made is not None  # none was given: one was made up
    return made


def reset_centre_officer_totp(services: Services, officer: OfficerPrincipal, username: str) -> None:
    """The officer sets up TOTP again at their next sign-in (a lost phone); their sessions end."""
    _scoped(admin.reset_totp, services, officer, username)
