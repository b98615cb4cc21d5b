"""SQLAlchemy 2 models of the catalogue (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, event, select, text, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import DateTime, TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored in the catalogue")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON, list[str]: JSON}


class ClientRole(StrEnum):
    STATION = "station"
    OFFICER = "officer"
    AGENCY = "agency"


class StepState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ComponentState(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    # Digitised, waiting for an officer to check the copy against the paper and confirm it (then it is signed).
    AWAITING = "awaiting"
    DONE = "done"
    FAILED = "failed"


class OfficerRole(StrEnum):
    """What a person at a centre may do (issue 20): receive and confirm copies, issue results, run the centre."""

    RECEIVING = "receiving_officer"
    RESULT = "result_officer"
    ADMIN = "centre_admin"


class SigningPolicy(StrEnum):
    """When a centre's digitised copies are signed: all after an officer's confirmation, or confident ones at once."""

    CONFIRM_ALL = "confirm_all"
    AUTO_CONFIDENT = "auto_confident"
    # Every copy signed at once with the centre's service key: only the default centre made from the settings,
    # so that a deployment from before centres existed keeps working unchanged.
    AUTO_ALL = "auto_all"


class KeyKind(StrEnum):
    """Where a signing key lives: the development PKI, a PKCS#12 file, an HSM token, or a remote-signing service."""

    DEV = "dev"
    P12 = "p12"
    HSM = "hsm"
    REMOTE = "remote"


class Centre(Base):
    """A service centre or issuing agency of this deployment: its own name, signing identity, seal and forms.

    ``key_ref`` holds what the key kind needs (paths, token and key labels, a service URL), never a secret.
    """

    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))  # the issuing agency, e.g. "UBND phường Ba Đình"
    parent_name: Mapped[str] = mapped_column(String(300), default="")  # e.g. "UBND quận Ba Đình"
    place: Mapped[str] = mapped_column(String(100), default="")  # the date line's place, e.g. "Ba Đình"
    symbol: Mapped[str] = mapped_column(String(40), default="")  # ký hiệu of its results, e.g. "UBND"
    seal_png: Mapped[str | None] = mapped_column(String(500))
    key_kind: Mapped[str] = mapped_column(String(10), default=KeyKind.DEV)
    key_ref: Mapped[dict[str, Any]] = mapped_column(default=dict)
    signing_policy: Mapped[str] = mapped_column(String(20), default=SigningPolicy.CONFIRM_ALL)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]


class Officer(Base):
    """A person who works at a centre: a local account (argon2 hash, TOTP) and/or an OpenID Connect identity.

    ``key_kind``/``key_ref``: the officer's own signing key (as on Centre); the copies they confirm are signed with it.
    """

    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")  # chức vụ, printed in signature blocks
    role: Mapped[str] = mapped_column(String(20))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(300))
    totp_secret: Mapped[str | None] = mapped_column(String(300))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    oidc_issuer: Mapped[str | None] = mapped_column(String(300))
    oidc_subject: Mapped[str | None] = mapped_column(String(300))
    # TOTP (storage.accounts): the secret is confirmed once the officer typed a code from it; the last
    # time step a code was accepted at, so that a code is never accepted twice.
    totp_confirmed_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    key_kind: Mapped[str] = mapped_column(String(10), default=KeyKind.DEV)
    key_ref: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]

    centre: Mapped[Centre] = relationship()

    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_officer_oidc"),)


class OfficerSession(Base):
    """A browser signed in as an officer. Only a hash of the cookie's token is stored.

    ``stage``: ``active`` (signed in), ``totp`` (password accepted, the code not yet) or ``enrol``
    (password accepted, the officer must first set up TOTP); only an active session acts as the officer.
    """

    __tablename__ = "officer_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    stage: Mapped[str] = mapped_column(String(10))
    method: Mapped[str] = mapped_column(String(60))  # password, oidc:<provider>
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class ApiClient(Base):
    """A station, officer or agency credential. Only a hash of the secret is stored."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    key_prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    agency_code: Mapped[str | None] = mapped_column(String(40))
    # An officer's personal API key (scripts acting as that officer); a station's centre.
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    # A station's own batch limits; None: the service-wide default (settings.api).
    batches_per_minute: Mapped[float | None]
    batch_burst: Mapped[int | None]
    max_batch_bytes: Mapped[int | None] = mapped_column(BigInteger)


class Dossier(Base):
    __tablename__ = "dossiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    procedure_code: Mapped[str] = mapped_column(String(32))
    applicant_id: Mapped[str] = mapped_column(String(12), index=True)
    applicant_name: Mapped[str] = mapped_column(String(200), default="")
    applicant_birth_date: Mapped[date | None]
    receiving_centre: Mapped[str] = mapped_column(String(300), default="")
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"), index=True)  # NULL: before 0015
    station_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"))
    batch_sha256: Mapped[str] = mapped_column(String(64))
    # A zip batch as received, kept in the raw bucket until its scans are unpacked from it.
    archive_key: Mapped[str | None] = mapped_column(String(200))
    archive_sha256: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    components: Mapped[list[Component]] = relationship(
        back_populates="dossier", order_by="Component.position", cascade="all, delete-orphan"
    )
    results: Mapped[list[EResult]] = relationship(back_populates="dossier", order_by="EResult.seq")

    __table_args__ = (
        UniqueConstraint("station_id", "idempotency_key", name="uq_dossier_idempotency"),
        Index("ix_dossiers_created_at", "created_at"),  # the statistics' periods (migration 0024)
    )


class Component(Base):
    """One scanned component (thành phần hồ sơ) of a dossier."""

    __tablename__ = "components"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    ref: Mapped[str] = mapped_column(String(64))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(300), default="")
    declared_type: Mapped[str | None] = mapped_column(String(40))
    page_count: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(20), default=ComponentState.PENDING)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    # The officer who checked the copy against the paper and confirmed it (its copy is signed with their key).
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    confirmed_at: Mapped[datetime | None]

    dossier: Mapped[Dossier] = relationship(back_populates="components")
    files: Mapped[list[ScanFile]] = relationship(order_by="ScanFile.position", cascade="all, delete-orphan")
    document: Mapped[Document | None] = relationship(back_populates="component")

    __table_args__ = (UniqueConstraint("dossier_id", "ref", name="uq_component_ref"),)


class ScanFile(Base):
    """A raw scanned file of a component, kept in the raw bucket."""

    __tablename__ = "scan_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("components.id"), index=True)
    position: Mapped[int]
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    object_key: Mapped[str] = mapped_column(String(200))
    # The scan's name inside the dossier's archive; ``stored`` once it has its own raw object.
    member: Mapped[str | None] = mapped_column(String(1024))
    stored: Mapped[bool] = mapped_column(default=True, server_default=true())


OWNER_LOOKUP_EXTRA = ("doc_type", "dossier_code", "procedure_code", "page_count", "sha256", "size", "object_key")


class Document(Base):
    """The digitised, signed result of a component, stored in the documents bucket."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("components.id"), unique=True)
    owner_id: Mapped[str] = mapped_column(String(12))
    doc_type: Mapped[str] = mapped_column(String(40), index=True)
    type_confidence: Mapped[float]
    needs_review: Mapped[bool] = mapped_column(default=False)
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    text: Mapped[str] = mapped_column(Text, default="")
    page_count: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    object_key: Mapped[str] = mapped_column(String(200))
    object_version: Mapped[str | None] = mapped_column(String(200))  # the version written (versioned stores)
    signed_by: Mapped[str] = mapped_column(String(300))
    signed_at: Mapped[datetime]
    signature_level: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    dossier_code: Mapped[str] = mapped_column(String(64), default="", index=True)
    procedure_code: Mapped[str] = mapped_column(String(32), default="", index=True)
    folded_text: Mapped[str] = mapped_column(Text, default="")
    # The centre a search scopes by (the dossier's, else its station's, else the default centre's):
    # a copy kept by triggers (migration 0023), never written by the application.
    centre_id: Mapped[int | None]

    component: Mapped[Component] = relationship(back_populates="document")
    parties: Mapped[list[DocumentParty]] = relationship(
        back_populates="document", cascade="all, delete-orphan", passive_deletes=True
    )

    # Covers the lookup by owner (every column of a search hit): answered from the index alone,
    # without reading rows whose OCR text spills over many pages.
    # A centre's newest documents (of one type): range scans for its listings and common words.
    __table_args__ = (
        Index("ix_documents_owner_lookup", "owner_id", "created_at", "id", *OWNER_LOOKUP_EXTRA),
        Index("ix_documents_centre_created", "centre_id", "created_at", "id"),
        Index("ix_documents_centre_type_created", "centre_id", "doc_type", "created_at", "id"),
    )


class DocumentParty(Base):
    """A person a document names besides its owner (the wife on a marriage certificate, the agent of a
    power of attorney, bên B of a contract), so the document is found under their số định danh too.

    Only what the lookups need: the number (one that decodes, see ``digitizer.citizen_id``), the role
    the document gives the person, and the birth date printed beside them when its year agrees with
    the number's (intake reuse discloses a document only to a station that gives that date, as it does
    for the owner with the date their dossier recorded). The name stays in the document itself.
    """

    __tablename__ = "document_parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    id_number: Mapped[str] = mapped_column(String(12))
    role: Mapped[str] = mapped_column(String(32))
    birth_date: Mapped[date | None]

    document: Mapped[Document] = relationship(back_populates="parties")

    __table_args__ = (
        UniqueConstraint("document_id", "id_number", name="uq_document_party"),
        Index("ix_document_parties_lookup", "id_number", "document_id"),
    )


class EResult(Base):
    """An electronic result (kết quả điện tử), code ``<mã hồ sơ>-KQ<n>``."""

    __tablename__ = "eresults"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    seq: Mapped[int]
    code: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    level: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20), default=ComponentState.PENDING)
    source_sha256: Mapped[str] = mapped_column(String(64))
    source_key: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None]
    object_key: Mapped[str | None] = mapped_column(String(200))
    object_version: Mapped[str | None] = mapped_column(String(200))  # the version written (versioned stores)
    signed_by: Mapped[str | None] = mapped_column(String(300))
    signed_at: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"))
    # The officer who issued it and the centre whose key signs it (NULL: issued before 0015, by the default centre).
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_sha256: Mapped[str | None] = mapped_column(String(64))  # dossiers.results.request_fingerprint
    # TT 01/2023: a result's QR code carries its validity and scope of use, when the issuing officer gives them.
    validity: Mapped[str | None] = mapped_column(String(100))
    scope: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    dossier: Mapped[Dossier] = relationship(back_populates="results")

    __table_args__ = (
        UniqueConstraint("dossier_id", "seq", name="uq_eresult_seq"),
        # A unique index, not a constraint: migration 0008 adds it on SQLite without rebuilding the table.
        Index("uq_eresult_idempotency", "issued_by", "idempotency_key", unique=True),
        Index("ix_eresults_created_at", "created_at"),  # the statistics' periods (migration 0024)
    )


class EResultVersion(Base):
    """A version an e-result named before it was re-time-stamped (``workers.maintenance``), oldest first.

    Each was handed to a citizen once and stays valid (locked, catalogued): a check of a copy the
    citizen was issued must still find it. Its own table, not the schedule row's output, so that the
    portal and the API read the history without knowing how maintenance keeps its schedule.
    """

    __tablename__ = "eresult_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    eresult_id: Mapped[int] = mapped_column(ForeignKey("eresults.id"))
    object_key: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    object_version: Mapped[str | None] = mapped_column(String(200))  # NULL: unknown (migrated) or unversioned store
    replaced_at: Mapped[datetime | None] = mapped_column(default=utcnow)  # NULL: replaced before migration 0012

    __table_args__ = (UniqueConstraint("eresult_id", "sha256", name="uq_eresult_version"),)


def _one_step_of_each_kind_per(target: str) -> Index:
    """A partial unique index: a step targets a component or an e-result, the other column is NULL (migration 0009)."""
    where = text(f"{target} IS NOT NULL")
    name = f"uq_step_{target.removesuffix('_id')}"
    return Index(name, "kind", target, unique=True, sqlite_where=where, postgresql_where=where)


class JobStep(Base):
    """One idempotent unit of pipeline work. Queues carry only its id."""

    __tablename__ = "job_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    queue: Mapped[str] = mapped_column(String(16))
    component_id: Mapped[int | None] = mapped_column(ForeignKey("components.id"), index=True)
    eresult_id: Mapped[int | None] = mapped_column(ForeignKey("eresults.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=StepState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]
    input_sha256: Mapped[str | None] = mapped_column(String(64))
    output: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        # Never takes effect (one of its columns is always NULL); kept, as migration 0009 says.
        UniqueConstraint("kind", "component_id", "eresult_id", name="uq_step_target"),
        _one_step_of_each_kind_per("component_id"),
        _one_step_of_each_kind_per("eresult_id"),
        Index("ix_job_steps_claim", "state", "queue", "not_before"),
    )


class Correction(Base):
    """An officer's correction of what the digitizer read from a component (issue 20): the type, a field,
    the parties. Applied to the component's document (at store time, or at once when already stored)
    and, for the type, a training example of the classifier (``dossiers.retrain``).

    ``path`` names what changed: ``type``, ``fields.<name>`` or ``parties``; ``before``/``after`` hold
    the values (JSON) on either side.
    """

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("components.id"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    path: Mapped[str] = mapped_column(String(100))
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


@event.listens_for(Document, "before_insert")
@event.listens_for(Document, "before_update")
def _index_document(_mapper: Any, connection: Any, doc: Document) -> None:
    """Keep the search columns in step: folded OCR text, dossier and procedure codes."""
    from storage.catalogue.folding import fold

    values = " ".join(str(v) for v in (doc.fields or {}).values())
    doc.folded_text = fold(f"{doc.text or ''} {values}")
    if not doc.dossier_code and doc.component_id is not None:
        row = connection.execute(
            select(Dossier.code, Dossier.procedure_code)
            .join(Component, Component.dossier_id == Dossier.id)
            .where(Component.id == doc.component_id)
        ).first()
        if row is not None:
            doc.dossier_code, doc.procedure_code = row


from storage.catalogue import completion_models as _completion_models  # noqa: E402, F401 - register the tables
from storage.catalogue import notice_models as _notice_models  # noqa: E402, F401 - register the tables
from storage.catalogue import usage_models as _usage_models  # noqa: E402, F401 - register the tables
from storage.catalogue import warehouse_models as _warehouse_models  # noqa: E402, F401 - register the tables
