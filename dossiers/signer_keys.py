"""Whose key signs what: each officer's and each centre's signing key, loaded once per process.

A key is described by the row's ``key_kind`` and ``key_ref`` (never a secret, only where it is):

- ``dev``: the development PKI issues the officer (CN = full name, O = centre, title) or the centre
  (CN = O = its name) a certificate of their own on first use; never once production signing is
  configured.
- ``p12``: ``{"path": ..., "passphrase_file": ...}``, both files readable by the service's user alone.
- ``hsm``: ``{"token_label", "key_label", "cert", "chain": [...]}`` plus optionally ``module`` and
  ``pin_file`` (default: ``signing.hsm_module`` / ``signing.hsm_pin_file``).
- ``remote``: ``{"url": ..., "token_file": ...?}``: a remote-signing service (``signing.keys.remote``).

The default centre, made from the settings at start-up (``ensure_default_centre``), carries
``{"from_settings": true}``: its results are signed with the configured agency key (or HSM) and its
copies with the configured operator key, exactly as before centres existed.

Loaded keys are cached per process and per row; a changed ``key_ref`` (or name, for development
certificates) loads the new key on the next use.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from dossiers.errors import SigningConfigError
from dossiers.services import Services
from sohoa.errors import NotFound
from storage.catalogue.models import Centre, Dossier, KeyKind, Officer, SigningPolicy

if TYPE_CHECKING:
    from signing.keys import SigningKey

log = logging.getLogger(__name__)

DEFAULT_CENTRE_CODE = "default"
FROM_SETTINGS = "from_settings"

_lock = threading.Lock()
_keys: dict[tuple[str, str, int], tuple[str, SigningKey]] = {}
_default_ids: dict[str, int] = {}


@dataclass(frozen=True)
class KeySpec:
    """What a row says about its key, with the names a development certificate is issued to."""

    owner: str  # "officer" or "centre"
    row_id: int
    kind: str
    ref: dict[str, Any]
    common_name: str
    organisation: str
    title: str = ""

    @property
    def fingerprint(self) -> str:
        raw = json.dumps([self.kind, self.ref, self.common_name, self.organisation, self.title], sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class SignerIdentity:
    """Who signs: the key, the name the visible stamp prints, and the agency (and seal) it signs for."""

    key: SigningKey
    stamp_name: str
    agency_name: str | None
    seal_png: Path | None = None


# -- the default centre ------------------------------------------------------------------------------------


def _settings_key_kind(services: Services) -> KeyKind:
    s = services.settings.signing
    if s.hsm_module is not None:
        return KeyKind.HSM
    if s.agency_p12 is not None or s.operator_p12 is not None:
        return KeyKind.P12
    return KeyKind.DEV


def ensure_default_centre(services: Services) -> int:
    """The id of the centre made from the settings (created on first call): single-agency deployments keep
    signing as before, every copy at once (policy ``auto_all``) with the configured keys."""
    url = services.settings.db_url
    known = _default_ids.get(url)
    if known is not None:
        return known
    for _ in range(2):
        with services.catalogue.session() as s:
            centre = s.scalar(select(Centre).where(Centre.code == DEFAULT_CENTRE_CODE))
            if centre is not None:
                if centre.key_ref.get(FROM_SETTINGS) and centre.name != services.settings.signing.agency_name:
                    centre.name = services.settings.signing.agency_name  # the settings stay the source
                _default_ids[url] = centre.id
                return centre.id
        try:
            with services.catalogue.session(durable=True) as s:
                centre = Centre(
                    code=DEFAULT_CENTRE_CODE,
                    name=services.settings.signing.agency_name,
                    symbol="UBND",
                    key_kind=_settings_key_kind(services),
                    key_ref={FROM_SETTINGS: True},
                    signing_policy=SigningPolicy.AUTO_ALL,
                )
                s.add(centre)
                s.flush()
                # Dossiers received before centres existed are the default centre's (one statement, once).
                s.execute(update(Dossier).where(Dossier.centre_id.is_(None)).values(centre_id=centre.id))
                log.info("default centre %r made from the settings", centre.name)
                _default_ids[url] = centre.id
                return centre.id
        except IntegrityError:  # another process made it meanwhile
            continue
    raise SigningConfigError("the default centre could not be created")


def centre_of_dossier(services: Services, centre_id: int | None) -> int:
    """A dossier's or e-result's centre: its own, else the default one (rows from before centres existed)."""
    return centre_id if centre_id is not None else ensure_default_centre(services)


# -- loading keys ------------------------------------------------------------------------------------------


def _private_file(path: Path, what: str) -> Path:
    """A regular file that only its owner may read or write (it holds or unlocks a private key)."""
    try:
        info = path.stat()
    except OSError as exc:
        raise SigningConfigError(f"{what}={path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise SigningConfigError(f"{what}={path}: not a regular file")
    if info.st_mode & 0o077:
        raise SigningConfigError(f"{what}={path}: readable or writable by others (chmod 600)")
    return path


def _ref_path(ref: dict[str, Any], name: str, owner: str) -> Path:
    value = ref.get(name)
    if not isinstance(value, str) or not value:
        raise SigningConfigError(f"{owner}: key_ref.{name} is missing")
    return Path(value)


def dev_subject_id(services: Services, owner: str, row_id: int) -> str:
    """The development PKI's name for an officer or centre row: its id, and which catalogue (one PKI folder may
    serve several catalogues: tests, a catalogue made again)."""
    catalogue = hashlib.sha256(services.settings.db_url.encode()).hexdigest()[:8]
    return f"{owner}-{row_id}-{catalogue}"


def _load_dev(services: Services, spec: KeySpec) -> SigningKey:
    if not services.uses_dev_pki:
        raise SigningConfigError(
            f"{spec.owner} {spec.row_id}: development keys are never used once production signing is configured; "
            "register a key (sohoa keys officer / sohoa centres set-key)"
        )
    subject_id = dev_subject_id(services, spec.owner, spec.row_id)
    if spec.owner == "officer":
        return services.dev_identity_key(subject_id, spec.common_name, organisation=spec.organisation, title=spec.title)
    return services.dev_identity_key(subject_id, spec.common_name)


def _load_p12(spec: KeySpec) -> SigningKey:
    from signing.keys import load_pkcs12_signer

    where = f"{spec.owner} {spec.row_id}"
    p12 = _private_file(_ref_path(spec.ref, "path", where), f"{where} key_ref.path")
    passphrase = _private_file(_ref_path(spec.ref, "passphrase_file", where), f"{where} key_ref.passphrase_file")
    return load_pkcs12_signer(p12, passphrase.read_bytes().strip())


def _load_hsm(services: Services, spec: KeySpec) -> SigningKey:
    from signing.keys import HsmConfig, open_hsm_key

    where = f"{spec.owner} {spec.row_id}"
    s = services.settings.signing
    module = Path(spec.ref["module"]) if spec.ref.get("module") else s.hsm_module
    pin_file = Path(spec.ref["pin_file"]) if spec.ref.get("pin_file") else s.hsm_pin_file
    if module is None or pin_file is None:
        raise SigningConfigError(f"{where}: an HSM key needs signing.hsm_module and hsm_pin_file (or key_ref's)")
    token = spec.ref.get("token_label") or s.hsm_token_label
    if not token:
        raise SigningConfigError(f"{where}: key_ref.token_label is missing")
    return open_hsm_key(
        HsmConfig(
            module=module,
            token_label=str(token),
            key_label=str(_ref_path(spec.ref, "key_label", where)),
            cert=_ref_path(spec.ref, "cert", where),
            pin=_private_file(pin_file, f"{where} HSM PIN file").read_text().strip(),
            chain=tuple(Path(p) for p in spec.ref.get("chain", ())),
        )
    )


def _load_remote(spec: KeySpec) -> SigningKey:
    from signing.keys import open_remote_key

    where = f"{spec.owner} {spec.row_id}"
    url = spec.ref.get("url")
    if not isinstance(url, str) or not url:
        raise SigningConfigError(f"{where}: key_ref.url is missing")
    token_file = spec.ref.get("token_file")
    token = _private_file(Path(token_file), f"{where} key_ref.token_file").read_text().strip() if token_file else None
    return open_remote_key(url, token=token)


def load_key(services: Services, spec: KeySpec) -> SigningKey:
    """Load the key a row describes (no cache: PKCS#12 files are cached by ``signing.keys`` itself)."""
    if spec.kind == KeyKind.DEV:
        return _load_dev(services, spec)
    if spec.kind == KeyKind.P12:
        return _load_p12(spec)
    if spec.kind == KeyKind.HSM:
        return _load_hsm(services, spec)
    if spec.kind == KeyKind.REMOTE:
        return _load_remote(spec)
    raise SigningConfigError(f"{spec.owner} {spec.row_id}: unknown key kind {spec.kind!r}")


def _cached(services: Services, spec: KeySpec) -> SigningKey:
    if spec.kind in (KeyKind.DEV, KeyKind.P12):  # cheap to resolve; the file loader caches the parsed key
        return load_key(services, spec)
    slot = (services.settings.db_url, spec.owner, spec.row_id)
    with _lock:
        hit = _keys.get(slot)
        if hit is not None and hit[0] == spec.fingerprint:
            return hit[1]
        key = load_key(services, spec)
        _keys[slot] = (spec.fingerprint, key)
        return key


def clear_signer_cache() -> None:
    with _lock:
        _keys.clear()
        _default_ids.clear()


def _officer_spec(services: Services, officer_id: int) -> tuple[KeySpec, str]:
    with services.catalogue.reading() as s:
        officer = s.get(Officer, officer_id)
        if officer is None:
            raise NotFound(f"officer {officer_id}")
        spec = KeySpec(
            "officer",
            officer.id,
            officer.key_kind,
            dict(officer.key_ref or {}),
            officer.full_name,
            officer.centre.name,
            officer.title,
        )
        stamp = f"{officer.full_name}, {officer.title}" if officer.title else officer.full_name
        return spec, stamp


def _centre_row(services: Services, centre_id: int) -> tuple[KeySpec, str, str | None]:
    with services.catalogue.reading() as s:
        centre = s.get(Centre, centre_id)
        if centre is None:
            raise NotFound(f"centre {centre_id}")
        spec = KeySpec("centre", centre.id, centre.key_kind, dict(centre.key_ref or {}), centre.name, centre.name)
        return spec, centre.name, centre.seal_png


def officer_key(services: Services, officer_id: int) -> SigningKey:
    """The officer's own signing key (their certificate names them)."""
    return _cached(services, _officer_spec(services, officer_id)[0])


def centre_key(services: Services, centre_id: int) -> SigningKey:
    """The centre's signing key (its e-results); the default centre's is the configured agency key."""
    spec = _centre_row(services, centre_id)[0]
    if spec.ref.get(FROM_SETTINGS):
        return services.signing_key("agency")
    return _cached(services, spec)


def centre_seal(services: Services, centre_id: int) -> Path | None:
    """The centre's seal image: its own, the configured one for the default centre, or (development) one
    the PKI draws with the centre's name."""
    spec, name, seal = _centre_row(services, centre_id)
    if seal:
        return Path(seal)
    if spec.ref.get(FROM_SETTINGS):
        return services.seal_png
    if not services.uses_dev_pki:
        return None
    return services.dev_seal_png(name, dev_subject_id(services, "centre", centre_id))


def copy_signer(services: Services, officer_id: int | None, centre_id: int) -> SignerIdentity:
    """Who signs a digitised copy: the officer who confirmed it, with their own key; otherwise the centre's
    service signer (the default centre's: the configured operator key)."""
    if officer_id is not None:
        spec, stamp = _officer_spec(services, officer_id)
        return SignerIdentity(_cached(services, spec), stamp, spec.organisation)
    spec, name, _seal = _centre_row(services, centre_id)
    if spec.ref.get(FROM_SETTINGS):
        key = services.signing_key("operator")
        return SignerIdentity(key, key.subject_name, None)
    key = _cached(services, spec)
    return SignerIdentity(key, key.subject_name, name)


def result_signer(services: Services, centre_id: int) -> SignerIdentity:
    """Who signs an e-result: the issuing centre, under its name and seal."""
    key = centre_key(services, centre_id)
    return SignerIdentity(key, key.subject_name, agency_name(services, centre_id), centre_seal(services, centre_id))


def agency_name(services: Services, centre_id: int | None) -> str:
    """The name a centre issues results under (the default centre's, and a row-less one's: the settings')."""
    if centre_id is None:
        return services.settings.signing.agency_name
    spec, name, _seal = _centre_row(services, centre_id)
    return services.settings.signing.agency_name if spec.ref.get(FROM_SETTINGS) else name


@dataclass(frozen=True)
class CentreDetails:
    """What a centre's result forms are headed with (NĐ 30/2020): its name, parent agency, place and ký hiệu."""

    name: str
    parent_name: str
    place: str
    symbol: str


def centre_details(services: Services, centre_id: int | None) -> CentreDetails:
    """The header details of a centre's forms (``centre_id`` None: the default centre's)."""
    centre_id = centre_of_dossier(services, centre_id)
    with services.catalogue.reading() as s:
        centre = s.get_one(Centre, centre_id)
        details = CentreDetails(centre.name, centre.parent_name, centre.place, centre.symbol)
    return dataclasses.replace(details, name=agency_name(services, centre_id))


def centre_policy(services: Services, centre_id: int) -> SigningPolicy:
    with services.catalogue.reading() as s:
        policy = s.scalar(select(Centre.signing_policy).where(Centre.id == centre_id))
    return SigningPolicy(policy) if policy else SigningPolicy.CONFIRM_ALL


def revoke_dev_certificate(services: Services, owner: str, row_id: int) -> bool:
    """Revoke the development certificate issued to an officer or centre (development only)."""
    with _lock:
        _keys.pop((services.settings.db_url, owner, row_id), None)
    return services.revoke_dev_identity(dev_subject_id(services, owner, row_id))


def waits_for_officer(services: Services, centre_id: int | None, needs_review: bool) -> bool:
    """Whether a digitised copy waits for an officer's confirmation (AWAITING) instead of being signed at once:
    always under ``confirm_all``, when it needs review under ``auto_confident``, never under ``auto_all``."""
    policy = centre_policy(services, centre_of_dossier(services, centre_id))
    if policy == SigningPolicy.AUTO_ALL:
        return False
    if policy == SigningPolicy.AUTO_CONFIDENT:
        return needs_review
    return True
