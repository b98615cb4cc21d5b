"""The development PKI's revocation responder: CRLs and OCSP answers from the PKI's own files.

Development only, like the PKI itself. Its certificates name ``<base>/ca.crl`` (leaves),
``<base>/root.crl`` (the issuing CA) and ``<base>/ocsp``; the service serves this responder
there (``api.routes_public``, only while no production signing setting is given), and
:class:`DevRevocationResponder` is also a ``signing.validation.revocation`` local responder, so a process
without the service (``sohoa sign --level B-LTA``) gets the same answers in-process.

Revoked serials live in ``revoked.json`` in the PKI folder, so a revocation outlives restarts and
is seen by every process using the folder.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import threading
from collections.abc import Callable
from functools import cached_property
from urllib.parse import unquote

from cryptography.x509 import ocsp

from signing.dev.pki import MANIFEST, DevPki, _Issued, _locked, load_issued, read_manifest
from signing.dev.revinfo import build_crl, build_ocsp, ocsp_refusal, parse_ocsp_request, request_names
from signing.errors import DevPkiInvalid
from signing.validation.revocation import PROCESS_RESPONDERS
from sohoa.files import write_atomic

REVOKED_FILE = "revoked.json"
# How long an answer is valid: short enough that a revocation is seen within the hour.
VALIDITY = dt.timedelta(hours=1)
CRL_NAMES = ("ca.crl", "root.crl")
MAX_REQUEST_BYTES = 16 * 1024


def revoked_serials(pki: DevPki) -> dict[int, dt.datetime]:
    """Serial → revocation time, as recorded in the PKI folder."""
    path = pki.directory / REVOKED_FILE
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {int(serial, 16): dt.datetime.fromisoformat(when) for serial, when in raw.items()}
    except (ValueError, TypeError, AttributeError) as exc:
        raise DevPkiInvalid(str(path)) from exc


def revoke(pki: DevPki, serial: int, when: dt.datetime | None = None) -> None:
    """Record ``serial`` as revoked (from ``when``, default now); the next CRL and OCSP answers say so."""
    when = (when or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    with _locked(pki.directory / f".{REVOKED_FILE}.lock"):
        current = {format(s, "x"): t.isoformat() for s, t in revoked_serials(pki).items()}
        current.setdefault(format(serial, "x"), when.isoformat())
        write_atomic(pki.directory / REVOKED_FILE, json.dumps(current, indent=2).encode("utf-8"))


class DevRevocationResponder:
    """Answers CRL and OCSP requests for one development PKI (the CA keys are loaded on first use)."""

    def __init__(self, pki: DevPki, *, clock: Callable[[], dt.datetime] | None = None):
        if pki.base_url is None:
            raise ValueError(f"{pki.directory}: a development PKI without revocation pointers")
        self.pki = pki
        self.base_url = pki.base_url
        self.base_urls = pki.base_urls
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._lock = threading.Lock()
        self._issued_at: int | None = None
        self._issued_cache: dict[int, str] = {}

    @cached_property
    def _cas(self) -> dict[str, _Issued]:
        passphrase = self.pki.passphrase()
        return {"root": load_issued(self.pki.root_p12, passphrase), "ca": load_issued(self.pki.ca_p12, passphrase)}

    @property
    def _issued(self) -> dict[int, str]:
        """Serial → issuer name ("root" or "ca") of every certificate this PKI issued, all generations
        (read again when another process upgraded the PKI)."""
        mtime = (self.pki.directory / MANIFEST).stat().st_mtime_ns
        with self._lock:
            if self._issued_at != mtime:
                issued = read_manifest(self.pki.directory).get("issued", {})
                self._issued_cache = {int(serial, 16): entry["issuer"] for serial, entry in issued.items()}
                self._issued_at = mtime
            return self._issued_cache

    def _now(self) -> dt.datetime:
        return self.clock().replace(microsecond=0)

    def crl(self, name: str) -> bytes | None:
        """``ca.crl`` (certificates the issuing CA issued) or ``root.crl`` (those the root issued)."""
        if name not in CRL_NAMES:
            return None
        issuer_name = "ca" if name == "ca.crl" else "root"
        issuer = self._cas[issuer_name]
        revoked = {s: t for s, t in revoked_serials(self.pki).items() if self._issued.get(s) == issuer_name}
        now = self._now()
        return build_crl(issuer.cert, issuer.key, revoked, this_update=now, next_update=now + VALIDITY)

    def answer(self, request_der: bytes) -> bytes | None:
        """The OCSP response to ``request_der``, or None when it is about another CA's certificate."""
        request = parse_ocsp_request(request_der)
        if request is None:
            return ocsp_refusal(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        issuer_name = next((name for name, ca in self._cas.items() if request_names(request, ca.cert)), None)
        if issuer_name is None:
            return None
        issuer = self._cas[issuer_name]
        now = self._now()
        return build_ocsp(
            request,
            issuer.cert,
            issuer.key,
            known=self._issued.get(request.serial_number) == issuer_name,
            revoked_at=revoked_serials(self.pki).get(request.serial_number),
            this_update=now,
            next_update=now + VALIDITY,
        )

    def ocsp(self, request_der: bytes) -> bytes:
        """What the service answers: ``unauthorized`` for a certificate of another CA."""
        if len(request_der) > MAX_REQUEST_BYTES:
            return ocsp_refusal(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        return self.answer(request_der) or ocsp_refusal(ocsp.OCSPResponseStatus.UNAUTHORIZED)

    def ocsp_get(self, encoded: str) -> bytes:
        """RFC 6960 Appendix A.1 GET: the DER request, base64 then URL-encoded, as the last path segment."""
        der = _from_get(encoded)
        return self.ocsp(der) if der is not None else ocsp_refusal(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)

    def __call__(self, url: str, body: bytes | None) -> bytes | None:
        """``signing.validation.revocation`` local responder: the answer for ``url`` under one of our base URLs (the
        current one, or one that certificates of an earlier generation name), None if not ours."""
        base = next((b for b in self.base_urls if url.startswith(b + "/")), None)
        if base is None:
            return None
        rest = url[len(base) + 1 :]
        if rest == "ocsp" and body is not None:
            return self.answer(body)
        if rest.startswith("ocsp/") and body is None:
            der = _from_get(rest[len("ocsp/") :])
            return self.answer(der) if der is not None else None
        if body is None and rest in CRL_NAMES:
            return self.crl(rest)
        return None


def _from_get(encoded: str) -> bytes | None:
    try:
        return base64.b64decode(unquote(encoded), validate=True)
    except (binascii.Error, ValueError):
        return None


_registered: dict[str, DevRevocationResponder] = {}
_registered_lock = threading.Lock()


def register_process_responder(pki: DevPki) -> None:
    """Let this process's default revocation cache answer ``pki``'s URLs in-process.

    Called by ``ensure_dev_pki``, which a production configuration never reaches, so the default
    cache of a production process has nothing registered. Several development PKIs of one process
    (tests) may share a base URL: OCSP requests go to the one whose CA they name.
    """
    if pki.base_url is None:
        return
    key = str(pki.directory)
    with _registered_lock:
        known = _registered.get(key)
        if known is not None and known.pki == pki:
            return
        responder = DevRevocationResponder(pki)
        _registered[key] = responder
        PROCESS_RESPONDERS.remove(key)  # an earlier generation's
        for url in pki.base_urls:
            PROCESS_RESPONDERS.add(url, responder, key=key)
