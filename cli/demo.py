"""Run the bundled sample batch end to end in-process: ingest, digitise, sign, store, issue an e-result."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from dossiers.batch_reader import read_batch
from dossiers.intake import ingest
from dossiers.result_render import ResultForm, place_of, render_form
from dossiers.results import issue_result_once
from dossiers.sample import SAMPLE_BATCH
from dossiers.services import Services
from dossiers.status import TERMINAL, dossier_status
from signing.vntime import to_vn
from sohoa.settings import Settings
from storage.catalogue.models import Dossier, EResult
from storage.objectstore import Bucket
from workers.embedded import EmbeddedPool

log = logging.getLogger(__name__)


@dataclass
class DemoOutcome:
    dossier_code: str
    status: dict[str, Any]
    result_code: str | None
    result_state: str | None
    outputs: list[Path] = field(default_factory=list)
    pages: int = 0
    seconds: float = 0.0

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def result_form(status: dict[str, Any], applicant_name: str, agency: str) -> ResultForm:
    """The demo's e-result: an NĐ 30/2020 form with the dossier's facts (sample data)."""
    return ResultForm(
        agency=agency,
        place=place_of(agency),
        issued_on=to_vn(datetime.now(UTC)).date(),
        title="Kết quả giải quyết thủ tục hành chính",
        body=(
            "Bản điện tử (dữ liệu mẫu phục vụ phát triển).",
            f"Mã hồ sơ: {status['dossier_code']}",
            f"Mã thủ tục: {status['procedure_code']}",
            f"Người nộp: {applicant_name}",
            f"Nơi tiếp nhận: {status['receiving_centre']}",
            "Kết quả: Hồ sơ đã được giải quyết.",
        ),
        signer_title=("GIÁM ĐỐC",),
        signer_name="Nguyễn Văn Mẫu",
        recipients=(applicant_name + ";", "Lưu: VT."),
    )


def _wait(fn: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not fn():
        if time.monotonic() > deadline:
            raise TimeoutError("demo did not finish in time")
        time.sleep(0.2)


def run_demo(
    settings: Settings, out_dir: Path, *, progress: Callable[[int, int], None] | None = None, timeout: float = 900
) -> DemoOutcome:
    services = Services(settings)
    services.prepare()
    pool = EmbeddedPool(services)
    pool.start()
    try:
        batch = read_batch(SAMPLE_BATCH)
        started = time.monotonic()
        receipt = ingest(services, batch)
        pool.wake()
        total = len(receipt.components)

        def status() -> dict[str, Any]:
            with services.catalogue.session() as s:
                dossier = s.scalar(select(Dossier).where(Dossier.id == receipt.dossier_id))
                assert dossier is not None
                return dossier_status(s, dossier)

        def components_done() -> bool:
            st = status()
            if progress:
                progress(st["progress"]["done"] + st["progress"]["failed"], total)
            return st["progress"]["done"] + st["progress"]["failed"] == total

        _wait(components_done, timeout)
        elapsed = time.monotonic() - started
        final = status()
        pages = sum(c["pages"] for c in final["components"] if c["state"] == "done")

        result = issue_result_once(
            services,
            receipt.dossier_code,
            render_form(result_form(final, batch.manifest.applicant_name, settings.signing.agency_name)),
            title="Kết quả giải quyết thủ tục hành chính",
        ).result
        pool.wake()

        def result_done() -> bool:
            with services.catalogue.session() as s:
                return s.get_one(EResult, result.id).state in TERMINAL

        _wait(result_done, timeout)
        final = status()
        out_dir.mkdir(parents=True, exist_ok=True)
        outputs = []
        with services.catalogue.session() as s:
            for comp in s.get_one(Dossier, receipt.dossier_id).components:
                if comp.document is not None:
                    path = out_dir / f"{comp.ref}.pdf"
                    path.write_bytes(
                        services.store.get_bytes(
                            Bucket.DOCUMENTS, comp.document.object_key, sha256=comp.document.sha256
                        )
                    )
                    outputs.append(path)
            eresult = s.get_one(EResult, result.id)
            if eresult.object_key:
                path = out_dir / f"{eresult.code}.pdf"
                path.write_bytes(services.store.get_bytes(Bucket.RESULTS, eresult.object_key, sha256=eresult.sha256))
                outputs.append(path)
            result_state = eresult.state
        return DemoOutcome(receipt.dossier_code, final, result.code, result_state, outputs, pages, elapsed)
    finally:
        pool.stop()
        services.close()


def pdfsig_all_valid(output: str) -> bool:
    """Whether poppler's pdfsig found the document's signatures valid (at least one).

    Document time-stamps (the last revision of B-LTA e-results) are left out: poppler before 23.x
    cannot validate them (it prints "Signature Type: unknown" and never "Signature is Valid.").
    """
    blocks = output.split("Signature #")[1:]
    signatures = [b for b in blocks if "ETSI.RFC3161" not in b and "Signature Type: unknown" not in b]
    return bool(signatures) and all("Signature is Valid." in b for b in signatures)


def fresh_demo_settings(settings: Settings) -> Settings:
    """The demo runs in its own catalogue and object store, sharing the development PKI."""
    demo_dir = settings.var_dir / "demo"
    shutil.rmtree(demo_dir, ignore_errors=True)
    signing = settings.signing.model_copy(update={"pki_dir": settings.pki_dir})
    storage = settings.storage
    if storage.backend == "local":
        storage = storage.model_copy(update={"local_root": demo_dir / "objects"})
    return settings.model_copy(
        update={"var_dir": demo_dir, "signing": signing, "storage": storage, "database_url": None}
    )
