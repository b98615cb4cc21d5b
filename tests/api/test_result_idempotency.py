"""Issuing an e-result is idempotent (signed results are locked for years), and odd uploads get a coded 4xx."""

from __future__ import annotations

import io

import pikepdf
import pytest
from alembic import command
from sqlalchemy import func, inspect, select

from dossiers.result_render import render_result_pdf
from dossiers.results import Issued, issue_result_once
from dossiers.services import Services
from storage.catalogue.clients import authenticate, create_client
from storage.catalogue.db import alembic_config
from storage.catalogue.models import ClientRole, ComponentState, EResult
from testkit.scheduling import run_in_threads
from tests.api.conftest import Api, push_dossier
from tests.storage.factories import add_document

CODE = "000.00.12.H26-261121-0501"
UPLOAD = f"/api/v1/dossiers/{CODE}/results"
TEMPLATE = f"/api/v1/dossiers/{CODE}/results/from-template"
SPEC = {"title": "Giấy xác nhận tình trạng hôn nhân", "body": ["Chưa đăng ký kết hôn."], "level": "B-B"}


def _count(services: Services) -> int:
    with services.catalogue.reading() as s:
        return s.scalar(select(func.count()).select_from(EResult)) or 0


def _upload(api: Api, pdf: bytes, key: str | None = None, level: str = "B-B"):  # type: ignore[no-untyped-def]
    headers = api.officer | ({"Idempotency-Key": key} if key else {})
    return api.client.post(UPLOAD, content=pdf, params={"level": level}, headers=headers)


def test_same_key_twice_gives_one_result_and_200(api: Api) -> None:
    push_dossier(api, CODE)
    pdf = render_result_pdf(["Kết quả một"])
    first, second = _upload(api, pdf, "k-1"), _upload(api, pdf, "k-1")
    assert (first.status_code, second.status_code) == (202, 200), second.text
    assert first.json()["code"] == second.json()["code"] == f"{CODE}-KQ1"
    from_template = [api.client.post(TEMPLATE, json=SPEC, headers=api.officer | {"Idempotency-Key": "t-1"})]
    from_template.append(api.client.post(TEMPLATE, json=SPEC, headers=api.officer | {"Idempotency-Key": "t-1"}))
    assert [r.status_code for r in from_template] == [202, 200]
    assert from_template[0].json()["code"] == from_template[1].json()["code"] == f"{CODE}-KQ2"
    assert _count(api.services) == 2


def test_same_key_for_another_request_is_refused(api: Api) -> None:
    push_dossier(api, CODE)
    assert _upload(api, render_result_pdf(["Kết quả một"]), "k-1").status_code == 202
    refusals = [
        _upload(api, render_result_pdf(["Kết quả khác"]), "k-1"),
        _upload(api, render_result_pdf(["Kết quả một"]), "k-1", level="B-T"),
        api.client.post(TEMPLATE, json=SPEC, headers=api.officer | {"Idempotency-Key": "k-1"}),
    ]
    for r in refusals:
        assert r.status_code == 409 and r.json()["detail"]["code"] == "IDEMPOTENCY_KEY_REUSED", r.text
    assert api.client.post(TEMPLATE, json=SPEC, headers=api.officer | {"Idempotency-Key": "t-1"}).status_code == 202
    changed = SPEC | {"body": ["Đã đăng ký kết hôn."]}
    r = api.client.post(TEMPLATE, json=changed, headers=api.officer | {"Idempotency-Key": "t-1"})
    assert r.status_code == 409 and r.json()["detail"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    other = api.key("Cán bộ khác", ClientRole.OFFICER)  # keys are scoped to the client that sent them
    r = api.client.post(UPLOAD, content=render_result_pdf(["Kết quả ba"]), headers=other | {"Idempotency-Key": "k-1"})
    assert r.status_code == 202 and r.json()["code"] == f"{CODE}-KQ3"
    assert _count(api.services) == 3


def test_same_pdf_and_level_without_key_gives_the_same_result(api: Api) -> None:
    push_dossier(api, CODE)
    pdf = render_result_pdf(["Kết quả một"])
    first, second = _upload(api, pdf), _upload(api, pdf)
    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["code"] == second.json()["code"] == f"{CODE}-KQ1"
    assert _upload(api, pdf, level="B-T").json()["code"] == f"{CODE}-KQ2"  # another level is another result
    assert _upload(api, pdf, "new-key").json()["code"] == f"{CODE}-KQ1"
    retitled = issue_result_once(api.services, CODE, pdf, title="Giấy phép (bản sửa)", level="B-B")
    assert retitled.created and retitled.result.code == f"{CODE}-KQ3"  # another title is another result
    with api.services.catalogue.session() as s:
        s.scalars(select(EResult).order_by(EResult.seq)).first().state = ComponentState.FAILED  # type: ignore[union-attr]
    assert _upload(api, pdf).json()["code"] == f"{CODE}-KQ4"  # a failed signing locked nothing: issue again


def _race(services: Services, pdf: bytes, issued_by: int, key: str | None, count: int = 4) -> list[Issued]:
    """The same issue request from ``count`` threads at once."""
    answers: list[Issued] = []

    def issue(_n: int) -> None:
        answers.append(issue_result_once(services, CODE, pdf, issued_by=issued_by, idempotency_key=key))

    assert run_in_threads(issue, count) == []
    return answers


@pytest.mark.parametrize("keyed", [True, False])
def test_concurrent_identical_requests_make_one_result(db_services: Services, keyed: bool) -> None:
    add_document(db_services.catalogue, owner_id="001090012345", doc_type="birth_certificate", code=CODE)
    principal = authenticate(db_services.catalogue, create_client(db_services.catalogue, "Cán bộ", ClientRole.OFFICER))
    assert principal is not None
    for n in range(3):
        pdf = render_result_pdf([f"Kết quả lần {n}"])
        answers = _race(db_services, pdf, principal.id, f"key-{n}" if keyed else None)
        assert len({a.result.code for a in answers}) == 1
        assert sum(a.created for a in answers) == 1
    assert _count(db_services) == 3


def test_migration_0008_downgrades_and_upgrades_with_results_kept(db_services: Services) -> None:
    add_document(db_services.catalogue, owner_id="001090012345", doc_type="birth_certificate", code=CODE)
    issued = issue_result_once(db_services, CODE, render_result_pdf(["Kết quả"]), idempotency_key="k-1")
    cfg = alembic_config(db_services.settings.db_url)
    db_services.catalogue.dispose()
    command.downgrade(cfg, "0007")  # with a job step referencing the e-result
    assert "idempotency_key" not in {c["name"] for c in inspect(db_services.catalogue.engine).get_columns("eresults")}
    command.upgrade(cfg, "head")
    insp = inspect(db_services.catalogue.engine)
    assert {"idempotency_key", "request_sha256"} <= {c["name"] for c in insp.get_columns("eresults")}
    assert {i["name"]: i["unique"] for i in insp.get_indexes("eresults")}.get("uq_eresult_idempotency")
    with db_services.catalogue.reading() as s:
        assert s.scalars(select(EResult.code)).all() == [issued.result.code]


def _with_catalog(**entries: object) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    for key, value in entries.items():
        pdf.Root[f"/{key}"] = value
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _with_names(names: object) -> bytes:
    return _with_catalog(Names=names)


@pytest.mark.parametrize(
    "names",
    [pikepdf.Array([pikepdf.Name.JavaScript]), 7, pikepdf.Name("/JavaScript"), pikepdf.String("JavaScript")],
    ids=["array", "integer", "name", "string"],
)
def test_odd_names_entry_is_a_coded_refusal_not_a_server_error(api: Api, names: object) -> None:
    push_dossier(api, CODE)
    r = _upload(api, _with_names(names))
    assert r.status_code == 422 and r.json()["detail"]["code"] == "RESULT_PDF_INVALID", r.text


def test_names_dictionary_is_still_checked_for_scripts(api: Api) -> None:
    push_dossier(api, CODE)
    scripted = _with_names(pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(Names=pikepdf.Array())))
    r = _upload(api, scripted)
    assert r.status_code == 422 and r.json()["detail"]["code"] == "RESULT_ACTIVE_CONTENT"
    assert _upload(api, _with_names(pikepdf.Dictionary())).status_code == 202


def test_open_at_page_one_is_accepted_and_a_script_refused(api: Api) -> None:
    """LibreOffice writes ``/OpenAction [page /XYZ null null 0]`` on every export: that only shows a page."""
    push_dossier(api, CODE)
    pdf = pikepdf.new()
    pdf.add_blank_page()
    page = pdf.pages[0].obj
    destination = pikepdf.Array([page, pikepdf.Name.XYZ, None, None, 0])
    pdf.Root.OpenAction = destination
    out = io.BytesIO()
    pdf.save(out)
    assert _upload(api, out.getvalue()).status_code == 202
    script = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    launch = pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"))
    for action, named in ((script, "mã JavaScript"), (launch, "lệnh chạy chương trình")):
        r = _upload(api, _with_catalog(OpenAction=action))
        assert r.status_code == 422 and r.json()["detail"]["code"] == "RESULT_ACTIVE_CONTENT", r.text
        assert named in r.json()["detail"]["message"]


def test_active_content_deep_in_the_file_is_refused_and_named(api: Api) -> None:
    """Not only the catalog: a page's own action and a link's script are found, and said where."""
    push_dossier(api, CODE)
    pdf = pikepdf.new()
    pdf.add_blank_page()
    script = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=script)
    link = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 9, 9], A=script)
    pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(link)])
    out = io.BytesIO()
    pdf.save(out)
    r = _upload(api, out.getvalue())
    assert r.status_code == 422 and r.json()["detail"]["code"] == "RESULT_ACTIVE_CONTENT", r.text
    message = r.json()["detail"]["message"]
    assert "mã JavaScript (trang 1)" in message and "mã JavaScript (trang 1, chú thích 1)" in message
