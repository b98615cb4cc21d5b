"""Centres of one deployment (several agencies signing under their own names) and the keys officers and
centres sign with: what ``sohoa centres``, ``sohoa keys officer`` and ``/api/v1/centres`` call."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dossiers.errors import CentreExists, CentreNotFound, SigningConfigError, SigningKeyRefInvalid
from dossiers.services import Services, _check_seal
from dossiers.signer_keys import FROM_SETTINGS, KeySpec, ensure_default_centre, load_key, revoke_dev_certificate
from sohoa.errors import NotFound, SohoaError
from storage.catalogue.models import Centre, KeyKind, Officer, SigningPolicy, utcnow

log = logging.getLogger(__name__)

EDITABLE = ("name", "parent_name", "place", "symbol", "seal_png", "signing_policy")
# What an administrator may choose; ``auto_all`` belongs to the default centre made from the settings.
CHOOSABLE_POLICIES = (SigningPolicy.CONFIRM_ALL, SigningPolicy.AUTO_CONFIDENT)


def centre_view(c: Centre) -> dict[str, Any]:
    """A centre as the API and CLI show it: where its key is, never a secret."""
    return {
        "code": c.code,
        "name": c.name,
        "parent_name": c.parent_name,
        "place": c.place,
        "symbol": c.symbol,
        "seal_png": c.seal_png,
        "signing_policy": c.signing_policy,
        "key_kind": c.key_kind,
        "key_from_settings": bool((c.key_ref or {}).get(FROM_SETTINGS)),
        "disabled": c.disabled_at is not None,
    }


def _checked_seal(seal_png: str | None) -> str | None:
    if seal_png is None or seal_png == "":
        return None
    path = Path(seal_png).resolve()
    try:
        _check_seal(path)
    except SigningConfigError as exc:
        raise SigningKeyRefInvalid(exc.detail, message_vi="Ảnh con dấu phải là tệp PNG có nền trong suốt.") from None
    return str(path)


def _checked_policy(policy: str) -> SigningPolicy:
    if policy not in CHOOSABLE_POLICIES:
        raise ValueError(f"signing policy must be one of {', '.join(CHOOSABLE_POLICIES)}")
    return SigningPolicy(policy)


def add_centre(
    services: Services,
    code: str,
    name: str,
    *,
    parent_name: str = "",
    place: str = "",
    symbol: str = "",
    seal_png: str | None = None,
    signing_policy: str = SigningPolicy.CONFIRM_ALL,
) -> dict[str, Any]:
    """A new centre: development keys until ``set_centre_key``; copies wait for an officer by default."""
    ensure_default_centre(services)
    row = Centre(
        code=code,
        name=name,
        parent_name=parent_name,
        place=place,
        symbol=symbol,
        seal_png=_checked_seal(seal_png),
        signing_policy=_checked_policy(signing_policy),
        key_kind=KeyKind.DEV,
        key_ref={},
    )
    try:
        with services.catalogue.session(durable=True) as s:
            s.add(row)
            s.flush()
            view = centre_view(row)
    except IntegrityError:
        raise CentreExists(code) from None
    log.info("centre %s (%s) added", code, name)
    return view


def list_centres(services: Services) -> list[dict[str, Any]]:
    ensure_default_centre(services)
    with services.catalogue.reading() as s:
        return [centre_view(c) for c in s.scalars(select(Centre).order_by(Centre.id))]


def get_centre(services: Services, code: str) -> dict[str, Any]:
    with services.catalogue.reading() as s:
        row = s.scalar(select(Centre).where(Centre.code == code))
        if row is None:
            raise CentreNotFound(code)
        return centre_view(row)


def update_centre(services: Services, code: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change a centre's name, forms' fields, seal or policy (``EDITABLE``)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    if "seal_png" in changes:
        changes["seal_png"] = _checked_seal(changes["seal_png"])
    if "signing_policy" in changes:
        changes["signing_policy"] = _checked_policy(changes["signing_policy"])
    with services.catalogue.session(durable=True) as s:
        row = s.scalar(select(Centre).where(Centre.code == code))
        if row is None:
            raise CentreNotFound(code)
        for field, value in changes.items():
            setattr(row, field, value)
        return centre_view(row)


def disable_centre(services: Services, code: str) -> bool:
    """Disable a centre: its officers can no longer sign in or act (``load_officer`` refuses them)."""
    with services.catalogue.session(durable=True) as s:
        row = s.scalar(select(Centre).where(Centre.code == code))
        if row is None:
            raise CentreNotFound(code)
        if row.disabled_at is not None:
            return False
        row.disabled_at = utcnow()
        return True


def centre_id_by_code(services: Services, code: str) -> int:
    with services.catalogue.reading() as s:
        centre_id = s.scalar(select(Centre.id).where(Centre.code == code))
    if centre_id is None:
        raise CentreNotFound(code)
    return centre_id


# -- registering keys -------------------------------------------------------------------------------------


def key_ref_for(
    kind: KeyKind,
    *,
    p12: Path | None = None,
    passphrase_file: Path | None = None,
    hsm_key: str | None = None,
    hsm_cert: Path | None = None,
    hsm_token: str | None = None,
    hsm_chain: tuple[Path, ...] = (),
    hsm_module: Path | None = None,
    pin_file: Path | None = None,
    remote_url: str | None = None,
    token_file: Path | None = None,
) -> dict[str, Any]:
    """The ``key_ref`` of a key kind from its parts (absolute paths; no secret, only files holding them)."""

    def path(p: Path | None) -> str | None:
        return str(Path(p).resolve()) if p is not None else None

    if kind == KeyKind.DEV:
        return {}
    if kind == KeyKind.P12:
        if p12 is None or passphrase_file is None:
            raise ValueError("a PKCS#12 key needs its file and a passphrase file")
        return {"path": path(p12), "passphrase_file": path(passphrase_file)}
    if kind == KeyKind.HSM:
        if not hsm_key or hsm_cert is None:
            raise ValueError("an HSM key needs its key label and certificate")
        ref: dict[str, Any] = {"key_label": hsm_key, "cert": path(hsm_cert), "chain": [path(c) for c in hsm_chain]}
        for name, value in (("token_label", hsm_token), ("module", path(hsm_module)), ("pin_file", path(pin_file))):
            if value:
                ref[name] = value
        return ref
    if kind == KeyKind.REMOTE:
        if not remote_url:
            raise ValueError("a remote key needs the service's URL")
        return {"url": remote_url, **({"token_file": path(token_file)} if token_file else {})}
    raise ValueError(f"unknown key kind {kind}")


def _try_key(services: Services, spec: KeySpec) -> str:
    """Load the key once before it is registered, so a wrong one is refused now rather than at the first copy."""
    try:
        return load_key(services, spec).subject_name
    except SigningConfigError as exc:
        raise SigningKeyRefInvalid(exc.detail) from None
    except SohoaError as exc:  # a PKCS#12, HSM or remote-service refusal: its code says which
        raise SigningKeyRefInvalid(f"{exc.code}: {exc.detail}") from None


def set_officer_key(services: Services, username: str, kind: KeyKind, ref: dict[str, Any]) -> str:
    """Register an officer's own key (tried first); returns the certificate's subject name."""
    with services.catalogue.reading() as s:
        officer = s.scalar(select(Officer).where(Officer.username == username))
        if officer is None:
            raise NotFound(f"officer {username}")
        spec = KeySpec("officer", officer.id, kind, ref, officer.full_name, officer.centre.name, officer.title)
        previous = officer.key_kind
    subject = _try_key(services, spec)
    with services.catalogue.session(durable=True) as s:
        row = s.get_one(Officer, spec.row_id)
        row.key_kind, row.key_ref = kind, ref
    if previous == KeyKind.DEV and kind != KeyKind.DEV:
        revoke_dev_certificate(services, "officer", spec.row_id)
    log.info("officer %s now signs with a %s key (%s)", username, kind, subject)
    return subject


def set_centre_key(services: Services, code: str, kind: KeyKind, ref: dict[str, Any]) -> str:
    """Register a centre's own key (tried first); the default centre then stops using the settings' keys."""
    centre_id = centre_id_by_code(services, code)
    with services.catalogue.reading() as s:
        row = s.get_one(Centre, centre_id)
        spec = KeySpec("centre", row.id, kind, ref, row.name, row.name)
        previous = row.key_kind
    subject = _try_key(services, spec)
    with services.catalogue.session(durable=True) as s:
        row = s.get_one(Centre, centre_id)
        row.key_kind, row.key_ref = kind, ref
    if previous == KeyKind.DEV and kind != KeyKind.DEV:
        revoke_dev_certificate(services, "centre", centre_id)
    log.info("centre %s now signs with a %s key (%s)", code, kind, subject)
    return subject
