"""Officer accounts for tests: a centre, an officer with a password and TOTP set up, a signed-in client.

``make_officer(services, …)`` makes the account (``OfficerAccount``: username, password, TOTP secret);
``sign_in(client, account)`` signs a TestClient (or httpx client) in through ``POST /api/v1/officer/session``
and returns the headers a state-changing request then needs (``X-CSRF-Token``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from dossiers.services import Services
from storage.accounts import admin, totp
from storage.catalogue.models import Centre, Officer, OfficerRole, utcnow
from storage.catalogue.officers import create_centre

PASSWORD = "mat-khau-can-bo-2026"


@dataclass
class OfficerAccount:
    id: int
    username: str
    password: str
    totp_secret: str | None
    used_steps: set[int] = field(default_factory=set)

    def code(self) -> str:
        """A TOTP code no sign-in of this account used yet (the current step's, else the next one's)."""
        assert self.totp_secret is not None
        step = totp.current_step()
        while step in self.used_steps or (self.used_steps and step <= max(self.used_steps)):
            step += 1
        assert step <= totp.current_step() + totp.WINDOW, "more sign-ins of one officer than one TOTP window allows"
        self.used_steps.add(step)
        return totp.code_at(self.totp_secret, step)


def ensure_centre(services: Services, code: str = "BD", name: str = "UBND phường Ba Đình") -> int:
    with services.catalogue.reading() as s:
        found = s.scalar(select(Centre.id).where(Centre.code == code))
    return found if found is not None else create_centre(services.catalogue, code, name)


def make_officer(
    services: Services,
    username: str = "lan.nt",
    *,
    role: OfficerRole = OfficerRole.RECEIVING,
    centre: str = "BD",
    full_name: str = "Nguyễn Thị Lan",
    password: str = PASSWORD,
    with_totp: bool = True,
) -> OfficerAccount:
    """A local account with a password and (``with_totp``) a confirmed TOTP secret, sealed with the service's key."""
    ensure_centre(services, centre)
    officer_id, _ = admin.add_officer(services.catalogue, username, full_name, role, centre, password=password)
    secret = None
    if with_totp:
        secret = totp.new_secret()
        box = totp.TotpBox.from_file(services.settings.totp_key_file)
        with services.catalogue.session(durable=True) as s:
            officer = s.get_one(Officer, officer_id)
            officer.totp_secret = box.seal(officer_id, secret)
            officer.totp_confirmed_at = utcnow()
    return OfficerAccount(officer_id, username, password, secret)


def sign_in(client: Any, account: OfficerAccount) -> dict[str, str]:
    """Sign ``client`` in (its cookie jar keeps the session); the CSRF header for its state-changing requests."""
    body = {"username": account.username, "password": account.password}
    if account.totp_secret:
        body["totp"] = account.code()
    r = client.post("/api/v1/officer/session", json=body)
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json()["csrf_token"]}
