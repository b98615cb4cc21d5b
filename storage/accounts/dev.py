"""The development officer account: a centre admin made on a development service's first start."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from storage.accounts import passwords, totp
from storage.catalogue.db import Catalogue
from storage.catalogue.models import Officer, OfficerRole, utcnow
from storage.catalogue.officers import create_officer

DEV_USERNAME = "quantri.dev"


def create_dev_officer(catalogue: Catalogue, totp_key_file: Path, issuer: str, centre_id: int) -> dict[str, str] | None:
    """Make an admin of ``centre_id`` (password and a confirmed TOTP secret) if no officer exists.

    Returns what a developer signs in with (None when the catalogue has officers already).
    """
    with catalogue.reading() as s:
        if s.scalar(select(func.count()).select_from(Officer)):
            return None
    officer_id = create_officer(catalogue, DEV_USERNAME, "Quản trị phát triển", OfficerRole.ADMIN, centre_id)
    password, secret = passwords.new_password(), totp.new_secret()
    with catalogue.session(durable=True) as s:
        officer = s.get_one(Officer, officer_id)
        officer.password_hash = passwords.hash_password(password)
        officer.totp_secret = totp.TotpBox.from_file(totp_key_file).seal(officer_id, secret)
        officer.totp_confirmed_at = utcnow()
    return {
        "note": "DEVELOPMENT ONLY: officer account created on first start (sign in at /can-bo/dang-nhap)",
        "username": DEV_USERNAME,
        "password": password,
        "totp_secret": secret,
        "otpauth_uri": totp.provisioning_uri(secret, DEV_USERNAME, issuer),
    }
