"""On the embedded defaults (development PKI) e-results are issued B-LTA and re-time-stamping extends them."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select

from dossiers.result_render import render_result_pdf
from dossiers.results import issue_result_once
from dossiers.services import Services
from signing.dev import DevPkiHttp
from signing.signers import last_timestamp_expiry
from signing.validation import verify_pdf
from sohoa.settings import Settings, SigningSettings, WorkerSettings
from storage.catalogue.models import EResult, StepState
from storage.objectstore import Bucket
from testkit.scheduling import run_steps
from tests.storage.factories import add_document
from workers.maintenance import retimestamp_results


def _issue(services: Services, code: str) -> EResult:
    add_document(services.catalogue, owner_id="001090012345", doc_type="birth_certificate", code=code)
    issued = issue_result_once(services, code, render_result_pdf([f"Kết quả của hồ sơ {code}"]))  # default level
    assert all(ran.state == StepState.DONE for ran in run_steps(services))
    with services.catalogue.reading() as s:
        result = s.scalars(select(EResult).where(EResult.code == issued.result.code)).one()
        s.expunge(result)
    return result


def _stored(services: Services, code: str) -> bytes:
    with services.catalogue.reading() as s:
        result = s.scalars(select(EResult).where(EResult.code == code)).one()
        return services.store.get_bytes(Bucket.RESULTS, result.object_key, sha256=result.sha256)


def test_e_results_are_issued_b_lta_by_default(services: Services) -> None:
    assert services.settings.signing.default_result_level == "B-LTA"
    result = _issue(services, "000.00.12.H26-261205-0001")
    assert result.level == "B-LTA"
    report = verify_pdf(_stored(services, result.code), services.trust_roots)
    assert report.valid, report.to_dict()
    assert report.signatures[0].level == "B-LTA" and report.signatures[0].revocation == "good"


def test_re_time_stamping_extends_a_development_b_lta_result(tmp_path: Path, dev_pki_http: DevPkiHttp) -> None:
    """The TSA certificate is renewed by moving the PKI's URLs (new certificates, later expiry); the
    maintenance then extends the result, asking in-process about certificates that name the old URLs."""

    def settings(url: str) -> Settings:
        return Settings(
            var_dir=tmp_path / "var",
            signing=SigningSettings(pki_dir=tmp_path / "pki", dev_pki_url=url, retimestamp_margin_days=800),
            workers=WorkerSettings(poll_interval_s=0.05),
        )

    first = Services(settings(dev_pki_http.base_url("before")))
    first.prepare()
    result = _issue(first, "000.00.12.H26-261205-0002")
    before = last_timestamp_expiry(_stored(first, result.code))
    first.close()

    time.sleep(1.1)  # certificate times have whole seconds
    renewed = Services(settings("http://127.0.0.1:9/moved/dev/pki"))  # nothing listens there
    renewed.prepare()
    assert renewed.dev_pki.former_base_urls == (dev_pki_http.base_url("before"),)
    counts = retimestamp_results(renewed)
    assert counts["extended"] == 1 and counts["failed"] == 0, counts
    assert renewed.revocation.local_answers == renewed.revocation.fetches > 0
    extended = _stored(renewed, result.code)
    after = last_timestamp_expiry(extended)
    assert before is not None and after is not None and after > before
    report = verify_pdf(extended, renewed.trust_roots)
    assert report.valid and report.signatures[0].level == "B-LTA", report.to_dict()
    renewed.close()
