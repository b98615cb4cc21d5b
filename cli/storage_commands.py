"""Warehouse commands for the ``sohoa`` CLI: ``scrub``, ``audit verify|show|anchor`` and ``lifecycle sweep``.

Register with ``cli.storage_commands.register(main)``. ``scrub`` and ``audit verify`` exit 1 when
they find a problem, so they can run from cron or CI; ``--json`` prints one JSON object.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from cli.common import day_option
from sohoa.settings import get_settings

if TYPE_CHECKING:
    from dossiers.services import Services
    from storage.catalogue.db import Catalogue


def _catalogue() -> Catalogue:
    from storage.catalogue.db import Catalogue, migrate

    settings = get_settings()
    migrate(settings.db_url)
    return Catalogue(settings.db_url)


@click.command("scrub")
@click.option("--repair/--no-repair", default=False, help="Finalise interrupted uploads, restore, remove stale temps.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def scrub_command(repair: bool, as_json: bool) -> None:
    """Re-hash stored objects against the catalogue; report missing or tampered ones."""
    from storage.objectstore import open_object_store
    from storage.warehouse.scrub import scrub

    catalogue = _catalogue()
    try:
        report = scrub(catalogue, open_object_store(get_settings()), repair=repair)
    finally:
        catalogue.dispose()
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        click.echo(f"Đã kiểm tra {report.checked} đối tượng: {report.ok} nguyên vẹn, {report.expired} hết hạn lưu giữ.")
        for label, items in (
            ("Thiếu", report.missing),
            ("Bị thay đổi", report.tampered),
            ("Đã khôi phục", report.repaired),
            ("Tải lên dở dang", report.pending),
            ("Đã hoàn tất", report.finalised),
            ("Đã hủy", report.dropped),
            ("Tệp tạm cũ", report.stale_temp),
        ):
            for item in items:
                click.echo(f"  {label}: {item}")
    sys.exit(0 if report.clean else 1)


@click.group("audit")
def audit_group() -> None:
    """Access audit log of the warehouse."""


def _audit_services() -> Services:
    from dossiers.services import Services

    services = Services(get_settings())
    services.prepare()
    return services


@audit_group.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def audit_verify(as_json: bool) -> None:
    """Check the hash chain of the audit log and its time-stamped anchors: detects edited, removed or
    rewritten entries. Exit 1 on any problem."""
    from dossiers.audit_anchors import verify_for

    services = _audit_services()
    try:
        report = verify_for(services)
    finally:
        services.close()
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        click.echo(report.message)
        for problem in report.problems:
            click.echo(f"  - {problem.message}")
    sys.exit(0 if report.ok else 1)


@audit_group.command("anchor")
@click.option("--force", is_flag=True, help="Anchor again today (when the head moved since the last anchor).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def audit_anchor(force: bool, as_json: bool) -> None:
    """Time-stamp the audit log's head (RFC 3161) and keep the token in the locked results bucket."""
    from dossiers.audit_anchors import anchor_for

    services = _audit_services()
    try:
        done = anchor_for(services, force=force)
    finally:
        services.close()
    if as_json:
        click.echo(json.dumps({**done.to_dict(), "message": done.message}, ensure_ascii=False))
    else:
        click.echo(done.message)


@audit_group.command("show")
@click.option("--owner", help="Số định danh: entries about this citizen's documents, dossiers and results.")
@click.option("--actor", help="Who acted, as logged (officer:<username>, agency:<code>, citizen, ...).")
@click.option("--action", help="Action code (get, search, request, presign, issue_result, ...).")
@click.option("--from", "date_from", help="First day (YYYY-MM-DD, Vietnam time).")
@click.option("--to", "date_to", help="Last day, included (YYYY-MM-DD).")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def audit_show(
    owner: str | None,
    actor: str | None,
    action: str | None,
    date_from: str | None,
    date_to: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Entries of the access audit log, newest first, filtered (this look is itself audited)."""
    from dossiers.audit_trail import TrailFilter, TrailFilterInvalid, check_filter, read_trail, record_view
    from signing.vntime import to_vn

    try:
        wanted = check_filter(
            TrailFilter(owner, actor, action, day_option(date_from, "--from"), day_option(date_to, "--to"))
        )
    except TrailFilterInvalid as exc:
        raise click.BadParameter(exc.message_vi) from None
    catalogue = _catalogue()
    try:
        trail = read_trail(catalogue, wanted, size=limit)
        record_view(catalogue, wanted, actor="operator", shown=len(trail.entries))
    finally:
        catalogue.dispose()
    if as_json:
        click.echo(json.dumps(trail.to_dict(), ensure_ascii=False))
        return
    if not trail.entries:
        click.echo("Không có bản ghi nào khớp điều kiện.")
        return
    for e in trail.entries:
        when = to_vn(e.at).strftime("%d/%m/%Y %H:%M:%S")
        purpose = f" — {e.purpose}" if e.purpose else ""
        click.echo(f"#{e.seq} {when}  {e.actor}  {e.action_vi} [{e.subject}]{purpose} → {e.outcome_vi}")
    if trail.has_more:
        click.echo("(còn bản ghi cũ hơn: tăng --limit hoặc thu hẹp điều kiện)")


@click.group("lifecycle")
def lifecycle_group() -> None:
    """Retention of raw scans."""


@lifecycle_group.command("sweep")
@click.option(
    "--days", type=click.IntRange(min=1), default=None, help="Expiry in days (default: the configured raw expiry)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def lifecycle_sweep(days: int | None, as_json: bool) -> None:
    """Delete raw scans older than their expiry (for the local store: S3 buckets expire them by rule)."""
    from storage.catalogue.db import Catalogue
    from storage.objectstore import open_object_store
    from storage.warehouse import Warehouse
    from storage.warehouse.lifecycle import sweep_expired

    settings = get_settings()
    warehouse = Warehouse(Catalogue(settings.db_url), open_object_store(settings))
    expiry = days or warehouse.store.policy.raw_expiry_days
    removed = sweep_expired(warehouse, days=expiry)
    if as_json:
        click.echo(json.dumps({"expiry_days": expiry, "removed": removed}, ensure_ascii=False))
    else:
        click.echo(f"Đã xóa {len(removed)} bản quét gốc quá {expiry} ngày lưu giữ.")


def register(group: click.Group) -> None:
    group.add_command(scrub_command)
    group.add_command(audit_group)
    group.add_command(lifecycle_group)
