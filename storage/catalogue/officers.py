"""Officers as callers: who a signed-in person or an officer's personal API key acts as."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from storage.catalogue.db import Catalogue
from storage.catalogue.models import Centre, Officer, OfficerRole, SigningPolicy


@dataclass(frozen=True)
class OfficerPrincipal:
    """The officer behind a request: their account, role and centre (what every officer action is audited as)."""

    id: int
    username: str
    full_name: str
    title: str
    role: OfficerRole
    centre_id: int
    centre_code: str

    @property
    def actor(self) -> str:
        """The audit trail's name for them: ``officer:<username>``."""
        return f"officer:{self.username}"


def load_officer(catalogue: Catalogue, officer_id: int) -> OfficerPrincipal | None:
    """The officer with this id, if the account and its centre are enabled."""
    with catalogue.reading() as s:
        row = s.execute(
            select(Officer, Centre.code)
            .join(Centre, Centre.id == Officer.centre_id)
            .where(Officer.id == officer_id, Officer.disabled_at.is_(None), Centre.disabled_at.is_(None))
        ).first()
        if row is None:
            return None
        officer, centre_code = row
        return OfficerPrincipal(
            id=officer.id,
            username=officer.username,
            full_name=officer.full_name,
            title=officer.title,
            role=OfficerRole(officer.role),
            centre_id=officer.centre_id,
            centre_code=centre_code,
        )


def create_centre(
    catalogue: Catalogue,
    code: str,
    name: str,
    *,
    parent_name: str = "",
    place: str = "",
    symbol: str = "",
    signing_policy: SigningPolicy = SigningPolicy.CONFIRM_ALL,
) -> int:
    """A new centre (development signing identity until a key is set); its id."""
    with catalogue.session(durable=True) as s:
        centre = Centre(
            code=code,
            name=name,
            parent_name=parent_name,
            place=place,
            symbol=symbol,
            signing_policy=signing_policy,
            key_ref={},
        )
        s.add(centre)
        s.flush()
        return centre.id


def create_officer(
    catalogue: Catalogue, username: str, full_name: str, role: OfficerRole, centre_id: int, *, title: str = ""
) -> int:
    """A new officer account with no way to sign in yet (a password, TOTP or OIDC identity is added after); its id."""
    with catalogue.session(durable=True) as s:
        officer = Officer(
            username=username, full_name=full_name, title=title, role=role, centre_id=centre_id, key_ref={}
        )
        s.add(officer)
        s.flush()
        return officer.id
