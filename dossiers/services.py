"""Wiring: the catalogue, object store, keys and OCR engine a process needs, built once and lazily.

API, CLI and workers all take their collaborators from here, so embedded and distributed
modes run one code path and differ only in settings.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from dossiers.errors import SigningConfigError
from sohoa.settings import Settings
from storage.catalogue.db import Catalogue, migrate
from storage.objectstore import ObjectStore, open_object_store

if TYPE_CHECKING:  # imported where used: a process that never signs or reads never loads them
    from digitizer import DigitizeOptions, OcrEngine
    from signing.dev import DevPki, DevRevocationResponder, DevTimeStamper
    from signing.keys import SigningKey
    from signing.timestamps import TimestampSource
    from signing.validation import RevocationCache
    from storage.warehouse import Warehouse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeyMaterial:
    p12: Path
    passphrase: bytes


class Services:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()

    @cached_property
    def catalogue(self) -> Catalogue:
        return Catalogue(self.settings.db_url)

    @cached_property
    def store(self) -> ObjectStore:
        return open_object_store(self.settings)

    def prepare(self) -> None:
        """First-start work: folders, schema migration; the development PKI when no production signing
        setting is given, otherwise a check that every configured key, certificate and trust root is there."""
        if not self.uses_dev_pki:
            self.check_production_signing()
        self.settings.var_dir.mkdir(parents=True, exist_ok=True)
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)
        migrate(self.settings.db_url)
        if self.uses_dev_pki:
            self.dev_pki  # noqa: B018 - generate on first start

    @property
    def uses_dev_pki(self) -> bool:
        """True only when no production signing setting at all is given (no key, no HSM, no trust roots):
        the embedded default, with the development PKI, TSA and API keys. Settings reject partial ones."""
        return not self.settings.signing.production

    def check_production_signing(self) -> None:
        """Start-up check of a production configuration: every configured file exists and the trust roots
        are certificates. Raises SigningConfigError naming what is wrong."""
        from signing.validation import load_trust_roots
        from sohoa.errors import SohoaError

        s = self.settings.signing
        files: dict[str, list[Path | None]] = {
            "agency_p12": [s.agency_p12],
            "operator_p12": [s.operator_p12],
            "p12_passphrase_file": [s.p12_passphrase_file],
            # A bare library name is left to the dynamic loader's search path.
            "hsm_module": [s.hsm_module] if s.hsm_module and len(s.hsm_module.parts) > 1 else [],
            "hsm_cert": [s.hsm_cert],
            "hsm_pin_file": [s.hsm_pin_file],
            "hsm_chain": list(s.hsm_chain),
            "trust_roots": list(s.trust_roots),
            "seal_png": [s.seal_png],
        }
        missing = [
            f"signing.{name}={path}" for name, paths in files.items() for path in paths if path and not path.is_file()
        ]
        if missing:
            raise SigningConfigError(f"configured signing files not found: {', '.join(missing)}")
        try:
            load_trust_roots(s.trust_roots)
        except SohoaError as exc:
            raise SigningConfigError(f"signing.trust_roots: not a certificate ({exc.detail})") from None
        if s.seal_png is not None:
            _check_seal(s.seal_png)

    @property
    def seal_png(self) -> Path | None:
        """The agency's seal image for e-results: the configured one, or the development PKI's."""
        if self.uses_dev_pki:
            return self.dev_pki.seal_png
        return self.settings.signing.seal_png

    def require_signing_keys(self) -> None:
        """For processes that sign (the embedded pool): a keyless production host cannot."""
        s = self.settings.signing
        if s.production and not s.keys_configured:
            raise SigningConfigError(
                "this process signs (embedded workers) but no production key is configured: set signing.agency_p12 "
                "or signing.hsm_module, and signing.operator_p12 (or run workers.mode=celery with keys on sign hosts)"
            )

    @cached_property
    def dev_pki(self) -> DevPki:
        from signing.dev import ensure_dev_pki

        if not self.uses_dev_pki:
            raise SigningConfigError("the development PKI is never used when production signing is configured")
        with self._lock:
            # The URLs are fixed when the PKI is made (from the API's address); signing.dev_pki_url moves them.
            return ensure_dev_pki(
                self.settings.pki_dir,
                base_url=self.settings.signing.dev_pki_url,
                default_base_url=self.settings.dev_pki_url,
            )

    def dev_identity_key(
        self, subject_id: str, common_name: str, *, organisation: str | None = None, title: str = ""
    ) -> SigningKey:
        """The development certificate and key of one person (``organisation``: their centre) or one centre,
        issued on first use (``signing.dev.pki.issue_person``/``issue_organisation``); development only."""
        from signing.dev import issue_organisation, issue_person
        from signing.keys import load_pkcs12_signer

        pki = self.dev_pki  # refuses once production signing is configured
        if organisation is not None:
            issued = issue_person(pki, subject_id, common_name, organisation=organisation, title=title)
        else:
            issued = issue_organisation(pki, subject_id, common_name)
        return load_pkcs12_signer(issued.p12, pki.passphrase())

    def revoke_dev_identity(self, subject_id: str) -> bool:
        """Revoke the development certificate issued to ``subject_id`` (False: none, or not development)."""
        if not self.uses_dev_pki:
            return False
        from signing.dev import revoke_identity

        return revoke_identity(self.dev_pki, subject_id)

    def dev_seal_png(self, name: str, slot: str) -> Path:
        """A round seal the development PKI draws for an agency without one (kept under its folder)."""
        from signing.dev import draw_round_seal

        digest = hashlib.sha256(name.encode()).hexdigest()[:8]  # a renamed agency gets a new seal
        path = self.dev_pki.directory / "issued" / f"seal-{slot}-{digest}.png"
        if not path.is_file():
            path.parent.mkdir(mode=0o700, exist_ok=True)
            tmp = path.with_name(f".{path.stem}.{threading.get_ident()}.png")
            draw_round_seal(name.upper(), tmp)
            tmp.replace(path)
        return path

    @cached_property
    def dev_revocation(self) -> DevRevocationResponder:
        """The development PKI's CRL/OCSP responder (what /dev/pki serves); development only."""
        from signing.dev import DevRevocationResponder

        return DevRevocationResponder(self.dev_pki)

    def _key_material(self, which: str) -> KeyMaterial:
        if self.uses_dev_pki:
            pki = self.dev_pki
            return KeyMaterial(pki.agency_p12 if which == "agency" else pki.operator_p12, pki.passphrase())
        s = self.settings.signing
        configured = s.agency_p12 if which == "agency" else s.operator_p12
        if configured is None or s.p12_passphrase_file is None:
            raise SigningConfigError(f"no {which} key is configured in this process (signing.{which}_p12)")
        return KeyMaterial(configured, s.p12_passphrase_file.read_bytes().strip())

    def signing_key(self, which: str) -> SigningKey:
        """The agency or operator key, loaded once per process: the agency key from the HSM when one is
        configured, otherwise from PKCS#12 (signing.keys.keys caches it)."""
        if which == "agency" and self.settings.signing.hsm_module is not None:
            return self._hsm_key
        from signing.keys import load_pkcs12_signer

        material = self._key_material(which)
        return load_pkcs12_signer(material.p12, material.passphrase)

    @cached_property
    def _hsm_key(self) -> SigningKey:
        from signing.keys import HsmConfig, open_hsm_key

        s = self.settings.signing
        if not (s.hsm_module and s.hsm_token_label and s.hsm_key_label and s.hsm_cert and s.hsm_pin_file):
            raise SigningConfigError("signing.hsm_module needs hsm_token_label, hsm_key_label, hsm_cert, hsm_pin_file")
        with self._lock:
            return open_hsm_key(
                HsmConfig(
                    module=s.hsm_module,
                    token_label=s.hsm_token_label,
                    key_label=s.hsm_key_label,
                    cert=s.hsm_cert,
                    pin=s.hsm_pin_file.read_text().strip(),
                    chain=s.hsm_chain,
                )
            )

    @cached_property
    def revocation(self) -> RevocationCache:
        """This process's OCSP/CRL cache (one object: fast signers are cached per cache); each request is
        bounded by ``signing.revocation_timeout_s``.

        With the development PKI, the URLs its certificates name (those of earlier generations too) are
        answered in-process by the same responder the service serves at /dev/pki, so the CLI signs
        B-LT/B-LTA with no service running. A production configuration gets no local responder: every
        answer comes from the CA's servers."""
        from signing.validation import RevocationCache

        local = {url: self.dev_revocation for url in self.dev_pki.base_urls} if self.uses_dev_pki else None
        return RevocationCache(timeout_s=self.settings.signing.revocation_timeout_s, local=local)

    @cached_property
    def timestamper(self) -> TimestampSource:
        from signing.timestamps import http_timestamper

        if self.settings.signing.tsa_url:
            return http_timestamper(self.settings.signing.tsa_url)
        if not self.uses_dev_pki:
            raise SigningConfigError("no time-stamping service is configured (signing.tsa_url)")
        return self.dev_timestamper

    @cached_property
    def dev_timestamper(self) -> DevTimeStamper:
        """The development TSA, its key loaded once (also what /dev/tsa answers with)."""
        from signing.dev import dev_timestamper

        return dev_timestamper(self.dev_pki)

    @cached_property
    def warehouse(self) -> Warehouse:
        """The audited warehouse over this process's catalogue and object store."""
        from datetime import timedelta

        from storage.warehouse import Warehouse

        return Warehouse(
            self.catalogue, self.store, presign_expiry=timedelta(seconds=self.settings.storage.presign_expiry_s)
        )

    @property
    def trust_roots(self) -> list[Path]:
        """Roots verification trusts: signing.trust_roots in production, otherwise the development root
        (and the roots of its earlier generations, so that what they signed stays valid)."""
        if self.uses_dev_pki:
            return self.dev_pki.trust_roots
        return list(self.settings.signing.trust_roots)

    @cached_property
    def ocr_engine(self) -> OcrEngine:
        from digitizer import engine_from_settings

        return engine_from_settings(self.settings.ocr)

    def digitize_options(self, declared_type: str | None = None) -> DigitizeOptions:
        """DigitizeOptions from the OCR settings, with this process's engine."""
        from digitizer import DigitizeOptions
        from digitizer.model_store import active_model

        ocr = self.settings.ocr
        return DigitizeOptions(
            engine=self.ocr_engine,
            languages=ocr.languages,
            min_dpi=ocr.min_dpi,
            max_pixels=ocr.max_pixels,
            max_pages=ocr.max_pages_per_component,
            declared_type=declared_type,
            timeout_s=ocr.timeout_s,
            page_workers=ocr.workers,
            ocr_dpi=ocr.ocr_dpi,
            review_threshold=ocr.review_threshold,
            classifier=active_model(self.settings.classifier_dir),
        )

    def close(self) -> None:
        if "catalogue" in self.__dict__:
            self.catalogue.dispose()


def _check_seal(path: Path) -> None:
    """The seal must be a PNG Pillow can open, with transparency (it overlaps the signature text)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.format != "PNG":
                raise SigningConfigError(f"signing.seal_png={path}: {image.format} image, not PNG")
            if image.mode not in ("RGBA", "LA", "PA") and "transparency" not in image.info:
                raise SigningConfigError(f"signing.seal_png={path}: no transparency (the seal overlaps the text)")
    except (UnidentifiedImageError, OSError) as exc:
        raise SigningConfigError(f"signing.seal_png={path}: not an image ({exc})") from None
