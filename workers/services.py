"""Wiring: the catalogue, object store, keys and OCR engine a process needs, built once and lazily.

API, CLI and workers all take their collaborators from here, so embedded and distributed
modes run one code path and differ only in settings.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from sohoa.settings import Settings
from storage.catalogue.db import Catalogue, migrate
from storage.objectstore import ObjectStore, open_object_store

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
        """First-start work: folders, schema migration, development PKI when no keys are configured."""
        self.settings.var_dir.mkdir(parents=True, exist_ok=True)
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)
        migrate(self.settings.db_url)
        if self.uses_dev_pki:
            self.dev_pki  # noqa: B018 - generate on first start

    @property
    def uses_dev_pki(self) -> bool:
        s = self.settings.signing
        return (s.agency_p12 is None and s.hsm_module is None) or s.operator_p12 is None

    @cached_property
    def dev_pki(self):  # type: ignore[no-untyped-def]
        from signing.devpki import ensure_dev_pki

        with self._lock:
            return ensure_dev_pki(self.settings.pki_dir)

    def _key_material(self, which: str) -> KeyMaterial:
        s = self.settings.signing
        configured = s.agency_p12 if which == "agency" else s.operator_p12
        if configured is not None and s.p12_passphrase_file is not None:
            return KeyMaterial(configured, s.p12_passphrase_file.read_bytes().strip())
        pki = self.dev_pki
        return KeyMaterial(pki.agency_p12 if which == "agency" else pki.operator_p12, pki.passphrase())

    def signing_key(self, which: str):  # type: ignore[no-untyped-def]
        """The agency or operator key, loaded once per process: the agency key from the HSM when one is
        configured, otherwise from PKCS#12 (signing.keys caches it)."""
        if which == "agency" and self.settings.signing.hsm_module is not None:
            return self._hsm_key
        from signing.keys import load_pkcs12_signer

        material = self._key_material(which)
        return load_pkcs12_signer(material.p12, material.passphrase)

    @cached_property
    def _hsm_key(self):  # type: ignore[no-untyped-def]
        from signing.hsm import HsmConfig, open_hsm_key

        s = self.settings.signing
        if not (s.hsm_token_label and s.hsm_key_label and s.hsm_cert and s.hsm_pin_file):
            raise ValueError("signing.hsm_module needs hsm_token_label, hsm_key_label, hsm_cert and hsm_pin_file")
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
    def timestamper(self):  # type: ignore[no-untyped-def]
        from signing.timestamps import http_timestamper

        if self.settings.signing.tsa_url:
            return http_timestamper(self.settings.signing.tsa_url)
        return self.dev_timestamper

    @cached_property
    def dev_timestamper(self):  # type: ignore[no-untyped-def]
        """The development TSA, its key loaded once (also what /dev/tsa answers with)."""
        from signing.timestamps import dev_timestamper

        return dev_timestamper(self.dev_pki)

    @cached_property
    def warehouse(self):  # type: ignore[no-untyped-def]
        """The audited warehouse over this process's catalogue and object store."""
        from datetime import timedelta

        from storage.warehouse import Warehouse

        return Warehouse(
            self.catalogue, self.store, presign_expiry=timedelta(seconds=self.settings.storage.presign_expiry_s)
        )

    @property
    def trust_roots(self) -> list[Path]:
        if self.uses_dev_pki:
            return [self.dev_pki.root_cert]
        roots = self.settings.signing.pki_dir
        return sorted(roots.glob("trust/*.pem")) if roots else []

    @cached_property
    def ocr_engine(self):  # type: ignore[no-untyped-def]
        from digitizer import engine_from_settings

        return engine_from_settings(self.settings.ocr)

    def digitize_options(self, declared_type: str | None = None):  # type: ignore[no-untyped-def]
        """DigitizeOptions from the OCR settings, with this process's engine."""
        from digitizer import DigitizeOptions

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
        )

    def close(self) -> None:
        if "catalogue" in self.__dict__:
            self.catalogue.dispose()
