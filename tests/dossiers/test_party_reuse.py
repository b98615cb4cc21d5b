"""A document that names several people is found under each one's số định danh: the wife on the
marriage certificate her husband handed in, bên B of a contract (issue 19)."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.corpus.parties import party_page
from bench.corpus.render import save_scan
from dossiers.batch_reader import read_batch
from dossiers.intake import ingest
from dossiers.reuse import ReuseAsk, disclose
from dossiers.services import Services
from dossiers.steps import party_rows
from sohoa.settings import IntakeSettings
from storage.catalogue.clients import create_client
from storage.catalogue.db import Catalogue
from storage.catalogue.models import ApiClient, ClientRole, Document, DocumentParty
from storage.warehouse.search import SearchQuery, search_documents
from testkit.batches import manifest
from testkit.scheduling import run_steps
from tests.storage.factories import add_document

HUSBAND, WIFE, AGENT = "001090012345", "001192004567", "079088000123"
SECRET = b"reuse-test-secret"


def _party(role: str, number: str | None, born: str | None = None, warnings: list[str] | None = None) -> dict:
    value = lambda v: {"value": v, "page": 0, "box": [0, 0, 1, 1], "confidence": 0.9} if v else None  # noqa: E731
    return {
        "role": role,
        "full_name": value("Tên"),
        "so_dinh_danh": value(number),
        "date_of_birth": value(born),
        "birth_year": None,
        "page": 0,
        "box": None,
        "warnings": warnings or [],
    }


def test_party_rows_keep_decoding_numbers_other_than_the_owners_once_each() -> None:
    rows = party_rows(
        [
            _party("husband", HUSBAND, "1990-03-15"),  # the owner: found as owner already
            _party("wife", WIFE, "1992-11-02"),
            _party("wife", WIFE, "1992-11-02"),  # read twice
            _party("agent", "003090012345"),  # no province 003
            _party("agent", AGENT, "1990-01-01"),  # printed year disagrees with the number's 1988
            _party("witness", "079088000999", None, ["ID_BIRTH_YEAR_MISMATCH"]),
            _party("person", "001224000123", None),
        ],
        owner_id=HUSBAND,
    )
    assert [(r.id_number, r.role, r.birth_date) for r in rows] == [
        (WIFE, "wife", date(1992, 11, 2)),
        ("001224000123", "person", None),
    ]


def _station(catalogue: Catalogue) -> int:
    create_client(catalogue, "Trạm 1", ClientRole.STATION)
    with catalogue.reading() as s:
        return s.scalars(select(ApiClient.id)).one()


def test_lookups_by_number_find_the_document_under_a_party(db_services: Services) -> None:
    catalogue = db_services.catalogue
    doc, code = add_document(catalogue, owner_id=HUSBAND, doc_type="marriage_certificate", text="KẾT HÔN")
    other, _ = add_document(catalogue, owner_id=WIFE, doc_type="citizen_id_card", text="CĂN CƯỚC")
    with catalogue.session() as s:
        s.add(DocumentParty(document_id=doc, id_number=WIFE, role="wife", birth_date=date(1992, 11, 2)))
        s.add(DocumentParty(document_id=other, id_number=WIFE, role="holder"))  # owner and party: one hit
    hits = search_documents(catalogue, SearchQuery(owner_id=WIFE))
    assert sorted((h.id, h.owner_id, h.matched_as) for h in hits) == [(doc, HUSBAND, "wife"), (other, WIFE, "owner")]
    assert [h.id for h in search_documents(catalogue, SearchQuery(owner_id=WIFE, text="ket hon"))] == [doc]
    assert search_documents(catalogue, SearchQuery(owner_id=WIFE, doc_types=("contract",))) == []
    assert [(h.id, h.matched_as) for h in search_documents(catalogue, SearchQuery(owner_id=HUSBAND))] == [
        (doc, "owner")
    ]

    station = _station(catalogue)
    wanted = {"kh": "marriage_certificate"}
    ask = ReuseAsk(station, WIFE, date(1992, 11, 2), "000.00.12.H26-261206-0901", wanted)
    answer = disclose(catalogue, ask, IntakeSettings(), SECRET)
    assert answer.outcome == "disclosed" and list(answer.documents.values()) == [doc]
    assert answer.by_ref["kh"][0]["doc_type"] == "marriage_certificate"
    wrong = ReuseAsk(station, WIFE, date(1992, 11, 3), "000.00.12.H26-261206-0902", wanted)
    assert disclose(catalogue, wrong, IntakeSettings(), SECRET).outcome == "mismatch"
    assert code  # the husband's dossier is never named to the station
    assert code not in json.dumps(answer.by_ref)


@pytest.mark.integration
def test_a_digitised_marriage_certificate_is_reusable_under_the_wifes_number(
    services: Services, tmp_path: Path
) -> None:
    """Real Tesseract, the whole pipeline: the husband hands in the certificate, the wife's later dossier
    is offered it."""
    generated = party_page("marriage_columns", random.Random("reuse-kh"))
    husband, wife = generated.parties
    folder = tmp_path / "batch"
    folder.mkdir()
    save_scan(generated.page, folder / "kh.jpg", quality=85)
    m = manifest([{"id": "kh", "declared_type": "marriage_certificate", "files": ["kh.jpg"]}])
    m |= {"applicant_id": husband.id, "applicant_birth_date": "1970-01-01"}
    (folder / "manifest.json").write_text(json.dumps(m))
    ingest(services, read_batch(folder))
    run_steps(services, ("ingest", "ocr", "sign", "store"))
    with services.catalogue.reading() as s:
        document = s.scalars(select(Document)).one()
        rows = [(p.id_number, p.role, p.birth_date) for p in document.parties]
    day, month, year = (int(v) for v in wife.dob.split("/"))
    assert document.owner_id == husband.id
    assert rows == [(wife.id, "wife", date(year, month, day))]
    hits = search_documents(services.catalogue, SearchQuery(owner_id=wife.id))
    assert [(h.id, h.matched_as) for h in hits] == [(document.id, "wife")]
    station = _station(services.catalogue)
    ask = ReuseAsk(
        station, wife.id, date(year, month, day), "000.00.12.H26-261206-0903", {"kh": "marriage_certificate"}
    )
    answer = disclose(services.catalogue, ask, services.settings.intake, SECRET)
    assert answer.outcome == "disclosed" and list(answer.documents.values()) == [document.id]
