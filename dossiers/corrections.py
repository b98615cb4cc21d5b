"""Officers' corrections of what the digitizer read: the type, a field, the parties a document names.

Each change is one ``corrections`` row (what it was, what it became, who, when) and an audit entry
(``correct_component`` under the officer's actor). A component not yet stored keeps its digitize
output as read; the store step lays the corrections over it (``for_store``). A component already
stored has its document row corrected at once: type, fields, the party index rebuilt, and
``needs_review`` cleared (an officer has looked at it).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from digitizer.citizen_id import parse_citizen_id
from digitizer.model import DOCUMENT_TYPES
from dossiers.review_errors import CorrectionInvalid, NotDigitised
from dossiers.services import Services
from dossiers.steps import party_rows
from dossiers.workspace import corrections_of, digitize_output, effective_centre_id, load_component
from sohoa.errors import SohoaError
from storage.catalogue.models import Component, Correction, Document, DocumentParty, utcnow
from storage.catalogue.officers import OfficerPrincipal
from storage.warehouse import audit

FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
MAX_VALUE = 500
MAX_PARTIES = 20
ROLE = re.compile(r"[a-z][a-z0-9_]{0,31}")


@dataclass(frozen=True)
class PartyInput:
    """A party as an officer enters it."""

    role: str
    so_dinh_danh: str
    name: str = ""
    date_of_birth: str | None = None


def _corrected(value: str) -> dict[str, Any]:
    return {"value": value, "page": None, "box": None, "confidence": 1.0, "corrected": True}


def _invalid(detail: str, message: str) -> SohoaError:
    return CorrectionInvalid(detail, message_vi=message)


def check_type(doc_type: str) -> str:
    if doc_type not in DOCUMENT_TYPES:
        raise _invalid(f"type {doc_type!r}", f"Loại giấy tờ “{doc_type[:40]}” không có trong danh mục.")
    return doc_type


def _check_id(number: str, where: str) -> str:
    number = number.strip()
    if parse_citizen_id(number) is None:
        raise _invalid(
            f"{where}: bad id number",
            f"Số định danh cá nhân “{number[:20]}” ({where}) không hợp lệ: cần đúng 12 chữ số với mã tỉnh hợp lệ.",
        )
    return number


def check_fields(fields: dict[str, str | None]) -> dict[str, str | None]:
    """Field names as the digitizer names them; an empty value removes the field; số định danh must decode."""
    out: dict[str, str | None] = {}
    for name, raw in fields.items():
        if not FIELD_NAME.fullmatch(name):
            raise _invalid(f"field name {name[:40]!r}", f"Tên trường “{name[:40]}” không hợp lệ.")
        value = (raw or "").strip()
        if len(value) > MAX_VALUE:
            raise _invalid(f"field {name} too long", f"Giá trị của trường “{name}” quá dài (tối đa {MAX_VALUE} ký tự).")
        if value and name == "so_dinh_danh":
            value = _check_id(value, "trường so_dinh_danh")
        out[name] = value or None
    return out


def check_parties(parties: list[PartyInput]) -> list[dict[str, Any]]:
    """The parties in the digitizer's shape (``steps.party_rows`` indexes them); each number must decode and
    agree with the birth date's year when one is given."""
    if len(parties) > MAX_PARTIES:
        raise _invalid("too many parties", f"Tối đa {MAX_PARTIES} người liên quan.")
    out: list[dict[str, Any]] = []
    for n, party in enumerate(parties, 1):
        where = f"người thứ {n}"
        role = party.role.strip() or "person"
        if not ROLE.fullmatch(role):
            raise _invalid(f"party {n} role", f"Vai trò của {where} không hợp lệ.")
        number = _check_id(party.so_dinh_danh, where)
        parsed = parse_citizen_id(number)
        born: str | None = None
        if party.date_of_birth:
            try:
                born = date.fromisoformat(party.date_of_birth.strip()).isoformat()
            except ValueError:
                raise _invalid(f"party {n} birth date", f"Ngày sinh của {where} không hợp lệ (YYYY-MM-DD).") from None
            if parsed is not None and int(born[:4]) != parsed.birth_year:
                raise _invalid(f"party {n} birth year", f"Năm sinh của {where} không khớp với số định danh cá nhân.")
        name = party.name.strip()[:200]
        out.append(
            {
                "role": role,
                "full_name": _corrected(name) if name else None,
                "so_dinh_danh": _corrected(number),
                "date_of_birth": _corrected(born) if born else None,
                "birth_year": None,
                "page": None,
                "box": None,
                "warnings": [],
                "corrected": True,
            }
        )
    return out


def effective(output: dict[str, Any], corrections: list[Correction]) -> dict[str, Any]:
    """Type, fields and parties of a digitize output with these corrections laid over it, in order."""
    doc_type = output.get("type")
    fields: dict[str, Any] = copy.deepcopy(output.get("fields") or {})
    parties: list[Any] = copy.deepcopy(output.get("parties") or [])
    for c in corrections:
        if c.path == "type":
            doc_type = c.after
        elif c.path == "parties":
            parties = copy.deepcopy(c.after or [])
        elif c.path.startswith("fields."):
            name = c.path.removeprefix("fields.")
            if c.after is None:
                fields.pop(name, None)
            else:
                fields[name] = copy.deepcopy(c.after)
    return {"type": doc_type, "fields": fields, "parties": parties}


def for_store(session: Session, component: Component, digitized: dict[str, Any]) -> dict[str, Any]:
    """The digitize output the store step files: with the component's corrections laid over it, and not
    needing review once an officer corrected or confirmed it."""
    corrections = corrections_of(session, component.id)
    if not corrections and component.confirmed_at is None:
        return digitized
    return digitized | effective(digitized, corrections) | {"needs_review": False}


def _field_value(entry: Any) -> Any:
    return entry.get("value") if isinstance(entry, dict) else entry


def correct_component(
    services: Services,
    component_id: int,
    officer: OfficerPrincipal,
    *,
    doc_type: str | None = None,
    fields: dict[str, str | None] | None = None,
    parties: list[PartyInput] | None = None,
) -> list[str]:
    """Record an officer's corrections of a component of their centre; returns the paths that changed."""
    new_type = check_type(doc_type) if doc_type is not None else None
    new_fields = check_fields(fields) if fields is not None else None
    new_parties = check_parties(parties) if parties is not None else None
    with services.catalogue.session() as s:
        comp = load_component(s, component_id, officer.centre_id)
        output = digitize_output(s, comp.id)
        if output is None:
            raise NotDigitised(str(component_id))
        current = effective(output, corrections_of(s, comp.id))
        doc = s.scalar(select(Document).where(Document.component_id == comp.id))
        changes: list[tuple[str, Any, Any]] = []
        if new_type is not None and new_type != current["type"]:
            changes.append(("type", current["type"], new_type))
        for name, value in (new_fields or {}).items():
            before = current["fields"].get(name)
            if value != _field_value(before):
                changes.append((f"fields.{name}", before, _corrected(value) if value is not None else None))
        if new_parties is not None:
            changes.append(("parties", current["parties"], new_parties))
        now = utcnow()
        for path, before, after in changes:
            s.add(
                Correction(
                    component_id=comp.id,
                    document_id=doc.id if doc else None,
                    officer_id=officer.id,
                    path=path,
                    before=before,
                    after=after,
                    at=now,
                )
            )
        if doc is not None and changes:
            s.flush()
            fixed = effective(output, corrections_of(s, comp.id))
            doc.doc_type = fixed["type"]
            doc.fields = fixed["fields"]
            doc.needs_review = False
            if new_parties is not None:
                s.execute(delete(DocumentParty).where(DocumentParty.document_id == doc.id))
                s.expire(doc, ["parties"])
                for row in party_rows(fixed["parties"], doc.owner_id):
                    row.document_id = doc.id
                    s.add(row)
        paths = [p for p, _, _ in changes]
        audit.append(
            s,
            actor=officer.actor,
            action="correct_component",
            subject=f"component:{comp.dossier.code}/{comp.ref}",
            outcome="corrected" if changes else "unchanged",
            detail={"component_id": comp.id, "paths": paths, "document_id": doc.id if doc else None},
            owner=comp.dossier.applicant_id,
            centre_id=effective_centre_id(s, comp.dossier),
        )
        return paths
