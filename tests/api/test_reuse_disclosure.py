"""Reuse at intake discloses a citizen's stored documents only to a station that knows more than their
số định danh, within its day, the least it needs, every lookup kept and audited; a dossier code tells a
station nothing about another unit's dossiers (issue 17, item 4)."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from sqlalchemy import func, select

from dossiers.reuse import ReuseAsk, disclose
from dossiers.services import Services
from sohoa.settings import IntakeSettings
from storage.catalogue.clients import authenticate, create_client
from storage.catalogue.models import ClientRole, Dossier
from storage.catalogue.usage_models import ReuseLookup
from storage.catalogue.warehouse_models import AuditEntry
from testkit.batches import make_zip, manifest
from testkit.scheduling import run_in_threads
from tests.api.conftest import APPLICANT_ID, BIRTH, Api, add_signed_document, push_dossier
from tests.storage.factories import add_document

OTHER_CENTRE = "000.00.12.H26-250101-0901"  # a dossier another centre took in and digitised
COMPS = [
    {"id": "cccd", "declared_type": "citizen_id_card", "files": ["a.jpg"]},
    {"id": "tk", "declared_type": "application_form", "files": ["b.jpg"]},
]
NOBODY = "079300099999"  # an applicant with nothing stored
METRICS_TOKEN = "scrape-reuse"


def _metrics(api: Api) -> str:
    r = api.client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert r.status_code == 200
    return r.text


def _stored(api: Api) -> int:
    return add_signed_document(
        api.services,
        owner_id=APPLICANT_ID,
        doc_type="citizen_id_card",
        code=OTHER_CENTRE,
        fields={"expiry_date": {"value": "2099-01-01"}},
        birth_date=BIRTH,
    )


def _audit(api: Api, action: str = "reuse-at-intake") -> list[AuditEntry]:
    with api.services.catalogue.reading() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def _reuse_view(receipt: dict) -> tuple:
    """Everything a receipt says about reuse."""
    return receipt["reuse"], receipt["reusable_documents"], [c["reusable"] for c in receipt["components"]]


def test_a_number_read_off_a_card_opens_nothing(api: Api) -> None:
    _stored(api)
    receipt = push_dossier(api, "000.00.12.H26-261121-0901", birth=None, components=COMPS)
    assert receipt["created"] is True  # intake goes on
    assert receipt["reusable_documents"] == 0 and all(c["reusable"] == [] for c in receipt["components"])
    assert receipt["reuse"]["status"] == "skipped" and receipt["reuse"]["code"] == "REUSE_NEEDS_BIRTH_DATE"
    assert "ngày sinh" in receipt["reuse"]["message"]
    assert _audit(api) == []


def test_a_wrong_birth_date_answers_as_an_applicant_without_documents_and_is_audited(
    make_api,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    api = make_api(metrics_token=METRICS_TOKEN)
    _stored(api)
    caplog.set_level(logging.WARNING, "api.routes_batches")
    guessed = push_dossier(api, "000.00.12.H26-261121-0902", birth="1990-03-16", components=COMPS)
    nobody = push_dossier(api, "000.00.12.H26-261121-0903", applicant_id=NOBODY, birth=BIRTH, components=COMPS)
    assert _reuse_view(guessed) == _reuse_view(nobody) == ({"status": "checked"}, 0, [[], []])
    entries = _audit(api)
    assert [(e.subject, e.outcome, e.detail) for e in entries] == [
        (f"owner:{APPLICANT_ID}", "mismatch", {"withheld": 1})
    ]
    assert "mismatch" in caplog.text
    metrics = _metrics(api)
    assert 'sohoa_reuse_alerts_total{reason="mismatch"} 1.0' in metrics


def test_the_right_birth_date_discloses_the_least_intake_needs(api: Api) -> None:
    doc = _stored(api)
    receipt = push_dossier(api, "000.00.12.H26-261121-0904", components=COMPS)
    listed = receipt["components"][0]["reusable"]
    assert receipt["reuse"] == {"status": "checked"} and receipt["reusable_documents"] == 1
    assert set(listed[0]) == {"reference", "doc_type", "pages", "expires"}
    assert listed[0]["doc_type"] == "citizen_id_card" and listed[0]["expires"] == "2099-01-01"
    body = str(receipt)
    with api.services.catalogue.reading() as s:
        sha = s.scalar(select(func.min(Dossier.batch_sha256)).where(Dossier.code == OTHER_CENTRE))
    assert OTHER_CENTRE not in body and str(sha) not in body and "signed_at" not in body
    # The reference means nothing to another station: two stations cannot match their answers.
    other = api.key("Trạm 2", ClientRole.STATION)
    second = push_dossier(api, "000.00.12.H26-261121-0905", components=COMPS, headers=other)
    assert second["components"][0]["reusable"][0]["reference"] != listed[0]["reference"]
    entries = _audit(api)
    assert [e.detail["documents"] for e in entries] == [[doc], [doc]]
    assert entries[0].detail["references"] == {listed[0]["reference"]: doc}
    assert entries[0].actor != entries[1].actor


def test_a_stations_day_of_lookups_is_bounded_alerted_and_kept(make_api, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    api = make_api(
        metrics_token=METRICS_TOKEN,
        intake={"reuse_daily_applicants": 2, "reuse_alert_applicants": 2, "reuse_birth_dates_per_applicant": 2},
    )
    _stored(api)
    caplog.set_level(logging.WARNING, "api.routes_batches")
    first = push_dossier(api, "000.00.12.H26-261121-0911", components=COMPS)
    assert first["reusable_documents"] == 1
    push_dossier(api, "000.00.12.H26-261121-0912", applicant_id=NOBODY, components=COMPS)  # 2nd applicant: alert
    alerts = _audit(api, "reuse-volume-alert")
    assert [(e.outcome, e.detail) for e in alerts] == [("alert", {"applicants_today": 2})]
    third = push_dossier(api, "000.00.12.H26-261121-0913", applicant_id="001090054321", components=COMPS)
    assert third["created"] is True and third["reusable_documents"] == 0  # intake itself still succeeds
    assert third["reuse"]["status"] == "refused" and third["reuse"]["code"] == "REUSE_BUDGET_EXHAUSTED"
    # A repeat of a push already answered is answered again, and so is a known applicant's next dossier.
    assert push_dossier(api, "000.00.12.H26-261121-0911", components=COMPS)["reusable_documents"] == 1
    assert push_dossier(api, "000.00.12.H26-261121-0914", components=COMPS)["reusable_documents"] == 1
    # One applicant has one birth date: a second one may be a typo, a third is guessing.
    typo = push_dossier(api, "000.00.12.H26-261121-0915", birth="2001-01-01", components=COMPS)
    assert typo["reuse"] == {"status": "checked"} and typo["reusable_documents"] == 0
    guessed = push_dossier(api, "000.00.12.H26-261121-0916", birth="2001-01-02", components=COMPS)
    assert guessed["created"] is True and guessed["reuse"]["code"] == "REUSE_BUDGET_EXHAUSTED"
    assert push_dossier(api, "000.00.12.H26-261121-0917", components=COMPS)["reusable_documents"] == 1
    refusals = [e for e in _audit(api) if e.outcome == "refused"]
    assert [e.detail["reason"] for e in refusals] == ["budget", "birth-dates"]
    assert "budget" in caplog.text and "volume" in caplog.text
    metrics = _metrics(api)
    for reason, count in (("volume", 1), ("budget", 1), ("birth-dates", 1), ("mismatch", 1)):
        assert f'sohoa_reuse_alerts_total{{reason="{reason}"}} {count}.0' in metrics
    with api.services.catalogue.reading() as s:  # who asked about whom, whatever came of it
        kept = s.execute(select(ReuseLookup.applicant_id, ReuseLookup.outcome).order_by(ReuseLookup.id)).all()
    assert [tuple(k) for k in kept] == [
        (APPLICANT_ID, "disclosed"),
        (NOBODY, "none"),
        ("001090054321", "refused"),
        (APPLICANT_ID, "disclosed"),
        (APPLICANT_ID, "disclosed"),
        (APPLICANT_ID, "mismatch"),
        (APPLICANT_ID, "refused"),
        (APPLICANT_ID, "disclosed"),
    ]


def test_the_last_lookup_of_a_day_goes_to_one_receipt(db_services: Services) -> None:
    """Ten lookups at once about ten applicants against a day of four: four are looked up (SQLite, PostgreSQL)."""
    catalogue = db_services.catalogue
    principal = authenticate(catalogue, create_client(catalogue, "Trạm", ClientRole.STATION))
    assert principal is not None
    add_document(catalogue, owner_id="001090000003", doc_type="diploma", birth_date=date(1990, 3, 15))
    limits = IntakeSettings(reuse_daily_applicants=4, reuse_alert_applicants=3)
    answers = []

    def ask(n: int) -> None:
        wanted = {"c1": "diploma"}
        question = ReuseAsk(
            principal.id, f"00109000000{n}", date(1990, 3, 15), f"000.00.12.H26-261121-09{n:02d}", wanted
        )
        answers.append(disclose(catalogue, question, limits, b"secret"))

    assert run_in_threads(ask, 10) == []
    outcomes = sorted(a.outcome for a in answers)
    assert outcomes.count("refused") == 6 and len([a for a in answers if a.alert]) == 1
    with catalogue.reading() as s:
        looked = s.scalar(
            select(func.count(func.distinct(ReuseLookup.applicant_id))).where(ReuseLookup.outcome != "refused")
        )
    assert looked == 4


def test_another_units_dossier_codes_tell_a_station_nothing(api: Api) -> None:
    """A station bound to its unit (its key's agency code) gets one answer for another unit's code, whether or
    not a dossier holds it; stations of one unit get one answer for a taken code, whichever of them took it."""
    push_dossier(api, "000.00.12.H26-261121-0921")  # taken by the development station (unit H26)
    other_unit = api.key("Trạm H27", ClientRole.STATION, "000.00.12.H27")
    answers = []
    for code in ("000.00.12.H26-261121-0921", "000.00.12.H26-261121-0922"):  # taken / free
        body = make_zip(manifest([{"id": "c1", "files": ["a.jpg"]}], code=code), {"a.jpg": b"\xff\xd8 x"})
        r = api.client.post("/api/v1/batches", content=body, headers=other_unit | {"Content-Type": "application/zip"})
        answers.append((r.status_code, r.json(), r.headers.get("content-length")))
    assert answers[0] == answers[1] and answers[0][0] == 403
    assert answers[0][1]["detail"]["code"] == "DOSSIER_CODE_FOREIGN"
    own = push_dossier(api, "000.00.12.H27-261121-0923", headers=other_unit)
    assert own["created"] is True
    with api.services.catalogue.reading() as s:
        assert s.scalar(select(func.count(Dossier.id))) == 2

    same_unit = api.key("Trạm H26 số 2", ClientRole.STATION, "000.00.12.H26")
    changed = make_zip(manifest([{"id": "c1", "files": ["a.jpg"]}], code="000.00.12.H26-261121-0921"), {"a.jpg": b"y"})
    headers = {"Content-Type": "application/zip"}
    by_other = api.client.post("/api/v1/batches", content=changed, headers=same_unit | headers)
    by_holder = api.client.post("/api/v1/batches", content=changed, headers=api.station | headers)
    assert by_other.status_code == by_holder.status_code == 409
    assert by_other.json() == by_holder.json()


def test_a_document_naming_the_applicant_as_a_party_is_offered_with_the_birth_date_printed_beside_them(
    api: Api,
) -> None:
    """The husband handed in the marriage certificate; the wife's dossier is offered it (issue 19)."""
    from storage.catalogue.models import DocumentParty

    wife, wife_birth = "001192004567", "1992-11-02"
    doc = add_signed_document(
        api.services, owner_id=APPLICANT_ID, doc_type="marriage_certificate", code=OTHER_CENTRE, birth_date=BIRTH
    )
    with api.services.catalogue.session() as s:
        s.add(DocumentParty(document_id=doc, id_number=wife, role="wife", birth_date=date.fromisoformat(wife_birth)))
    comps = [{"id": "kh", "declared_type": "marriage_certificate", "files": ["kh.jpg"]}]
    offered = push_dossier(api, "000.00.12.H26-261121-0931", applicant_id=wife, birth=wife_birth, components=comps)
    assert offered["reusable_documents"] == 1
    assert offered["components"][0]["reusable"][0]["doc_type"] == "marriage_certificate"
    # The husband's birth date opens nothing for the wife's number.
    guessed = push_dossier(api, "000.00.12.H26-261121-0932", applicant_id=wife, birth=BIRTH, components=comps)
    assert guessed["reusable_documents"] == 0
    assert [e.detail.get("documents") for e in _audit(api)] == [[doc], None]
