"""The ``sohoa`` command line. Command names and JSON shapes are a contract other tools call."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.agency_commands import register as register_agency_commands
from cli.centre_commands import register as register_centre_commands
from cli.notice_commands import register as register_notice_commands
from cli.officer_commands import register as register_officer_commands
from cli.search_command import search_command
from cli.stats_command import stats_command
from cli.storage_commands import register as register_storage_commands
from sohoa.logging_setup import setup_logging
from sohoa.settings import Settings, get_settings, local_url

if TYPE_CHECKING:
    from signing.signers import PadesLevel
    from signing.validation import Lang
    from sohoa.errors import SohoaError
    from storage.catalogue.clients import StationLimits


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.option("--log-json", is_flag=True, envvar="SOHOA_LOG_JSON", help="JSON log lines (with dossier and step ids).")
@click.version_option(package_name="sohoa")
def main(verbose: bool, log_json: bool) -> None:
    """sohoa: số hóa hồ sơ và kết quả điện tử (digitisation and e-results)."""
    setup_logging(verbose=verbose, json_lines=log_json)


@main.command()
@click.option("--host", default=None, help="Bind address (default from settings: 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8000).")
@click.option("--sample/--no-sample", default=False, help="Ingest the bundled sample batch once the service is up.")
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=1,
    help="API processes on one port, each with its own socket (distributed mode only; the embedded pool runs in one).",
)
def serve(host: str | None, port: int | None, sample: bool, processes: int) -> None:
    """Run the service: API, citizen pages and (embedded mode) the worker pool."""
    import uvicorn

    from api.app import create_app
    from api.serving import uvicorn_options
    from dossiers.bootstrap import prepare
    from dossiers.services import Services
    from storage.objectstore.links import load_or_create_secret

    settings = _serve_settings(get_settings(), host, port)
    bind = uvicorn_options(settings)
    _log_addresses(settings)
    if processes == 1:
        uvicorn.run(create_app(settings, ingest_sample=sample), **bind)
        return
    if settings.workers.mode == "embedded" or sample:
        raise click.UsageError("--processes needs SOHOA_WORKERS__MODE=celery and no --sample")
    if not settings.api.rate_limit_redis_url:
        raise click.UsageError(
            "--processes needs SOHOA_API__RATE_LIMIT_REDIS_URL: each process would otherwise keep limits of its own, "
            "and a guesser would get as many tries at a citizen's lookup as there are processes"
        )
    # The API processes read their settings from the environment: give them the same address.
    os.environ.update(
        SOHOA_API__HOST=settings.api.host,
        SOHOA_API__PORT=str(settings.api.port),
        SOHOA_SIGNING__DEV_PKI_URL=str(settings.signing.dev_pki_url),
    )
    # Migrate (and make the dev PKI and the portal's key) here first, so the processes do not
    # race to do it: each one's own start-up then finds nothing left to do.
    services = Services(settings)
    try:
        prepare(services)
    finally:
        services.close()
    load_or_create_secret(settings.portal_secret_file)
    from api import processes as api_processes

    try:
        api_processes.run("api.app:create_app", processes=processes, **bind)
    except api_processes.ProcessesFailed as exc:
        raise click.ClickException(f"{exc}: the service is stopped (the process's own error is logged above)") from exc


def _log_addresses(settings: Settings) -> None:
    """Say where the service listens and which address its links and QR codes name (and when that is a guess)."""
    import logging

    api, log = settings.api, logging.getLogger("sohoa.serve")
    log.info("listening on %s; links and QR codes name %s", local_url(api.host, api.port), api.base_url)
    if api.public_base_url is None and api.host not in ("127.0.0.1", "::1", "localhost"):
        log.warning(
            "SOHOA_API__PUBLIC_BASE_URL is not set: QR codes and download links name %s, which only this host "
            "reaches; set it to the address citizens and agencies use",
            api.base_url,
        )
    if api.trusted_proxies:
        log.info("X-Forwarded-For and X-Forwarded-Proto are believed from %s", ", ".join(api.trusted_proxies))


def _serve_settings(settings: Settings, host: str | None, port: int | None) -> Settings:
    """The settings a service runs with: ``--host``/``--port`` are its api.host/api.port, and, as the
    development PKI's CRL/OCSP responder, it is where that PKI's certificates point (a PKI made
    elsewhere, e.g. by ``sohoa sign``, is re-issued with the same keys to name this address)."""
    changes = {name: value for name, value in (("host", host), ("port", port)) if value is not None}
    if changes:
        settings = settings.model_copy(update={"api": settings.api.model_copy(update=changes)})
    if not settings.signing.dev_pki_url:
        signing = settings.signing.model_copy(update={"dev_pki_url": settings.dev_pki_url})
        settings = settings.model_copy(update={"signing": signing})
    return settings


@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--url", default=None, help="Service URL (default: SOHOA_API__PUBLIC_BASE_URL, else http://<api host>:<api port>)."
)
@click.option(
    "--key", envvar="SOHOA_API_KEY", default=None, help="Station API key (default: var/dev-credentials.json)."
)
@click.option("--idempotency-key", default=None, help="Idempotency key for this batch.")
def ingest(path: Path, url: str | None, key: str | None, idempotency_key: str | None) -> None:
    """Push a batch (folder or zip with manifest.json), show progress until it finishes, print the summary."""
    from cli.station_client import push_and_follow

    settings = get_settings()
    key = key or _dev_key(settings, "station_key")
    _echo_status(push_and_follow(url or settings.api.base_url, key, path, idempotency_key))


def _dev_key(settings: Settings, which: str) -> str:
    """The development key of a role (``station_key``, ``officer_key``) when no --key was given."""
    creds = settings.var_dir / "dev-credentials.json"
    if not creds.exists():
        raise click.UsageError("no --key given and no var/dev-credentials.json (start the service once)")
    return str(json.loads(creds.read_text())[which])


@main.command()
@click.argument("code")
@click.argument("ref")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", default=None, help="Service URL (default: as for ingest).")
@click.option(
    "--key", envvar="SOHOA_API_KEY", default=None, help="Station API key (default: var/dev-credentials.json)."
)
@click.option("--idempotency-key", default=None, help="Idempotency key for this send.")
def resend(
    code: str, ref: str, files: tuple[Path, ...], url: str | None, key: str | None, idempotency_key: str | None
) -> None:
    """Send the scans of one failed component (REF) of dossier CODE again, show progress, print the summary."""
    from cli.station_client import resend_and_follow

    settings = get_settings()
    key = key or _dev_key(settings, "station_key")
    _echo_status(resend_and_follow(url or settings.api.base_url, key, code, ref, list(files), idempotency_key))


@main.command()
@click.argument("code")
@click.argument("ref")
@click.argument("document_id", type=click.IntRange(min=1))
@click.option("--url", default=None, help="Service URL (default: as for ingest).")
@click.option(
    "--key", envvar="SOHOA_API_KEY", default=None, help="Officer API key (default: var/dev-credentials.json)."
)
@click.option("--purpose", default="", help="Why the stored document is reused (kept in the audit log).")
def reuse(code: str, ref: str, document_id: int, url: str | None, key: str | None, purpose: str) -> None:
    """Complete component REF of dossier CODE by the applicant's stored document DOCUMENT_ID (no new scan)."""
    from cli.station_client import attach_stored

    settings = get_settings()
    key = key or _dev_key(settings, "officer_key")
    done = attach_stored(url or settings.api.base_url, key, code, ref, document_id, purpose)
    source = done["reused_from"]
    click.echo(
        f"Hồ sơ {code}, thành phần {ref}: {done['state']} (dùng lại giấy tờ {source['document_id']} "
        f"của hồ sơ {source['dossier_code']})"
    )


def _echo_status(status: dict[str, Any]) -> None:
    """A finished dossier's summary, one line per component; exit 3 unless it is done."""
    click.echo(f"Hồ sơ {status['dossier_code']}: {status['state']}")
    for comp in status["components"]:
        doc = comp.get("document") or {}
        err = comp.get("error") or {}
        detail = (
            f"{doc.get('type')} ({doc.get('confidence')}) {doc.get('download_url')}"
            if doc
            else f"{err.get('code')}: {err.get('message')}"
        )
        if comp.get("reused_from"):
            source = comp["reused_from"]
            detail = f"dùng lại giấy tờ {source['document_id']} {source.get('dossier_code', '')}".rstrip()
        click.echo(f"  {comp['ref']:<8} {comp['state']:<10} {detail}")
        review = comp.get("review") or {}
        if review.get("needs_review"):
            click.echo(f"  {'':<8} cần cán bộ kiểm tra:")
            for warning in review.get("warnings", []):
                click.echo(f"  {'':<10} - [{warning['code']}] {warning['message']}")
    sys.exit(0 if status["state"] == "done" else 3)


@main.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input line.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("sohoa-out"),
    show_default=True,
    help="Folder for the searchable PDFs.",
)
@click.option("--type", "declared_type", default=None, help="Declared component type, if known.")
@click.option("-j", "--jobs", type=int, default=None, help="Components in parallel (default: settings ocr.workers).")
def digitize(files: tuple[str, ...], as_json: bool, out_dir: Path, declared_type: str | None, jobs: int | None) -> None:
    """Digitise files without the service. Each FILE is one component (a multi-page TIFF or PDF is many
    pages); FILE1,FILE2 joins several scans into one component, in order."""
    from digitizer import digitize_batch
    from dossiers.services import Services

    settings = get_settings()
    options = Services(settings).digitize_options(declared_type)
    components = [(arg, [arg] if Path(arg).exists() else arg.split(",")) for arg in files]
    out_dir.mkdir(parents=True, exist_ok=True)
    results = digitize_batch(components, options, workers=jobs or settings.ocr.workers)
    for index, item in enumerate(results):
        line: dict[str, Any] = {"file": item.name, "ok": item.ok}
        if item.result is not None:
            pdf_path = out_dir / f"{index:04d}-{Path(components[index][1][0]).stem}.pdf"
            pdf_path.write_bytes(item.result.pdf)
            line |= item.result.to_dict() | {"pdf": str(pdf_path)}
        else:
            assert item.error is not None
            line["error"] = {"code": item.error.code, "message": item.error.message, "detail": item.error.detail}
        if as_json:
            click.echo(json.dumps(line, ensure_ascii=False))
        elif item.ok:
            click.echo(
                f"{item.name}: {line['type']} ({line['confidence']:.2f}), {len(line['pages'])} trang -> {line['pdf']}"
            )
            if line["needs_review"]:
                click.echo("  cần cán bộ kiểm tra:")
            for reason in line["reasons"] if line["needs_review"] else ():
                click.echo(f"  - [{reason['code']}] {reason['message']}")
        else:
            click.echo(f"{item.name}: LỖI {line['error']['code']}: {line['error']['message']}")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option("--level", type=click.Choice(["B-B", "B-T", "B-LT", "B-LTA"]), default="B-T", show_default=True)
@click.option("--key", "which", type=click.Choice(["agency", "operator"]), default="agency", show_default=True)
def sign(files: tuple[Path, ...], out_dir: Path, level: PadesLevel, which: str) -> None:
    """Sign PDF files with PAdES (one process, keys loaded once).

    Each signature is an incremental update: nothing the input shows or signs is rewritten (the
    operator's copy stamp is drawn in the signature's own update). A file that cannot be signed
    is reported with its code and the others are still signed; the exit status is 1 if any failed.
    """
    import logging
    from datetime import datetime

    from tqdm import tqdm

    from dossiers.services import Services
    from signing.signers import copy_stamp, in_blank_space, is_certified, sign_pdf
    from sohoa.errors import SohoaError
    from sohoa.files import write_atomic

    services = Services(get_settings())
    services.prepare()
    key = services.signing_key(which)
    timestamper = services.timestamper if level != "B-B" else None
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(f"Không tạo được thư mục kết quả {out_dir}: {exc.strerror}") from None
    failures = 0
    written: set[Path] = set()
    for path in tqdm(files, unit="pdf", disable=len(files) < 2, file=sys.stderr):
        target = out_dir / path.name
        if target.resolve() in written or target.resolve() == path.resolve():
            failures += 1
            why = "trùng tên với một tệp khác của lệnh này" if target.resolve() in written else "chính là tệp đầu vào"
            click.echo(f"{path}: LỖI OUTPUT_CONFLICT: tệp kết quả {target} {why}; chọn thư mục --out khác.", err=True)
            continue
        try:
            data = path.read_bytes()
            appearance = None
            if which == "operator":  # top-left as TT 01/2023 asks, in the first blank spot there
                appearance = in_blank_space(data, copy_stamp(key.subject_name, datetime.now().astimezone()))
            signed = sign_pdf(
                data,
                key,
                level=level,
                timestamper=timestamper,
                appearance=appearance,
                revocation=services.revocation,
            )
            write_atomic(target, signed)
            written.add(target.resolve())
            click.echo(f"{path} -> {target}")
            if appearance is not None and is_certified(data):
                click.echo(
                    f"{path}: LƯU Ý: tài liệu đã được chứng thực (DocMDP), chỉ cho phép ký chứ không cho thêm dấu hiển "
                    "thị; chữ ký được đặt ẩn.",
                    err=True,
                )
        except SohoaError as exc:
            failures += 1
            click.echo(f"{path}: LỖI {exc.code}: {exc.message_vi}", err=True)
        except OSError as exc:
            failures += 1
            click.echo(f"{path}: LỖI IO_ERROR: không đọc hoặc ghi được tệp ({exc.strerror}).", err=True)
        except Exception:  # a fault of ours on one file must not stop the others
            failures += 1
            logging.getLogger(__name__).exception("Signing %s failed", path)
            click.echo(f"{path}: LỖI SIGNING_FAILED: Ký số không thành công do lỗi nội bộ (xem nhật ký).", err=True)
    sys.exit(1 if failures else 0)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option(
    "--trust-root",
    "trust_roots",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Root certificate to trust (PEM or DER), repeatable. Default: SOHOA_SIGNING__TRUST_ROOTS, else the "
    "development PKI the service already has under its var/pki.",
)
@click.option(
    "--etsi-report",
    "etsi_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the ETSI TS 119 102-2 validation report (XML, every signature) to this file.",
)
def verify(file: Path, as_json: bool, lang: Lang, trust_roots: tuple[Path, ...], etsi_out: Path | None) -> None:
    """Validate the signatures of a PDF; exit 0 when valid, 1 when not, 2 when it cannot be validated.

    Never creates a PKI: it trusts the --trust-root files, else the configured trust roots, else
    the development root of a development PKI that already exists; with none of them it says so
    (TRUST_ROOTS_NOT_CONFIGURED, exit 2). The roots used are named on stderr.
    """
    from signing.validation import verify_pdf
    from sohoa.errors import SohoaError

    try:
        roots, source = (list(trust_roots), "--trust-root") if trust_roots else _configured_roots(lang)
        click.echo(_roots_line(roots, source, lang), err=True)
        pdf = file.read_bytes()
        report = verify_pdf(pdf, roots, lang=lang)
    except SohoaError as exc:
        click.echo(_verify_error(exc, as_json, lang))
        sys.exit(2)
    click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if as_json else report.render(lang))
    status = 0 if report.valid else 1 if report.verifiable else 2
    if etsi_out is not None and report.signatures and report.verifiable:
        status = max(status, _write_etsi_report(pdf, roots, etsi_out, lang))
    elif etsi_out is not None:
        vi, en = "Không ghi báo cáo ETSI: không có chữ ký nào được kiểm tra.", "No ETSI report: no signature validated."
        click.echo(_vi_en(lang, vi, en), err=True)
    sys.exit(status)


def _vi_en(lang: str, vi: str, en: str) -> str:
    return vi if lang == "vi" else en


def _configured_roots(lang: str) -> tuple[list[Path], str]:
    """The roots `sohoa verify` trusts without --trust-root, and where they come from; never generates a PKI.

    Services.trust_roots would generate a development PKI under ./var when none exists, and then
    every genuine document would be reported untrusted: so only an existing one is used here.
    """
    from signing.dev import existing_dev_pki
    from signing.errors import TrustRootsNotConfigured

    settings = get_settings()
    if settings.signing.trust_roots:
        return list(settings.signing.trust_roots), "SOHOA_SIGNING__TRUST_ROOTS"
    pki = None if settings.signing.production else existing_dev_pki(settings.pki_dir)
    if pki is None:
        raise TrustRootsNotConfigured(f"no signing.trust_roots and no development PKI in {settings.pki_dir}")
    vi, en = f"PKI phát triển ở {pki.directory}, chỉ để thử nghiệm", f"development PKI in {pki.directory}, testing only"
    return pki.trust_roots, _vi_en(lang, vi, en)


def _roots_line(roots: list[Path], source: str, lang: str) -> str:
    names = ", ".join(str(root) for root in roots)
    return _vi_en(lang, f"Chứng thư gốc được tin cậy: {names} ({source})", f"Trusted roots: {names} ({source})")


def _verify_error(exc: SohoaError, as_json: bool, lang: str) -> str:
    if as_json:
        return json.dumps({"valid": False, "error": exc.to_dict()}, ensure_ascii=False)
    return f"{_vi_en(lang, 'LỖI', 'ERROR')} {exc.code}: {_vi_en(lang, exc.message_vi, exc.message_en)}"


def _write_etsi_report(pdf: bytes, roots: list[Path], out: Path, lang: str) -> int:
    """Write the ETSI TS 119 102-2 report; the exit status it calls for (0, or 2 when it cannot be made)."""
    from signing.validation import etsi_report
    from sohoa.errors import SohoaError

    try:
        xml = etsi_report(pdf, roots)
    except SohoaError as exc:
        click.echo(_verify_error(exc, False, lang), err=True)
        return 2
    out.write_text(xml, encoding="utf-8")
    click.echo(_vi_en(lang, f"Báo cáo ETSI TS 119 102-2: {out}", f"ETSI TS 119 102-2 report: {out}"), err=True)
    return 0


@main.command(context_settings={"ignore_unknown_options": True})
@click.option("--queues", default=None, help="Queues this host serves (default: settings workers.queues).")
@click.option("--concurrency", type=int, default=None, help="Worker processes (default: CPU count).")
@click.option("--metrics-port", type=int, default=None, help="Serve Prometheus metrics of this worker on this port.")
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(queues: str | None, concurrency: int | None, metrics_port: int | None, celery_args: tuple[str, ...]) -> None:
    """Start a Celery worker for the given queues (distributed mode).

    Only hosts that hold signing keys should serve ``sign``; GPU hosts serve ``ocr`` with
    SOHOA_OCR__ENGINE=easyocr. Each worker process OCRs one page at a time unless
    SOHOA_OCR__WORKERS says otherwise: the processes already fill the cores.
    """
    os.environ.setdefault("SOHOA_OCR__WORKERS", "1")
    get_settings.cache_clear()
    settings = get_settings()
    if metrics_port is not None:
        import tempfile

        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="sohoa-metrics-"))
        from prometheus_client import CollectorRegistry, multiprocess, start_http_server

        from workers.job_metrics import register_disk_space

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        register_disk_space(settings, registry)  # this host's own work and temporary folders
        start_http_server(metrics_port, addr="127.0.0.1", registry=registry)
    from workers.celery_app import app

    argv = ["worker", "-Q", queues or ",".join(settings.workers.queues), "-E", "--loglevel", "INFO"]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    app.worker_main([*argv, *celery_args])


@main.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None, help="Where to write the PDFs.")
def demo(out_dir: Path | None) -> None:
    """Run the sample batch end to end and exit: prints the e-result code and pages/s."""
    import subprocess

    from tqdm import tqdm

    from cli.demo import fresh_demo_settings, pdfsig_all_valid, run_demo
    from dossiers.services import Services
    from signing.validation import verify_pdf

    settings = fresh_demo_settings(get_settings())
    out_dir = out_dir or settings.var_dir / "out"
    bar = tqdm(total=0, unit="thành phần", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    outcome = run_demo(settings, out_dir, progress=progress)
    bar.close()
    click.echo(f"Hồ sơ: {outcome.dossier_code} ({outcome.status['state']})")
    for comp in outcome.status["components"]:
        doc = comp.get("document") or {}
        click.echo(f"  {comp['ref']:<4} {comp['state']:<8} {doc.get('type', '')} {doc.get('confidence', '')}")
    click.echo(f"Mã kết quả điện tử: {outcome.result_code} ({outcome.result_state})")
    click.echo(f"Tốc độ: {outcome.pages} trang trong {outcome.seconds:.1f} s = {outcome.pages_per_second:.2f} trang/s")
    roots = Services(settings).trust_roots
    all_valid = outcome.status["state"] == "done" and outcome.result_state == "done"
    for path in outcome.outputs:
        report = verify_pdf(path.read_bytes(), roots)
        pdfsig = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout
        sig_ok = pdfsig_all_valid(pdfsig)
        all_valid &= report.valid and sig_ok
        click.echo(
            f"  {path}: sohoa verify {'hợp lệ' if report.valid else 'KHÔNG hợp lệ'}, "
            f"pdfsig {'hợp lệ' if sig_ok else 'KHÔNG hợp lệ'}"
        )
    sys.exit(0 if all_valid else 1)


@main.group()
def keys() -> None:
    """Manage API keys of stations, officers and agencies."""


def _limit_options(func: Callable[..., None]) -> Callable[..., None]:
    func = click.option("--max-batch-mb", type=click.FloatRange(min=0.001), default=None, help="Largest batch.")(func)
    func = click.option("--burst", type=click.IntRange(min=1), default=None, help="Batches allowed at once.")(func)
    func = click.option(
        "--batches-per-minute", type=click.FloatRange(min=0.001), default=None, help="Sustained batch rate."
    )(func)
    return func


def _limits(batches_per_minute: float | None, burst: int | None, max_batch_mb: float | None) -> StationLimits:
    from storage.catalogue.clients import StationLimits

    size = int(max_batch_mb * 1024 * 1024) if max_batch_mb else None
    return StationLimits(batches_per_minute, burst, size)


@keys.command("create")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["station", "officer", "agency"]), required=True)
@click.option("--agency-code", default=None)
@click.option("--centre", "centre_code", default=None, help="A station's centre (default: the default centre).")
@_limit_options
def keys_create(
    name: str,
    role: str,
    agency_code: str | None,
    centre_code: str | None,
    batches_per_minute: float | None,
    burst: int | None,
    max_batch_mb: float | None,
) -> None:
    """Create a key; it is printed once and only its hash is stored. Limits left out use the service default."""
    from dossiers.services import Services
    from storage.catalogue.clients import create_client
    from storage.catalogue.models import ClientRole

    services = Services(get_settings())
    services.prepare()
    limits = _limits(batches_per_minute, burst, max_batch_mb)
    centre_id = None
    if centre_code is not None:
        from dossiers.centres import centre_id_by_code

        centre_id = centre_id_by_code(services, centre_code)
    click.echo(create_client(services.catalogue, name, ClientRole(role), agency_code, limits, centre_id=centre_id))


@keys.command("limits")
@click.argument("prefix")
@_limit_options
def keys_limits(prefix: str, batches_per_minute: float | None, burst: int | None, max_batch_mb: float | None) -> None:
    """Set a station's own batch limits (options left out return to the service default)."""
    from dossiers.services import Services
    from storage.catalogue.clients import set_limits

    ok = set_limits(Services(get_settings()).catalogue, prefix, _limits(batches_per_minute, burst, max_batch_mb))
    click.echo("updated" if ok else "not found")
    sys.exit(0 if ok else 1)


@keys.command("list")
def keys_list() -> None:
    from dossiers.services import Services
    from storage.catalogue.clients import list_clients

    for row in list_clients(Services(get_settings()).catalogue):
        click.echo(json.dumps(row, ensure_ascii=False))


@keys.command("revoke")
@click.argument("prefix")
def keys_revoke(prefix: str) -> None:
    from dossiers.services import Services
    from storage.catalogue.clients import revoke_client

    ok = revoke_client(Services(get_settings()).catalogue, prefix)
    click.echo("revoked" if ok else "not found or already revoked")
    sys.exit(0 if ok else 1)


@main.command()
def migrate() -> None:
    """Apply catalogue migrations (and create the development PKI if no keys are configured)."""
    from dossiers.bootstrap import prepare
    from dossiers.services import Services

    prepare(Services(get_settings()))
    click.echo("ok")


@main.group()
def classifier() -> None:
    """The document-type model: retrain it from officers' corrections."""


@classifier.command("retrain")
@click.option("--min-corrections", type=int, default=None, help="Corrected texts needed at least (default: settings).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object with the figures.")
def classifier_retrain(min_corrections: int | None, as_json: bool) -> None:
    """Retrain from the corrected types; keep the new model only if its macro-F1 is no worse (exit 1 if refused)."""
    from dossiers.bootstrap import prepare
    from dossiers.retrain import retrain_from_corrections
    from dossiers.services import Services

    settings = get_settings()
    services = Services(settings)
    prepare(services)
    report = retrain_from_corrections(
        services,
        min_corrections=min_corrections or settings.workers.retrain_min_corrections,
        actor=f"cli:{os.environ.get('USER', 'operator')}",
        progress=lambda msg: click.echo(f"… {msg}", err=True),
    )
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        if report.before:
            b, a = report.before, report.after
            click.echo(f"held-out texts: {b['texts']} ({report.held_out} of them corrected texts held out)")
            click.echo(f"before (active model): macro-F1 {b['macro_f1']:.4f}, accuracy {b['accuracy']:.4f}")
            click.echo(f"after  (new model):    macro-F1 {a['macro_f1']:.4f}, accuracy {a['accuracy']:.4f}")
        if report.status == "accepted":
            click.echo(f"accepted: trained on {report.trained} corrected texts; active model {report.model_path}")
        elif report.status == "refused":
            click.echo(f"refused: {report.reason}")
        else:
            click.echo(f"skipped: {report.reason}")
    sys.exit(1 if report.status == "refused" else 0)


register_storage_commands(main)
main.add_command(search_command)
main.add_command(stats_command)
register_officer_commands(main)
register_centre_commands(main, keys)
register_agency_commands(main)
register_notice_commands(main)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
